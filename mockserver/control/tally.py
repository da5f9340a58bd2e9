"""Where fault rules' counters are kept: the world's, not a process's.

A rule's counters (`matched`, `fired`) are counted wherever every process serving its world
counts them: in memory for a world one process serves, in a small file locked per count for
the workers of one server, in Redis for servers sharing a Redis log. They are keyed by the
rules' epoch (`World.faults_since`, the seq of the change that last set the rules): new rules
start from zero, and a process still behind (an older epoch) counts nothing.

Counting is two steps, so that a rule's random draw stays its process's own: `match` counts a
fitting request, then, once `after`, `nth` and the draw let it through, `fire` takes one of
the `times` left, atomically (two processes never take the last one both).
"""

from __future__ import annotations

import logging
import os
import struct
from pathlib import Path
from typing import Protocol

from mockserver.world.beside import LockedFile, beside
from mockserver.world.log import ChangeLog
from mockserver.world.redislog import KEEP, RedisLog

log = logging.getLogger("mockserver")

_SLOT = struct.Struct("<qq")  # a rule's matched and fired
_EPOCH = struct.Struct("<q")


class Tally(Protocol):
    async def match(self, epoch: int, index: int) -> tuple[int, int] | None:
        """Count a request rule `index` fits; its (matched, fired) counts after it, or None
        for a process behind the rules' epoch."""
        ...

    async def fire(self, epoch: int, index: int, times: int | None) -> bool:
        """Count rule `index` answering, unless it answered `times` already."""
        ...

    async def counts(self, epoch: int, rules: int) -> list[tuple[int, int]]:
        """Each rule's (matched, fired)."""
        ...


class LocalTally:
    """The counters of a world only this process serves."""

    def __init__(self) -> None:
        self.epoch = 0
        self.slots: dict[int, list[int]] = {}

    def _slot(self, epoch: int, index: int) -> list[int] | None:
        if epoch != self.epoch:
            if epoch < self.epoch:
                return None
            self.epoch, self.slots = epoch, {}
        return self.slots.setdefault(index, [0, 0])

    async def match(self, epoch: int, index: int) -> tuple[int, int] | None:
        slot = self._slot(epoch, index)
        if slot is None:
            return None
        slot[0] += 1
        return slot[0], slot[1]

    async def fire(self, epoch: int, index: int, times: int | None) -> bool:
        slot = self._slot(epoch, index)
        if slot is None or (times is not None and slot[1] >= times):
            return False
        slot[1] += 1
        return True

    async def counts(self, epoch: int, rules: int) -> list[tuple[int, int]]:
        slots = self.slots if epoch == self.epoch else {}
        return [(slots[index][0], slots[index][1]) if index in slots else (0, 0) for index in range(rules)]


class FileTally:
    """The counters of a world the workers of one server share: a file of one epoch and a
    (matched, fired) slot per rule, locked while a count is made. Opened by each process on
    its first count (a lock belongs to an open file, which a fork would share)."""

    def __init__(self, path: Path) -> None:
        self.path, self._file = path, LockedFile(path)

    def _count(self, epoch: int, index: int, firing: bool, times: int | None) -> tuple[int, int, bool] | None:
        """Under the lock, count a fitting request (or, `firing`, an answer, below `times`)
        for rule `index`: its (matched, fired) then and whether it answered; None if the file
        is at a later epoch."""
        with self._file.held() as fd:
            header = os.pread(fd, _EPOCH.size, 0)
            stored = _EPOCH.unpack(header)[0] if len(header) == _EPOCH.size else -1
            if stored > epoch:
                return None
            if stored < epoch:
                os.ftruncate(fd, 0)
                os.pwrite(fd, _EPOCH.pack(epoch), 0)
            offset = _EPOCH.size + index * _SLOT.size
            data = os.pread(fd, _SLOT.size, offset)
            matched, fired = _SLOT.unpack(data) if len(data) == _SLOT.size else (0, 0)
            fires = firing and (times is None or fired < times)
            if firing:
                fired += fires
            else:
                matched += 1
            os.pwrite(fd, _SLOT.pack(matched, fired), offset)
            return matched, fired, fires

    async def match(self, epoch: int, index: int) -> tuple[int, int] | None:
        counted = self._count(epoch, index, False, None)
        return None if counted is None else counted[:2]

    async def fire(self, epoch: int, index: int, times: int | None) -> bool:
        counted = self._count(epoch, index, True, times)
        return counted is not None and counted[2]

    async def counts(self, epoch: int, rules: int) -> list[tuple[int, int]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        if len(data) < _EPOCH.size or _EPOCH.unpack_from(data)[0] != epoch:
            return [(0, 0)] * rules
        found = []
        for index in range(rules):
            offset = _EPOCH.size + index * _SLOT.size
            found.append(_SLOT.unpack_from(data, offset) if len(data) >= offset + _SLOT.size else (0, 0))
        return found


# KEYS[1] the hash, then the world's keys to keep; ARGV[1] the epoch, ARGV[2] the rule, ARGV[3]
# the keys' TTL in ms; returns {matched, fired}, or -1 behind.
_MATCH = (
    KEEP
    + """
local stored = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '-1')
local epoch = tonumber(ARGV[1])
if stored > epoch then return -1 end
if stored < epoch then redis.call('DEL', KEYS[1]); redis.call('HSET', KEYS[1], 'epoch', epoch) end
local matched = redis.call('HINCRBY', KEYS[1], 'm' .. ARGV[2], 1)
keep(ARGV[3], 2)
return {matched, tonumber(redis.call('HGET', KEYS[1], 'f' .. ARGV[2]) or '0')}
"""
)
# ARGV[3] the rule's times ('' for none): returns 1 if it fired.
_FIRE = """
if tonumber(redis.call('HGET', KEYS[1], 'epoch') or '-1') ~= tonumber(ARGV[1]) then return 0 end
local fired = tonumber(redis.call('HGET', KEYS[1], 'f' .. ARGV[2]) or '0')
if ARGV[3] ~= '' and fired >= tonumber(ARGV[3]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'f' .. ARGV[2], 1)
return 1
"""


class RedisTally:
    """The counters of a world servers share through Redis, in a hash beside its stream; with
    Redis unreachable, this process counts on its own meanwhile."""

    def __init__(self, log: RedisLog) -> None:
        self.redis, self.key, self.log = log.redis, log.key("faults"), log
        self._match = self.redis.script(_MATCH)
        self._fire = self.redis.script(_FIRE)
        self.alone = LocalTally()

    async def match(self, epoch: int, index: int) -> tuple[int, int] | None:
        try:
            got = await self.redis.run(
                self._match, [self.key, *self.log.kept], [epoch, index, self.log.keep_ms]
            )
        except self.redis.errors as exc:
            log.warning("fault counters counted by this process alone: %s", exc)
            return await self.alone.match(epoch, index)
        return None if got == -1 else (int(got[0]), int(got[1]))

    async def fire(self, epoch: int, index: int, times: int | None) -> bool:
        try:
            fired = await self.redis.run(
                self._fire, [self.key], [epoch, index, "" if times is None else times]
            )
        except self.redis.errors:
            return await self.alone.fire(epoch, index, times)
        return fired == 1

    async def counts(self, epoch: int, rules: int) -> list[tuple[int, int]]:
        fields = ["epoch", *(f"{kind}{index}" for index in range(rules) for kind in "mf")]
        try:
            values = await self.redis.read(lambda client: client.hmget(self.key, fields))
        except self.redis.errors:
            return await self.alone.counts(epoch, rules)
        if values[0] is None or int(values[0]) != epoch:
            return [(0, 0)] * rules
        numbers = [int(value or 0) for value in values[1:]]
        return [(numbers[2 * index], numbers[2 * index + 1]) for index in range(rules)]


def tally_of(log: ChangeLog, directory: Path | None) -> Tally:
    """Where the counters of the world whose changes `log` keeps are counted: beside its stream
    on Redis, in a file of `directory` (the server's own) for a log file its workers share,
    else in this process."""
    if isinstance(log, RedisLog):
        return RedisTally(log)
    path = beside(log, directory, "faults")
    return LocalTally() if path is None else FileTally(path)
