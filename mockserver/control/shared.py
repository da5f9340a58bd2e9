"""Where the lists of a world served by several processes are kept, each by its name: the
journal (every process's requests, so that `GET /_mock/requests` on any of them lists what all
of them served and `DELETE` clears it for all) and the webhook deliveries (every process's
attempts, listed by `GET /_mock/webhooks/deliveries` on any of them). A list is bounded and
numbered in one sequence.

Each process records into its own ring (cheap) and publishes what it recorded every tick
(0.1 s) and before it reads or clears the shared list. A clear drops what other processes
publish afterwards of what started before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson

from mockserver.world.beside import LockedFile, beside
from mockserver.world.log import ChangeLog
from mockserver.world.redislog import KEEP, RedisLog

Document = dict[str, Any]
Recorded = list[tuple[float, Document]]  # documents, each with when what it records started

log = logging.getLogger("mockserver")


class StoreError(Exception):
    """A shared list cannot be reached now (the text says why)."""


class SharedList(Protocol):
    async def add(self, recorded: Sequence[tuple[float, Document]]) -> None:
        """Number and keep documents (each with when what it records started), but those
        started before the last clear; the oldest fall out past the bound."""
        ...

    async def latest(self) -> list[Document]:
        """Every document kept, oldest first, each with its `seq`."""
        ...

    async def clear(self) -> int:
        """Forget every document (the sequence goes on); how many there were."""
        ...


class FileList:
    """A list of one server's workers: documents appended to a file of JSON lines, and beside
    it a small file (locked while either changes) of the sequence, the time of the last clear
    and the lines the list holds; past twice the bound, it is rewritten to the last `size`."""

    def __init__(self, path: Path, size: int) -> None:
        self.path, self.size = path, size
        self.head = LockedFile(path.with_name(path.name + ".head"))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Document]:
        """The head, under the lock; written back as the block leaves it."""
        try:
            with self.head.held() as fd:
                data = os.pread(fd, 4096, 0)
                head = orjson.loads(data) if data else {"seq": 0, "cleared": 0.0, "lines": 0}
                yield head
                os.ftruncate(fd, 0)
                os.pwrite(fd, orjson.dumps(head), 0)
        except OSError as exc:
            raise StoreError(f"{exc.filename or self.path}: {exc.strerror}") from None

    def _lines(self) -> list[bytes]:
        try:
            return self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return []

    async def add(self, recorded: Sequence[tuple[float, Document]]) -> None:
        with self._locked() as head:
            lines = []
            for started, document in recorded:
                if started >= head["cleared"]:
                    head["seq"] += 1
                    lines.append(orjson.dumps({**document, "seq": head["seq"]}) + b"\n")
            with self.path.open("ab") as out:
                out.write(b"".join(lines))
            head["lines"] += len(lines)
            if head["lines"] > 2 * self.size:
                kept = self._lines()[-self.size :]
                self.path.write_bytes(b"".join(line + b"\n" for line in kept))
                head["lines"] = len(kept)

    async def latest(self) -> list[Document]:
        with self._locked():
            return [orjson.loads(line) for line in self._lines()[-self.size :]]

    async def clear(self) -> int:
        with self._locked() as head:
            count = min(head["lines"], self.size)
            self.path.write_bytes(b"")
            head.update(cleared=time.time(), lines=0)
            return count


# KEYS: the stream, the sequence, the time of the last clear, then the world's keys to keep;
# ARGV[1] the bound, ARGV[2] their TTL in ms, then pairs of a request's start and its document.
_ADD = (
    KEEP
    + """
local cleared = tonumber(redis.call('GET', KEYS[3]) or '0')
for i = 3, #ARGV, 2 do
  if tonumber(ARGV[i]) >= cleared then
    local seq = redis.call('INCR', KEYS[2])
    redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], seq .. '-1', 'd', ARGV[i + 1])
  end
end
keep(ARGV[2], 4)
return 0
"""
)
# KEYS: the stream, the time of the last clear, then the keys to keep; ARGV[1] now, ARGV[2] TTL.
_CLEAR = (
    KEEP
    + """
local count = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1])
keep(ARGV[2], 3)
return count
"""
)


class RedisList:
    """A list of the servers sharing a Redis log: a capped stream beside the changes, named
    `name`, each entry's id its seq."""

    def __init__(self, log: RedisLog, name: str, size: int) -> None:
        self.redis, self.size, self.log, self.name = log.redis, size, log, name
        self.keys = [log.key(name), log.key(f"{name}:seq"), log.key(f"{name}:cleared")]
        self._add = self.redis.script(_ADD)
        self._clear = self.redis.script(_CLEAR)

    @contextlib.contextmanager
    def _reached(self) -> Iterator[None]:
        try:
            yield
        except self.redis.errors as exc:
            raise StoreError(
                f"the {self.name} list is kept in {self.redis.url}, unreachable ({exc})"
            ) from None

    async def add(self, recorded: Sequence[tuple[float, Document]]) -> None:
        args: list[Any] = [self.size, self.log.keep_ms]
        for started, document in recorded:
            args += [repr(started), orjson.dumps(document)]
        with self._reached():
            await self.redis.run(self._add, [*self.keys, *self.log.kept], args)

    async def latest(self) -> list[Document]:
        with self._reached():
            entries = await self.redis.read(lambda client: client.xrange(self.keys[0]))
        found = []
        for entry, fields in entries:
            document = orjson.loads(fields[b"d"])
            document["seq"] = int(entry.partition(b"-")[0])
            found.append(document)
        return found

    async def clear(self) -> int:
        with self._reached():
            keys = [self.keys[0], self.keys[2], *self.log.kept]
            return int(await self.redis.run(self._clear, keys, [repr(time.time()), self.log.keep_ms]))


class Publisher:
    """Hands what one process recorded to a shared list, one hand-over at a time (a tick and a
    listing handing over together would hand the same documents twice); what the list cannot
    take now is kept for the next time."""

    def __init__(self, shared: SharedList, refused: str) -> None:
        """`refused`: what the warning says when the list cannot take them."""
        self.shared, self.refused = shared, refused
        self.handed = 0  # how far this process's records are handed over (a seq, a count)
        self._turn = asyncio.Lock()

    async def hand(self, unhanded: Callable[[int], tuple[int, Recorded]]) -> None:
        """Hand `unhanded(handed)`: how far the records go, and the documents past `handed`."""
        async with self._turn:
            upto, recorded = unhanded(self.handed)
            if not recorded:
                return
            try:
                await self.shared.add(recorded)
            except StoreError as exc:  # Redis unreachable: handed over once it answers
                log.warning("%s: %s", self.refused, exc)
                return
            self.handed = upto


def shared_list(log: ChangeLog, directory: Path | None, name: str, size: int) -> SharedList | None:
    """Where the list `name` (`journal`, `deliveries`) of the world whose changes `log` keeps
    is shared: beside its stream on Redis, in a file of `directory` for a log file its workers
    share; else nowhere (the process's own ring is the list)."""
    if isinstance(log, RedisLog):
        return RedisList(log, name, size)
    path = beside(log, directory, name)
    return None if path is None else FileList(path, size)
