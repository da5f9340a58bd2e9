"""Where the ordered log of changes is kept: a JSON-lines file, shared by the processes that
serve one world, or a process's own temporary file.

The log owns durability, as Redis's append-only file does: a change is appended whole before
it is applied (or not at all: a failed or short write is cut back off), a torn last line (a
writer killed mid-line, never acknowledged) is cut off under the lock, and the file is read
as a stream, never whole. The interface is small on purpose (lock, read what others appended,
append, export) so that a store shared by replicas on several machines can stand in for it.
A process learns that others wrote to the file from its size: one `fstat`. The interface's
reads and writes are coroutines, so that a store reached over the network holds up only the
requests that wait for it; a file's system calls are made at once, never suspending.

Durability levels (`fsync`): "no" (the default) writes each change to the operating system
before it is acknowledged, so it survives the process being killed at any instant; "batch"
also flushes the file to the disk before answering, one flush for all the changes waiting for
it (group commit); "always" flushes after every change, before the next is taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import tempfile
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Protocol

from mockserver.world.changes import Change, ChangeError
from mockserver.world.snapshot import TAIL, Mark, tail_digest

FSYNC = ("no", "batch", "always")
CHUNK = 1 << 20  # bytes read at a time, replaying or exporting

log = logging.getLogger("mockserver")


class LogError(Exception):
    """A log file that cannot be read or holds a line that is not a change."""


class LogWriteError(Exception):
    """A change that could not be written: nothing of it is in the log (the reason is the text)."""


class LogConflict(Exception):
    """Another process appended a change first, where appends compare rather than lock: read
    what it appended and resolve the change again."""


class ChangeLog(Protocol):
    shared: bool  # whether other processes append to it while this one serves
    # Whether, once the lock is held, a change is resolved against the world as last read,
    # without reading on first: appends that compare say (LogConflict) whether another came
    # first, and no writer the lock holds off has appended since this process last read.
    compares: bool
    # Awaited before a change is acknowledged, where the log flushes in groups; else None.
    durable: Callable[[], Awaitable[None]] | None

    async def fresh(self) -> bool:
        """Whether this process has read every change in it."""
        ...

    def locked(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Held while a change is checked and appended: no other process's writer comes in
        between (the timeline keeps the writers of its own process apart)."""
        ...

    def unread(self) -> AsyncIterator[Change]:
        """Changes appended by other processes since this one last read, in order, read as a
        stream: each is counted as read once it is taken."""
        ...

    async def append(self, line: bytes) -> None:
        """Write one change's line whole, under the lock, after every change there is read;
        LogWriteError, with nothing written, if it cannot be; LogConflict, with nothing
        written, if another process appended first (a log whose lock is not exclusive)."""
        ...

    async def retract(self) -> None:
        """Take the change just appended back out, under the lock: one this process could not
        apply, never acknowledged."""
        ...

    def export(self) -> AsyncIterator[bytes]:
        """Every change this process has read or appended, in order, one JSON line each, in
        chunks."""
        ...

    def trouble(self) -> str | None:
        """Why the log cannot be reached now (health reports it); None when it can."""
        ...

    async def touch(self) -> bool:
        """A request is served from the log's world: keep it from expiring. False if the world
        this process holds may be of a log that expired meanwhile: it is read anew."""
        ...

    def close(self) -> None: ...


class FileLog:
    """A JSON-lines file of changes, shared by every process that opens it; without a path,
    a temporary file of this process's own (unlinked at once, closed with the log)."""

    compares = False

    def __init__(self, path: str | Path | None = None, shared: bool = False, fsync: str = "no") -> None:
        self.shared = shared
        self._always = fsync == "always"
        self._batch = fsync == "batch"
        self._group: GroupCommit | None = None
        self.durable: Callable[[], Awaitable[None]] | None = None
        if path is None:
            fd, self.path = tempfile.mkstemp(prefix="mockserver-changes-", suffix=".jsonl")
            os.unlink(self.path)
            # Appends only, as a shared file's: a write after one cut back lands at the end.
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
        else:
            self.path = str(path)
            fd = self._open()
        self._adopt(fd)
        self._offset = 0  # the end of the last line read or appended
        self._line = 0
        self._last = 0  # the length of the line appended last
        with self._held():
            self._repair(os.fstat(self._fd).st_size)

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise LogError(f"{self.path}: cannot be opened ({exc.strerror})") from None

    def _adopt(self, fd: int) -> None:
        """Take `fd` as the file's descriptor: closed with the log, flushed by its group commit."""
        self._fd = fd
        self._closing = weakref.finalize(self, os.close, fd)
        if self._batch:
            self._group = GroupCommit(fd)
            self.durable = self._group.wait

    def reopen(self) -> None:
        """A descriptor of this process's own, after a fork: a lock is held per open file."""
        self._closing.detach()
        os.close(self._fd)
        self._adopt(self._open())

    async def fresh(self) -> bool:
        """Whether every change in the file has been read: one `fstat`, cheap per request."""
        return os.fstat(self._fd).st_size == self._offset

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Taken as the file's lock is, waiting for another process's writer: a file's reads
        and appends never suspend, so no writer of this process holds it while another runs."""
        with self._held():
            yield

    @contextlib.contextmanager
    def _held(self) -> Iterator[None]:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    async def unread(self) -> AsyncIterator[Change]:
        want = CHUNK
        while True:
            size = os.fstat(self._fd).st_size
            if size <= self._offset:
                return
            data = os.pread(self._fd, min(want, size - self._offset), self._offset)
            end = data.rfind(b"\n") + 1
            if not end:  # a line longer than what was read, or one still being written
                if len(data) >= size - self._offset:
                    return
                want *= 2
                continue
            want = CHUNK
            start = 0
            while start < end:
                stop = data.index(b"\n", start) + 1
                line = data[start : stop - 1]
                self._line += 1
                self._offset += stop - start
                start = stop
                if line.strip():
                    yield self._parse(line)

    def _parse(self, line: bytes) -> Change:
        try:
            return Change.from_line(line)
        except ChangeError as exc:
            raise LogError(f"{self.path}, line {self._line}: {exc}") from None

    def _repair(self, size: int) -> None:
        """Cut off a torn last line: bytes after the last newline that a writer killed mid-line
        left, never acknowledged. Under the lock, so that no writer is still at it."""
        if size <= self._offset or os.pread(self._fd, 1, size - 1) == b"\n":
            return
        keep, position = self._offset, size
        while position > self._offset:
            begin = max(self._offset, position - CHUNK)
            found = os.pread(self._fd, position - begin, begin).rfind(b"\n")
            if found >= 0:
                keep = begin + found + 1
                break
            position = begin
        os.ftruncate(self._fd, keep)
        log.warning("%s: cut off a torn last line (%d bytes), never acknowledged", self.path, size - keep)

    async def append(self, line: bytes) -> None:
        line += b"\n"
        size = os.fstat(self._fd).st_size
        if size != self._offset:
            if size < self._offset:
                raise LogWriteError(f"{self.path} is shorter than what was read from it")
            self._repair(size)  # no other writer holds the lock: what is left is torn
        written = 0
        try:
            while written < len(line):
                count = os.write(self._fd, line[written:] if written else line)
                if count <= 0:
                    raise OSError(0, "the file takes no more bytes")
                written += count
            if self._always:
                os.fdatasync(self._fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._offset)
            raise LogWriteError(exc.strerror or str(exc)) from None
        self._offset += len(line)
        self._line += 1
        self._last = len(line)
        if self._group is not None:
            self._group.appended += 1

    async def retract(self) -> None:
        self._offset -= self._last
        self._line -= 1
        os.ftruncate(self._fd, self._offset)

    @property
    def offset(self) -> int:
        """The end of the last line this process read or appended."""
        return self._offset

    def mark(self) -> Mark:
        """Where this process stands in the file, for a snapshot of its world."""
        return Mark(self._offset, self._line, self._tail_before(self._offset))

    def resume(self, mark: Mark) -> bool:
        """Read on from `mark` (a snapshot's world has every change before it), if the file
        holds there what it held when the mark was taken."""
        if self._tail_before(mark.offset) != mark.last:
            return False
        self._offset, self._line = mark.offset, mark.lines
        return True

    def _tail_before(self, offset: int) -> str | None:
        """The digest of the TAIL bytes before `offset` (None: the file is shorter)."""
        start = offset - min(TAIL, offset)
        tail = os.pread(self._fd, offset - start, start)
        return tail_digest(tail) if len(tail) == offset - start else None

    async def export(self) -> AsyncIterator[bytes]:
        position = 0
        while position < self._offset:
            chunk = os.pread(self._fd, min(CHUNK, self._offset - position), position)
            if not chunk:
                return
            position += len(chunk)
            yield chunk

    def trouble(self) -> str | None:
        return None  # a file that opened stays reachable: a failed write is refused on its own

    async def touch(self) -> bool:
        return True  # a file is kept as long as its server (or for good): it never expires

    def close(self) -> None:
        self._closing()


class GroupCommit:
    """Flushes a file to the disk for every change waiting on it at once, off the event loop:
    changes appended while a flush runs wait for the next one."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._flush: asyncio.Future[None] | None = None
        self.appended = 0  # changes written to the file
        self._flushed = 0  # of those, the ones a finished flush covered

    async def wait(self) -> None:
        """Return once every change appended so far is on the disk."""
        target = self.appended
        while self._flushed < target:
            if self._flush is None:
                self._flush = asyncio.ensure_future(self._run())
            await asyncio.shield(self._flush)

    async def _run(self) -> None:
        covered = self.appended
        try:
            await asyncio.get_running_loop().run_in_executor(None, os.fdatasync, self._fd)
        except OSError as exc:
            raise LogWriteError(exc.strerror or str(exc)) from None
        finally:
            self._flush = None
        self._flushed = covered
