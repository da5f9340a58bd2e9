"""The files the workers of one server share beside a world's log (the journal, the fault
counters, the webhook deliveries to make): where each lies, and its lock.

A lock belongs to an open file, which a fork shares, so each process opens the file for itself
on its first use."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from mockserver.world.log import ChangeLog, FileLog


def beside(log: ChangeLog, directory: Path | None, name: str) -> Path | None:
    """The file `name` of the world whose changes `log` keeps, in `directory` (the server's
    own): None unless the log is a file its workers share."""
    if isinstance(log, FileLog) and log.shared and directory is not None:
        return directory / f"{hashlib.sha256(log.path.encode()).hexdigest()[:16]}.{name}"
    return None


class LockedFile:
    """A file every process of a server opens for itself and changes under its lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd, self._pid = -1, 0

    @contextlib.contextmanager
    def held(self) -> Iterator[int]:
        """The file's descriptor, while this process holds the lock (OSError if it cannot)."""
        if self._pid != os.getpid():
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield self._fd
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
