"""Writers taking turns: within a process, on its event loop (an asyncio lock, which belongs
to one loop, as a client's connections do: `PerLoop`); between the workers of one server,
through a lock file."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Generic, TypeVar

_SEQ = struct.Struct("<q")
T = TypeVar("T")


class PerLoop(Generic[T]):
    """What `make` makes, one of it for whichever event loop runs: a process forked from one
    that served, or a start that read the log first, runs a loop of its own."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._of: tuple[asyncio.AbstractEventLoop, T] | None = None

    def __call__(self) -> T:
        loop = asyncio.get_running_loop()
        if self._of is None or self._of[0] is not loop:
            self._of = (loop, self._make())
        return self._of[1]

    def drop(self) -> tuple[asyncio.AbstractEventLoop, T] | None:
        """Forget what was made last, and return it with its loop: the next call makes anew."""
        dropped, self._of = self._of, None
        return dropped


class Turn:
    """The turn of one process among the workers of a server to write one world: the writers
    of this process wait on the event loop, then the process takes the lock file. One per
    process and file, however many of its worlds' logs name it (a token's world read again
    while its old self finishes a write), so that no writer of the process blocks the event
    loop on a lock another of its writers holds across an await. The file holds the last
    change a worker appended: a worker that has read up to it has nothing to read first."""

    def __init__(self, path: Path) -> None:
        self.pid = os.getpid()
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.users = 0  # the logs that name it: closed with the last
        self._writers = PerLoop(asyncio.Lock)

    def last(self) -> int:
        """The seq of the change a worker of the server appended last (0: none yet), as the
        turn is held."""
        data = os.pread(self.fd, _SEQ.size, 0)
        return _SEQ.unpack(data)[0] if len(data) == _SEQ.size else 0

    def appended(self, seq: int) -> None:
        """Say, as the turn is held, that this process appended change `seq`."""
        os.pwrite(self.fd, _SEQ.pack(seq), 0)

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        async with self._writers():
            fcntl.flock(self.fd, fcntl.LOCK_EX)  # waits only for another process's writer
            try:
                yield
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)


class Turns:
    """The turns of one server's processes, by file name, in `directory` (the server's own)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._open: dict[str, Turn] = {}

    def take(self, name: str) -> Turn:
        """The turn of `name` in this process, counted as used until it is let go."""
        turn = self._open.get(name)
        if turn is None or turn.pid != os.getpid():  # a fork's is its parent's opening
            turn = self._open[name] = Turn(self.directory / f"{name}.turn")
        turn.users += 1
        return turn

    def let_go(self, name: str, turn: Turn) -> None:
        """One log of this process no longer names it; closed with the last, by the process
        that opened it."""
        turn.users -= 1
        if turn.users == 0 and turn.pid == os.getpid():
            os.close(turn.fd)
            if self._open.get(name) is turn:
                del self._open[name]
