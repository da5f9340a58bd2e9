"""The change log kept in a Redis Stream: one world served by any number of servers, each with
any number of workers, on any machines.

Each change is one entry of the stream, its id `<seq>-<n>`, its one field `c` the change's
line. No lock is held: a Lua script appends a change only if the stream's last change is the
one before it (compare-and-append); otherwise the writer reads what it missed and resolves its
change again (LogConflict), so sequence numbers stay contiguous and every server reads the
same entries in the same order. Durability is Redis's own (its append-only file).

A process learns what others appended with one XREAD after the last id it read, which also
brings the entries: read-your-writes costs one round trip per request. A conflicting append
brings back what the writer missed. The workers of one server take turns to append (a lock
file of the server's own, `turns`, as the file log's workers do): two of them never resolve a
change in vain for each other. The file holds the last change any of them appended: a worker
reads on before it resolves only if another appended since it last read. A lone process, or a
worker that has read everything, resolves against the world as last read and appends at once
(one round trip).
Servers never lock each other: their appends compare.

Redis is reached through redis-py's asyncio client: a request that waits for Redis holds up
no other. Redis unreachable is not an error of the world: reads are served from the last
state seen, writes are refused at once (LogWriteError, naming the URL), and Redis is tried
again on the next request (after BACKOFF seconds if it did not answer in time).

A token's world expires once unused for its TTL: every key it has (WORLD_KEYS) shares one
deadline, set to TTL and a tenth from now by each write of any of them and by a request's
`touch` (at most once a tenth of TTL, so it costs no round trip per request), so that all of
them are gone at once. A process that has not set that deadline itself for a whole TTL cannot
know that the stream is still the one it read (it may have expired and begun again): it does
not read it on, and a request reads the world anew.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from mockserver.world.changes import Change, ChangeError
from mockserver.world.log import LogConflict, LogError, LogWriteError
from mockserver.world.turns import PerLoop, Turn, Turns

log = logging.getLogger("mockserver")

T = TypeVar("T")

SCHEMES = ("redis://", "rediss://")
KEY = "mockserver"  # the keys' prefix unless the URL's `?key=NAME` names another
TIMEOUT = 1.0  # seconds to connect, and for an answer: a write is refused within 3 s
BACKOFF = 1.0  # seconds an unreachable Redis is left alone before it is tried again
BATCH = 1000  # entries read at a time
TOKEN_TTL = 86_400.0  # seconds a token's world is kept unused, unless `--token-ttl` says

# The names of every key a world keeps (after its prefix): a token's expire together.
WORLD_KEYS = (
    "changes",
    "faults",
    *(f"{name}{what}" for name in ("journal", "deliveries") for what in ("", ":seq", ":cleared")),
    *(f"pending{what}" for what in ("", ":holders", ":until")),  # webhook deliveries to make
)
MARGIN = 1.1  # a world's keys are kept TTL * MARGIN after they are refreshed, at least TTL

# Opens each script that writes a world's keys: keep(ttl, first) sets the deadline of KEYS[first]
# on (every key of an expiring world, else none) to `ttl` ms from now.
KEEP = """
local function keep(ttl, first)
  for i = first, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl) end
end
"""
# KEYS[1] the stream, then the keys to keep; ARGV[1] the change's seq, ARGV[2] its line,
# ARGV[3] the id of the last entry read, ARGV[4] the keys' TTL in ms. Returns the new entry's
# id, or, when the stream's last change is not seq - 1, that last change's seq and the
# entries after the last one read (BATCH at most).
_APPEND = (
    KEEP
    + """
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = 0
if #top > 0 then last = tonumber(string.match(top[1][1], '^%d+')) end
if last + 1 ~= tonumber(ARGV[1]) then
  return {last, redis.call('XRANGE', KEYS[1], '(' .. ARGV[3], '+', 'COUNT', """
    + str(BATCH)
    + """)}
end
local id = redis.call('XADD', KEYS[1], ARGV[1] .. '-*', 'c', ARGV[2])
keep(ARGV[4], 2)
return id
"""
)
# KEYS[1] the stream; ARGV[1] an entry's id: deleted if it is still the last one.
_RETRACT = """
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #top > 0 and top[1][1] == ARGV[1] then return redis.call('XDEL', KEYS[1], ARGV[1]) end
return 0
"""


def is_redis(url: str) -> bool:
    return url.startswith(SCHEMES)


class Redis:
    """One server's connections to Redis, shared by the logs of every world it serves, and
    whether Redis answers: once it does not answer in time, nothing waits on it for BACKOFF
    seconds (every request needing it would wait in turn); a refused connection is tried again
    at once, so that a server sees what others wrote as soon as Redis is back."""

    def __init__(self, url: str, turns: Path | None = None) -> None:
        """`turns`: a directory of this server's own, where its workers take turns to append."""
        self.turns = None if turns is None else Turns(turns)
        try:
            import redis
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.commands.core import AsyncScript
        except ImportError:
            raise LogError(
                f"{url}: the Redis log needs the redis client: pip install 'mockserver[redis]'"
            ) from None
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.prefix = query.pop("key", [KEY])[-1]
        # Shown in messages and health: never the password.
        self.url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query=""))
        self.errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self.slow: type[Exception] = redis.TimeoutError
        self.closed: type[Exception] = redis.ConnectionError
        address = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))

        def connect() -> redis.asyncio.Redis:
            return redis.asyncio.Redis.from_url(
                address, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, retry=Retry(NoBackoff(), 0)
            )

        self._script = AsyncScript
        self._clients = PerLoop(connect)  # a loop's connections are that loop's
        self.trouble: str | None = None  # why Redis was last unreachable, until it answers
        self._until = 0.0
        self._closing: set[asyncio.Task[None]] = set()  # clients dropped, closing

    @property
    def client(self) -> Any:
        """The client of the running event loop."""
        return self._clients()

    def script(self, text: str) -> Any:
        """A Lua script, run by `run` on the running loop's client (none is registered: its
        text is given as bytes, which need no client's encoding)."""
        return self._script(None, text.encode())

    async def run(self, script: Any, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """Run a script on the running loop's connection."""
        return await script(keys=keys, args=args, client=self.client)

    async def read(self, call: Callable[[Any], Awaitable[T]]) -> T:
        """`call(client)`, a command that changes nothing (or the same if repeated), made again
        once on a new connection if Redis had closed the first (it restarted since that
        connection was last used): a write's script is not repeated, as it may have run."""
        try:
            return await call(self.client)
        except self.closed:
            return await call(self.client)

    async def close(self) -> None:
        """Close the running loop's connections (a loop that ends, such as the start's)."""
        await self.client.aclose()

    def down(self) -> bool:
        """Whether Redis failed less than BACKOFF seconds ago: not worth a try yet."""
        return self.trouble is not None and time.monotonic() < self._until

    def failed(self, exc: Exception) -> LogWriteError:
        if self.trouble is None:
            log.error("%s is unreachable: %s", self.url, exc)
        self.trouble = f"{self.url} is unreachable ({exc})"
        if isinstance(exc, self.slow):  # a refused connection costs nothing: tried every time
            self._until = time.monotonic() + BACKOFF
        self._renew()
        return LogWriteError(self.trouble)

    def _renew(self) -> None:
        """Connect anew from the next call: each connection made before Redis failed (one per
        request that was waiting on it at once) would fail once more, each a request served
        from a state older than Redis holds."""
        dropped = self._clients.drop()
        if dropped is None:
            return
        loop, client = dropped
        closing = loop.create_task(client.aclose())
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    def answered(self) -> None:
        if self.trouble is not None:
            log.warning("%s answers again", self.url)
        self.trouble = None

    def refused(self) -> LogWriteError:
        return LogWriteError(self.trouble or f"{self.url} is unreachable")

    async def claim(self, fingerprint: str) -> None:
        """Record the fixture the key's worlds start from when it is first used; LogError if
        another was recorded: its changes would be applied to another world."""
        key = f"{self.prefix}:fixture"
        try:
            await self.read(lambda client: client.set(key, fingerprint, nx=True))  # the same if repeated
            recorded = await self.read(lambda client: client.get(key))
        except self.errors as exc:
            raise LogError(f"{self.url} cannot be reached ({exc})") from None
        if recorded is not None and recorded.decode() != fingerprint:
            raise LogError(
                f"{self.url} key {self.prefix!r} serves the world of another fixture "
                f"({recorded.decode()}, this one is {fingerprint}): use another ?key= or that fixture"
            )


class RedisLog:
    """The changes of one world, in the stream `<prefix>:<name>changes` (see the module); with
    `ttl` (seconds), a world that expires once unused for that long."""

    shared = True
    durable = None

    def __init__(self, redis: Redis, name: str = "", ttl: float = 0) -> None:
        self.redis, self.name, self.ttl = redis, name, ttl
        self.stream = self.key("changes")
        self._append = redis.script(_APPEND)
        self._retract = redis.script(_RETRACT)
        self._keep = redis.script(KEEP + "keep(ARGV[1], 1)")
        # What the scripts writing its keys keep, and for how long (ms).
        self.kept = [self.key(what) for what in WORLD_KEYS] if ttl else []
        self.keep_ms = round(ttl * MARGIN * 1000)
        self._refreshed = -math.inf  # when this process last set its keys' deadline (monotonic)
        self._last = b"0-0"  # the id of the last entry read or appended
        self._previous = b"0-0"  # the one before the entry this process appended last
        # Entries read, not yet taken, and the id they follow: taken only if it is still the
        # last one read (a read of `fresh` may overlap a writer's, which reads on meanwhile).
        self._found: tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]] = (b"", [])
        self._turn: Turn | None = None  # taken on its first write
        self._turn_name = hashlib.sha256(self.stream.encode()).hexdigest()[:32]

    @property
    def compares(self) -> bool:
        """Alone, a change is resolved before reading on: the append says if another came
        first. Among a server's workers, as the turn is held, only if none appended since this
        process last read (another server's change still comes back with the append)."""
        if self.redis.turns is None:
            return True
        return self._turn is not None and self._turn.last() == int(self._last.partition(b"-")[0])

    def key(self, what: str) -> str:
        """The key of what else its world keeps in Redis (the fault rules' counters)."""
        return f"{self.redis.prefix}:{self.name}{what}"

    def _stale(self) -> bool:
        """Whether the stream may have expired (and begun again) since this process read it."""
        return bool(self.ttl) and time.monotonic() - self._refreshed > self.ttl

    async def touch(self) -> bool:
        """A request is served from the world: its keys are kept TTL from now, refreshed once a
        tenth of TTL at most. False when Redis answered after this process left the world
        unused for a whole TTL: the world it holds may be of an expired stream, read it anew."""
        if not self.ttl:
            return True
        now = time.monotonic()
        if now - self._refreshed < self.ttl / 10 or self.redis.down():
            return True
        try:
            await self.redis.run(self._keep, self.kept, [self.keep_ms])
        except self.redis.errors as exc:
            self.redis.failed(exc)
            return True  # nothing learned: the last state seen is served
        self.redis.answered()
        held = now - self._refreshed <= self.ttl
        self._refreshed = now
        return held

    async def _read(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Entries after the last one read; raises LogWriteError if Redis does not answer."""
        if self.redis.down():
            raise self.redis.refused()
        try:
            read = {self.stream: self._last}
            got = await self.redis.read(lambda client: client.xread(read, count=BATCH))
        except self.redis.errors as exc:
            raise self.redis.failed(exc) from None
        self.redis.answered()
        return got[0][1] if got else []

    async def fresh(self) -> bool:
        """One round trip: whether others appended, their entries kept for `unread`. With Redis
        unreachable, or a stream that may have expired since it was read, the last state seen
        is served as it is. (Not a turn of the process's writers: what it read is kept only if
        none of them appended meanwhile.)"""
        if self._found[1] or self._stale():
            return not self._found[1]
        last = self._last
        try:
            found = await self._read()
        except LogWriteError:
            return True
        if self._last == last:
            self._found = (last, found)
        return not found

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """This server's workers take turns (a lock file, `Turn`); no other server is held
        off: `append` compares and appends in one step."""
        turns = self.redis.turns
        if turns is None:
            yield
            return
        if self._turn is None or self._turn.pid != os.getpid():  # a fork's is its parent's
            self._turn = turns.take(self._turn_name)
        async with self._turn.held():
            yield

    async def unread(self) -> AsyncIterator[Change]:
        """What others appended, until the end as it stood when last read (what `fresh` or a
        conflicting append found, else read now) or until Redis does not answer (a write then
        finds its append refused)."""
        (after, entries), self._found = self._found, (b"", [])
        if after != self._last:
            entries = []
        while True:
            if not entries:
                if self._stale():
                    return
                try:
                    entries = await self._read()
                except LogWriteError:
                    return
            for entry, fields in entries:
                self._last = entry
                try:
                    yield Change.from_line(fields[b"c"])
                except (ChangeError, KeyError) as exc:
                    raise LogError(f"{self.redis.url} {self.stream} entry {entry.decode()}: {exc}") from None
            if len(entries) < BATCH:  # all there was when it was read: no round trip more
                return
            entries = []

    async def append(self, line: bytes) -> None:
        """Append the change that follows the last one read; LogConflict, what was missed kept
        for `unread`, if another came first."""
        if self.redis.down():
            raise self.redis.refused()
        if self._stale():
            raise LogWriteError(
                f"{self.redis.url} {self.stream} may have expired since this server read it: "
                "it is read anew on the next request"
            )
        seq = int(self._last.partition(b"-")[0]) + 1
        sent = time.monotonic()
        try:
            got = await self.redis.run(
                self._append, [self.stream, *self.kept], [seq, line, self._last, self.keep_ms]
            )
        except self.redis.errors as exc:
            raise self.redis.failed(exc) from None
        self.redis.answered()
        if isinstance(got, list):
            last, missed = got
            if last < seq - 1:  # nothing to catch up with: retrying would never end
                raise LogWriteError(
                    f"{self.redis.url} {self.stream} holds {last} changes, fewer than this server "
                    f"applied ({seq - 1}): was it deleted? restart the servers"
                )
            self._found = (
                self._last,
                [(entry, dict(zip(fields[::2], fields[1::2], strict=True))) for entry, fields in missed],
            )
            raise LogConflict(f"change {last} was appended first")
        self._previous, self._last = self._last, got
        if self._turn is not None:
            self._turn.appended(seq)
        if self.ttl:
            self._refreshed = sent

    async def retract(self) -> None:
        """Delete the entry just appended, if nothing came after it (else others applied it)."""
        with contextlib.suppress(*self.redis.errors):
            await self.redis.run(self._retract, [self.stream], [self._last])
        self._last = self._previous

    async def export(self) -> AsyncIterator[bytes]:
        """Every change up to the last one read, a batch of lines at a time, from Redis."""
        if self._last == b"0-0":
            return
        start: bytes = b"-"
        while True:
            try:
                entries = await self.redis.read(
                    lambda client, start=start: client.xrange(self.stream, start, self._last, count=BATCH)
                )
            except self.redis.errors as exc:
                raise self.redis.failed(exc) from None
            if entries:
                yield b"".join(fields[b"c"] + b"\n" for _entry, fields in entries)
            if len(entries) < BATCH:
                return
            start = b"(" + entries[-1][0]

    def trouble(self) -> str | None:
        return self.redis.trouble

    def close(self) -> None:
        """The connection is the server's, shared by its worlds' logs: it stays open; its turn
        is let go."""
        if self._turn is not None and self.redis.turns is not None:  # let go by the process that took it
            self.redis.turns.let_go(self._turn_name, self._turn)
        self._turn = None
