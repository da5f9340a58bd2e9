"""Where the ordered log of changes is kept: in memory, or in a JSON-lines file that several
processes share.

The interface is small on purpose (lock, read what others appended, append) so that a store
shared by replicas on several machines can stand in for the file later. A file-backed log
is append-only; a process learns that others wrote to it from the file's size, one `fstat`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from mockserver.world.changes import Change, ChangeError


class LogError(Exception):
    """A log file that cannot be read or holds a line that is not a change."""


class ChangeLog(Protocol):
    shared: bool  # whether other processes append to it while this one serves

    def fresh(self) -> bool:
        """Whether this process has read every change in it."""
        ...

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Held while a change is checked and appended: no other writer comes in between."""
        ...

    def unread(self) -> list[Change]:
        """Changes appended by other processes since this one last read, in order."""
        ...

    def append(self, change: Change) -> None: ...

    def export(self) -> bytes:
        """Every change this process has read or appended, in order, one JSON line each."""
        ...

    def close(self) -> None: ...


class MemoryLog:
    """One process's log: nobody else appends, so there is never anything unread. Its lines
    are spooled to a temporary file, not kept in memory: usage arrives by the million."""

    shared = False

    def __init__(self) -> None:
        self._spool: int | None = None  # an unlinked temporary file's descriptor, once written
        self._closing: weakref.finalize | None = None  # closes it, at the latest with the log
        self._size = 0

    def fresh(self) -> bool:
        return True

    def locked(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def unread(self) -> list[Change]:
        return []

    def append(self, change: Change) -> None:
        if self._spool is None:
            self._spool, path = tempfile.mkstemp(prefix="mockserver-changes-", suffix=".jsonl")
            os.unlink(path)
            self._closing = weakref.finalize(self, os.close, self._spool)
        line = change.line() + b"\n"
        os.write(self._spool, line)
        self._size += len(line)

    def export(self) -> bytes:
        return b"" if self._spool is None else os.pread(self._spool, self._size, 0)

    def close(self) -> None:
        if self._closing is not None:
            self._closing()
            self._spool = self._closing = None


class FileLog:
    """A JSON-lines file of changes, shared by every process that opens it."""

    def __init__(self, path: str | Path, shared: bool = False) -> None:
        self.path = str(path)
        self.shared = shared  # whether other processes append to it while this one serves
        self._fd = self._open()
        self._offset = 0
        self._line = 0

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise LogError(f"{self.path}: cannot be opened ({exc.strerror})") from None

    def reopen(self) -> None:
        """A descriptor of this process's own, after a fork: a lock is held per open file."""
        os.close(self._fd)
        self._fd = self._open()

    def fresh(self) -> bool:
        """Whether every change in the file has been read: one `fstat`, cheap per request."""
        return os.fstat(self._fd).st_size == self._offset

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def unread(self) -> list[Change]:
        if self.fresh():
            return []
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size - self._offset, self._offset)
        end = data.rfind(b"\n") + 1  # a line still being written is read next time
        changes = []
        for line in data[:end].splitlines():
            self._line += 1
            if not line.strip():
                continue
            try:
                changes.append(Change.from_line(line))
            except ChangeError as exc:
                raise LogError(f"{self.path}, line {self._line}: {exc}") from None
        self._offset += end
        return changes

    def append(self, change: Change) -> None:
        line = change.line() + b"\n"
        os.write(self._fd, line)
        self._offset += len(line)
        self._line += 1

    def export(self) -> bytes:
        return os.pread(self._fd, self._offset, 0)

    def close(self) -> None:
        os.close(self._fd)
