"""Helpers shared by the test suites: a real server process on a free port."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from mockserver.testing.server import running_server as _running_server

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
TOKEN = "test-token"


def running_server(
    fixture: str | Path | None = None, *extra: str, timeout: float = 60
) -> AbstractContextManager[str]:
    """Start `mockserver serve --port 0` as its own process and yield its base URL."""
    return _running_server(fixture, extra, timeout)
