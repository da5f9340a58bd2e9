"""The change log kept in a Redis Stream: one world served by any number of servers, each with
any number of workers, on any machines.

Each change is one entry of the stream, its id `<seq>-<n>`, its one field `c` the change's
line. No lock is held: a Lua script appends a change only if the stream's last change is the
one before it (compare-and-append); otherwise the writer reads what it missed and resolves its
change again (LogConflict), so sequence numbers stay contiguous and every server reads the
same entries in the same order. Durability is Redis's own (its append-only file).

A process learns what others appended with one XREAD after the last id it read, which also
brings the entries: read-your-writes costs one round trip per request. Redis unreachable is
not an error of the world: reads are served from the last state seen, writes are refused at
once (LogWriteError, naming the URL), and Redis is tried again on the next request (after
BACKOFF seconds if it did not answer in time).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from mockserver.world.changes import Change, ChangeError
from mockserver.world.log import LogConflict, LogError, LogWriteError

log = logging.getLogger("mockserver")

SCHEMES = ("redis://", "rediss://")
KEY = "mockserver"  # the keys' prefix unless the URL's `?key=NAME` names another
TIMEOUT = 1.0  # seconds to connect, and for an answer: a write is refused within 3 s
BACKOFF = 1.0  # seconds an unreachable Redis is left alone before it is tried again
BATCH = 1000  # entries read at a time

# KEYS[1] the stream; ARGV[1] the change's seq, ARGV[2] its line. Returns the new entry's id,
# or, when the stream's last change is not seq - 1, that last change's seq.
_APPEND = """
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = 0
if #top > 0 then last = tonumber(string.match(top[1][1], '^%d+')) end
if last + 1 ~= tonumber(ARGV[1]) then return last end
return redis.call('XADD', KEYS[1], ARGV[1] .. '-*', 'c', ARGV[2])
"""
# KEYS[1] the stream; ARGV[1] an entry's id: deleted if it is still the last one.
_RETRACT = """
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #top > 0 and top[1][1] == ARGV[1] then return redis.call('XDEL', KEYS[1], ARGV[1]) end
return 0
"""


def is_redis(url: str) -> bool:
    return url.startswith(SCHEMES)


class Redis:
    """One server's connection to Redis, shared by the logs of every world it serves, and
    whether Redis answers: once it does not answer in time, nothing waits on it for BACKOFF
    seconds (the event loop would wait with it); a refused connection is tried again at once,
    so that a server sees what others wrote as soon as Redis is back."""

    def __init__(self, url: str) -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
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
        self.client = redis.Redis.from_url(
            urlunsplit(parts._replace(query=urlencode(query, doseq=True))),
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        self.trouble: str | None = None  # why Redis was last unreachable, until it answers
        self._until = 0.0

    def down(self) -> bool:
        """Whether Redis failed less than BACKOFF seconds ago: not worth a try yet."""
        return self.trouble is not None and time.monotonic() < self._until

    def failed(self, exc: Exception) -> LogWriteError:
        if self.trouble is None:
            log.error("%s is unreachable: %s", self.url, exc)
        self.trouble = f"{self.url} is unreachable ({exc})"
        if isinstance(exc, self.slow):  # a refused connection costs nothing: tried every time
            self._until = time.monotonic() + BACKOFF
        return LogWriteError(self.trouble)

    def answered(self) -> None:
        if self.trouble is not None:
            log.warning("%s answers again", self.url)
        self.trouble = None

    def refused(self) -> LogWriteError:
        return LogWriteError(self.trouble or f"{self.url} is unreachable")

    def claim(self, fingerprint: str) -> None:
        """Record the fixture the key's worlds start from when it is first used; LogError if
        another was recorded: its changes would be applied to another world."""
        key = f"{self.prefix}:fixture"
        try:
            self.client.set(key, fingerprint, nx=True)
            recorded = self.client.get(key)
        except self.errors as exc:
            raise LogError(f"{self.url} cannot be reached ({exc})") from None
        if recorded is not None and recorded.decode() != fingerprint:
            raise LogError(
                f"{self.url} key {self.prefix!r} serves the world of another fixture "
                f"({recorded.decode()}, this one is {fingerprint}): use another ?key= or that fixture"
            )


class RedisLog:
    """The changes of one world, in the stream `<prefix>:<name>changes` (see the module)."""

    shared = True
    durable = None

    def __init__(self, redis: Redis, name: str = "") -> None:
        self.redis, self.name = redis, name
        self.stream = self.key("changes")
        self._append = redis.client.register_script(_APPEND)
        self._retract = redis.client.register_script(_RETRACT)
        self._last = b"0-0"  # the id of the last entry read or appended
        self._previous = b"0-0"  # the one before the entry this process appended last
        self._found: list[tuple[bytes, dict[bytes, bytes]]] = []  # read by `fresh`, not yet taken

    def key(self, what: str) -> str:
        """The key of what else its world keeps in Redis (the fault rules' counters)."""
        return f"{self.redis.prefix}:{self.name}{what}"

    def _read(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Entries after the last one read; raises LogWriteError if Redis does not answer."""
        if self.redis.down():
            raise self.redis.refused()
        try:
            got = self.redis.client.xread({self.stream: self._last}, count=BATCH)
        except self.redis.errors as exc:
            raise self.redis.failed(exc) from None
        self.redis.answered()
        return got[0][1] if got else []

    def fresh(self) -> bool:
        """One round trip: whether others appended, their entries kept for `unread`. With Redis
        unreachable, the last state seen is served as it is."""
        if not self._found:
            with contextlib.suppress(LogWriteError):
                self._found = self._read()
        return not self._found

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Nothing is locked: `append` compares and appends in one step."""
        return contextlib.nullcontext()

    def unread(self) -> Iterator[Change]:
        """What others appended, until the end as it stood when last read (what `fresh` found,
        else read now) or until Redis does not answer (a write then finds its append refused)."""
        entries, self._found = self._found, []
        while True:
            if not entries:
                try:
                    entries = self._read()
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

    def append(self, line: bytes) -> None:
        """Append the change that follows the last one read; LogConflict if another came first."""
        if self.redis.down():
            raise self.redis.refused()
        seq = int(self._last.partition(b"-")[0]) + 1
        try:
            got = self._append(keys=[self.stream], args=[seq, line])
        except self.redis.errors as exc:
            raise self.redis.failed(exc) from None
        self.redis.answered()
        if isinstance(got, int):
            if got < seq - 1:  # nothing to catch up with: retrying would never end
                raise LogWriteError(
                    f"{self.redis.url} {self.stream} holds {got} changes, fewer than this server "
                    f"applied ({seq - 1}): was it deleted? restart the servers"
                )
            raise LogConflict(f"change {got} was appended first")
        self._previous, self._last = self._last, got

    def retract(self) -> None:
        """Delete the entry just appended, if nothing came after it (else others applied it)."""
        with contextlib.suppress(*self.redis.errors):
            self._retract(keys=[self.stream], args=[self._last])
        self._last = self._previous

    def export(self) -> Iterator[bytes]:
        """Every change up to the last one read, a batch of lines at a time, from Redis."""
        if self._last == b"0-0":
            return
        start: bytes = b"-"
        while True:
            try:
                entries = self.redis.client.xrange(self.stream, start, self._last, count=BATCH)
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
        """The connection is the server's, shared by its worlds' logs: it stays open."""
