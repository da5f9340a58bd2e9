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


BINARIES = ("chromium", "chromedriver")


def _missing() -> str | None:
    """What is missing of Chromium and its ChromeDriver, said with how to install it; None if nothing."""
    missing = [name for name in BINARIES if shutil.which(name) is None]
    if not missing:
        return None
    return f"{' and '.join(missing)} not installed: `{INSTALL}` to run the inspector's browser tests"


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without Chromium on a developer's box the browser tests are skipped, by a mark so that
    pytest reports them in one line with how to install it. Under CI (`CI=true`, as `.ci/run`
    and most CI services set) they run, and fail, so a pipeline cannot lose them silently."""
    missing = _missing()
    if missing is None or _under_ci():
        return
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    missing = _missing()
    if missing is not None:  # under CI only: elsewhere the test was skipped
        pytest.fail(missing)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()
