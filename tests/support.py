"""Helpers shared by the test suites: a real server process on a free port."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO

from mockserver.testing.server import running_server as _running_server

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
TOKEN = "test-token"


def running_server(
    fixture: str | Path | None = None,
    *extra: str,
    timeout: float = 60,
    wait_for: str = "ready ",
    stderr: IO[bytes] | None = None,
) -> AbstractContextManager[str]:
    """Start `mockserver serve --port 0` as its own process and yield its base URL once it has
    printed `ready URL` (or, with `wait_for="listening "`, once it is bound and still loading);
    its standard error goes to `stderr` if given."""
    return _running_server(fixture, extra, timeout, wait_for, stderr)
