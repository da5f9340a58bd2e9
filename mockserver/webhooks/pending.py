"""The deliveries a world has yet to make, kept where every process serving it can take them
over: so that a delivery pending when its process dies is made by another.

Each delivery (one event to one endpoint) is held by one process until a time: while it makes
an attempt (the endpoint's timeout and a margin), or until its next attempt is due (and a
grace). A process makes an attempt only once it has claimed the delivery (it holds it, or
nobody has since the hold ran out), so each attempt is made by exactly one process; any process
may take over the deliveries whose hold ran out (a process that died, or is far behind). An
attempt done, the holder drops the delivery or keeps it held until its next attempt.

Kept in memory for a world one process serves, in a small JSON file locked per operation beside
the server's other shared files for the workers of one server, and in Redis (a hash of the
deliveries, a hash of their holders and a sorted set of their holds, changed by Lua scripts)
for servers sharing a Redis log.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from mockserver.world.beside import LockedFile, beside
from mockserver.world.hooks import Event
from mockserver.world.log import ChangeLog
from mockserver.world.redislog import KEEP, RedisLog


class PendingError(Exception):
    """The pending deliveries cannot be reached now (the text says why)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str  # `<endpoint>/<unique>`: the endpoint's deliveries are found by their ids
    endpoint: str
    event: Event
    seq: int  # the world's change when it was made: a process behind it does not make it
    attempt: int  # the number of the next attempt (1 is the first)

    def dumps(self) -> bytes:
        """The delivery as JSON, its event's body as text (orjson writes the dataclasses)."""
        return orjson.dumps(self, default=_text)

    @classmethod
    def loads(cls, data: bytes | str) -> Delivery:
        fields = orjson.loads(data)
        event = fields.pop("event")
        return cls(**fields, event=Event(**{**event, "body": event["body"].encode()}))


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"{type(value).__name__} is not kept in a delivery")


def endpoint_of(delivery_id: str) -> str:
    return delivery_id.partition("/")[0]


class PendingStore(Protocol):
    # Deliveries a process keeps under way in all with this store: each attempt costs one or
    # two of its operations, which a shared file pays for with the whole table.
    under_way: int

    async def add(self, held: Sequence[tuple[Delivery, float]], holder: str) -> None:
        """Keep new deliveries, each held by `holder` until its time."""
        ...

    async def claim(self, delivery_id: str, holder: str, until: float, now: float) -> Delivery | None:
        """Hold a delivery until `until` if `holder` holds it, or nobody has since `now`: the
        delivery as kept; None if another holds it or it is gone."""
        ...

    async def take(self, holder: str, until: float, now: float, count: int) -> list[Delivery]:
        """Claim (until `until`) up to `count` deliveries nobody has held since `now`."""
        ...

    async def reschedule(self, delivery: Delivery, holder: str, until: float) -> bool:
        """Keep `delivery` (its next attempt) held by `holder` until `until`, if it holds it."""
        ...

    async def drop(self, delivery_id: str, holder: str) -> None:
        """Forget a delivery done (or out of schedule), if `holder` holds it."""
        ...

    async def forget(self, endpoints: Collection[str]) -> None:
        """Forget every delivery to these endpoints (removed), whoever holds it."""
        ...


class MemoryPending:
    """The pending deliveries of a world one process serves; also the table a file holds, as
    `{id: {"d": delivery, "h": holder, "u": until}}`."""

    under_way = 2_000

    def __init__(self, table: dict[str, dict[str, Any]] | None = None) -> None:
        self.table: dict[str, dict[str, Any]] = {} if table is None else table

    async def add(self, held: Sequence[tuple[Delivery, float]], holder: str) -> None:
        for delivery, until in held:
            self.table[delivery.id] = {"d": delivery.dumps().decode(), "h": holder, "u": until}

    async def claim(self, delivery_id: str, holder: str, until: float, now: float) -> Delivery | None:
        entry = self.table.get(delivery_id)
        if entry is None or (entry["h"] != holder and entry["u"] > now):
            return None
        entry.update(h=holder, u=until)
        return Delivery.loads(entry["d"])

    async def take(self, holder: str, until: float, now: float, count: int) -> list[Delivery]:
        free = sorted((e["u"], i) for i, e in self.table.items() if e["u"] <= now)[:count]
        return [found for _u, i in free if (found := await self.claim(i, holder, until, now)) is not None]

    async def reschedule(self, delivery: Delivery, holder: str, until: float) -> bool:
        entry = self.table.get(delivery.id)
        if entry is None or entry["h"] != holder:
            return False
        entry.update(d=delivery.dumps().decode(), u=until)
        return True

    async def drop(self, delivery_id: str, holder: str) -> None:
        entry = self.table.get(delivery_id)
        if entry is not None and entry["h"] == holder:
            del self.table[delivery_id]

    async def forget(self, endpoints: Collection[str]) -> None:
        for delivery_id in [i for i in self.table if endpoint_of(i) in endpoints]:
            del self.table[delivery_id]


class FilePending:
    """The pending deliveries of one server's workers: a JSON file of the table, read and
    written whole under its lock by each operation. Opened by each process on its first
    operation (a lock belongs to an open file, which a fork would share)."""

    under_way = 100  # its table, read and written whole by each operation, stays small

    def __init__(self, path: Path) -> None:
        self.path, self._file = path, LockedFile(path)

    @contextlib.contextmanager
    def _table(self) -> Iterator[MemoryPending]:
        """The table, under the lock; written back as the block leaves it."""
        try:
            with self._file.held() as fd:
                size = os.fstat(fd).st_size
                table = MemoryPending(orjson.loads(os.pread(fd, size, 0)) if size else {})
                yield table
                data = orjson.dumps(table.table)
                os.pwrite(fd, data, 0)
                os.ftruncate(fd, len(data))
        except OSError as exc:
            raise PendingError(f"{exc.filename or self.path}: {exc.strerror}") from None

    async def add(self, held: Sequence[tuple[Delivery, float]], holder: str) -> None:
        with self._table() as table:
            await table.add(held, holder)

    async def claim(self, delivery_id: str, holder: str, until: float, now: float) -> Delivery | None:
        with self._table() as table:
            return await table.claim(delivery_id, holder, until, now)

    async def take(self, holder: str, until: float, now: float, count: int) -> list[Delivery]:
        with self._table() as table:
            return await table.take(holder, until, now, count)

    async def reschedule(self, delivery: Delivery, holder: str, until: float) -> bool:
        with self._table() as table:
            return await table.reschedule(delivery, holder, until)

    async def drop(self, delivery_id: str, holder: str) -> None:
        with self._table() as table:
            await table.drop(delivery_id, holder)

    async def forget(self, endpoints: Collection[str]) -> None:
        with self._table() as table:
            await table.forget(endpoints)


# Every script's KEYS: the deliveries (a hash), their holders (a hash), their holds (a sorted
# set by the time each runs out), then the world's keys to keep (`keep`).
# ARGV: the keys' TTL in ms, the holder, then (id, delivery, until) triples.
_ADD = (
    KEEP
    + """
for i = 3, #ARGV, 3 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[2])
  redis.call('ZADD', KEYS[3], ARGV[i + 2], ARGV[i])
end
keep(ARGV[1], 4)
return 0
"""
)
# ARGV: the holder, until, now, the id; returns the delivery claimed, or nil.
_CLAIM = """
local delivery = redis.call('HGET', KEYS[1], ARGV[4])
if not delivery then return nil end
if redis.call('HGET', KEYS[2], ARGV[4]) ~= ARGV[1]
    and tonumber(redis.call('ZSCORE', KEYS[3], ARGV[4])) > tonumber(ARGV[3]) then return nil end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4])
return delivery
"""
# ARGV: the holder, until, now, count.
_TAKE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local taken = {}
for _, id in ipairs(ids) do
  redis.call('HSET', KEYS[2], id, ARGV[1])
  redis.call('ZADD', KEYS[3], ARGV[2], id)
  table.insert(taken, redis.call('HGET', KEYS[1], id))
end
return taken
"""
# ARGV: the holder, the id, then the delivery and until to keep it held (none: drop it).
_KEEP_OR_DROP = """
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[1] then return 0 end
if ARGV[3] then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
else
  redis.call('HDEL', KEYS[1], ARGV[2])
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
end
return 1
"""
# ARGV: the endpoints whose deliveries are forgotten.
_FORGET = """
local gone = {}
for i = 1, #ARGV do gone[ARGV[i]] = true end
for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do
  if gone[string.match(id, '^[^/]*')] then
    redis.call('HDEL', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
  end
end
return 0
"""


class RedisPending:
    """The pending deliveries of the servers sharing a Redis log, beside its stream."""

    under_way = 500  # each operation a round trip

    def __init__(self, log: RedisLog) -> None:
        self.redis, self.log = log.redis, log
        self.keys = [log.key("pending"), log.key("pending:holders"), log.key("pending:until")]
        script = self.redis.script
        self._add, self._claim, self._take = script(_ADD), script(_CLAIM), script(_TAKE)
        self._keep_or_drop, self._forget = script(_KEEP_OR_DROP), script(_FORGET)

    async def _run(self, script: Any, args: Sequence[Any], kept: bool = False) -> Any:
        """Run a script; PendingError at once while Redis is known not to answer (as the log
        does), so that no delivery waits on it."""
        if self.redis.down():
            raise PendingError(f"pending deliveries: {self.redis.refused()}")
        try:
            return await self.redis.run(script, [*self.keys, *(self.log.kept if kept else ())], args)
        except self.redis.errors as exc:
            raise PendingError(f"pending deliveries: {self.redis.failed(exc)}") from None

    async def add(self, held: Sequence[tuple[Delivery, float]], holder: str) -> None:
        args: list[Any] = [self.log.keep_ms, holder]
        for delivery, until in held:
            args += [delivery.id, delivery.dumps(), repr(until)]
        await self._run(self._add, args, kept=True)

    async def claim(self, delivery_id: str, holder: str, until: float, now: float) -> Delivery | None:
        claimed = await self._run(self._claim, [holder, repr(until), repr(now), delivery_id])
        return None if claimed is None else Delivery.loads(claimed)

    async def take(self, holder: str, until: float, now: float, count: int) -> list[Delivery]:
        taken = await self._run(self._take, [holder, repr(until), repr(now), count])
        return [Delivery.loads(found) for found in taken]

    async def reschedule(self, delivery: Delivery, holder: str, until: float) -> bool:
        kept = await self._run(self._keep_or_drop, [holder, delivery.id, delivery.dumps(), repr(until)])
        return kept == 1

    async def drop(self, delivery_id: str, holder: str) -> None:
        await self._run(self._keep_or_drop, [holder, delivery_id])

    async def forget(self, endpoints: Collection[str]) -> None:
        if endpoints:
            await self._run(self._forget, sorted(endpoints))


def pending_store(log: ChangeLog, directory: Path | None) -> PendingStore:
    """Where the pending deliveries of the world whose changes `log` keeps are kept: beside its
    stream on Redis, in a file of `directory` (the server's own) for a log file its workers
    share, else in this process."""
    if isinstance(log, RedisLog):
        return RedisPending(log)
    path = beside(log, directory, "pending")
    return MemoryPending() if path is None else FilePending(path)
