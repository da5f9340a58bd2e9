"""What `pip install .` puts in place: every package of the source tree, so that an installed
server (and the pytest plugin a test run loads from it) imports what a checkout does."""

from __future__ import annotations

import tomllib

from tests.support import ROOT


def test_every_package_of_the_tree_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"]) - set(config.get("package-dir", {}))
    found = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "mockserver").rglob("__init__.py")
    }
    assert listed == found
