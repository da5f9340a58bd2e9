"""A real headless Chromium (Debian's `chromium` and `chromium-driver`, which `.ci/run` installs)
for the browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

# As root in a container, without a GPU, and with none of the background traffic Chromium
# starts by default (this machine reaches no other host).
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1800",
)
INSTALL = "sudo apt-get install -y chromium chromium-driver"


def _browser_binaries() -> tuple[str, str]:
    """Chromium and its ChromeDriver. Missing on a developer's box, the test skips with how to
    install them; under CI (`CI=true`, as `.ci/run` and most CI services set) it fails instead,
    so a pipeline cannot lose the test silently."""
    found = {name: shutil.which(name) for name in ("chromium", "chromedriver")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        message = f"{' and '.join(missing)} not installed: `{INSTALL}` to run the inspector's browser test"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found["chromium"], found["chromedriver"]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    chromium, chromedriver = _browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()
