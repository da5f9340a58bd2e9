"""Which world answers a request: the one world, or, under isolation, one per bearer token.

A served world is a timeline (the world and its log of changes), the request journal and the
fault rules' counters, and every route's handler bound to that world. Under isolation
(`--isolate token`) each distinct token gets one, created on its first request from the
server's starting world without generating anything: it reads that world, shared, until its
first change, and only then copies it (copy on write). Its changes go to a log file of its
own, named by a digest of the token, so that every worker applies them and a world dropped
from memory (the least recently used, past the bound) comes back from its log when its token
returns; a log that may have expired (on Redis, unused for its TTL) is read anew.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path

from aiohttp import web

from mockserver.shell.bearer import bearer_token
from mockserver.shell.plugs import DEFAULT_LIMIT, Deliveries, Facade, Faults, Handler, Journal, Settings
from mockserver.world.log import ChangeLog, FileLog, LogError
from mockserver.world.redislog import RedisLog
from mockserver.world.state import World
from mockserver.world.timeline import Timeline

log = logging.getLogger("mockserver")

CONTROL = "control"  # the routes of no emulated API: the control plane's


# Every route bound to one served world, by the name of the API it belongs to (CONTROL: none).
Bind = Callable[["ServedWorld"], Mapping[str, Iterable[web.RouteDef]]]


class ServedWorld:
    """One world as the server serves it: its timeline, journal, fault counters and handlers."""

    def __init__(
        self,
        timeline: Timeline,
        bind: Bind,
        journal: Journal | None = None,
        faults: Faults | None = None,
        owned: bool = True,
        webhooks: Deliveries | None = None,
    ) -> None:
        self.timeline, self.journal, self.faults = timeline, journal, faults
        self.webhooks = webhooks
        self._bind = bind
        self.owned = owned  # False while it reads a world it shares with others
        # A log other processes append to is read before every request: read-your-writes.
        self.before: Callable[[], Awaitable[None]] | None = self.catch_up if timeline.log.shared else None
        self.routes: dict[str, list[web.RouteDef]] = {}
        self.handlers: dict[str, Handler] = {}
        # Requests it is answering, and whether it was dropped meanwhile: its log stays open
        # until the last of them has its change written.
        self.inflight, self.dropped = 0, False
        self.rebind()
        timeline.replaced.append(self.rebind)  # a new fixture's world: handlers of its own

    def rebind(self) -> None:
        """Bind every route to the world as it now is (handlers keep their world's caches)."""
        self.routes = {api: list(routes) for api, routes in self._bind(self).items()}
        self.handlers = {
            route.kwargs["name"]: route.handler for routes in self.routes.values() for route in routes
        }

    def own(self) -> None:
        """Copy the shared world before this one changes it."""
        if not self.owned:
            self.timeline.world = self.timeline.world.copy()
            self.owned = True
            self.rebind()

    async def catch_up(self) -> None:
        """Apply what other processes appended to the log (a world of its own first)."""
        if not await self.timeline.log.fresh():
            self.own()
            await self.timeline.catch_up()

    def release(self) -> None:
        """One of its requests has been answered."""
        self.inflight -= 1
        if self.dropped and not self.inflight:
            _closing(self)

    def drop(self) -> None:
        """No new request comes to it; it closes once those it is answering are done."""
        self.dropped = True
        if not self.inflight:
            _closing(self)

    async def close(self) -> None:
        """What it recorded handed to the stores it shares, its deliveries stopped, its log closed."""
        if self.journal is not None:
            await self.journal.publish()
        if self.webhooks is not None:
            await self.webhooks.publish()
            self.webhooks.cancel()
        self.timeline.log.close()


_closings: set[asyncio.Task[None]] = set()  # worlds dropped, closing


def _closing(served: ServedWorld) -> None:
    """Close a dropped world once it has handed over what it recorded, apart from the request
    that dropped it."""
    task = asyncio.get_running_loop().create_task(served.close())
    _closings.add(task)
    task.add_done_callback(_closings.discard)


class Worlds:
    """The served worlds: `of(request)` is the one that answers a request."""

    def __init__(
        self,
        facades: Sequence[Facade],
        settings: Settings,
        base: ServedWorld,
        spawn: Callable[[str], Awaitable[ServedWorld]] | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        """`base` serves every request, unless `spawn` makes the world of each token (isolation)."""
        self.facades, self.settings, self.base = facades, settings, base
        self._spawn, self.limit = spawn, limit
        self._by_token: OrderedDict[str, ServedWorld] = OrderedDict()
        self._spawning: dict[str, asyncio.Future[ServedWorld]] = {}  # worlds being read
        self.of: Callable[[web.Request], Awaitable[ServedWorld]] = (
            self._isolated if spawn is not None else self._base
        )

    @classmethod
    def one(
        cls,
        world: World,
        facades: Sequence[Facade],
        settings: Settings,
        open_routes: Iterable[web.RouteDef] = (),
    ) -> Worlds:
        """A single world served through `facades`, with `open_routes` beside them."""
        opened = list(open_routes)

        def bind(served: ServedWorld) -> dict[str, Iterable[web.RouteDef]]:
            routes = {facade.name: facade.routes(served.timeline, settings) for facade in facades}
            return {CONTROL: opened, **routes}

        return cls(facades, settings, ServedWorld(Timeline(world), bind))

    @property
    def isolated(self) -> bool:
        return self._spawn is not None

    async def _base(self, _request: web.Request) -> ServedWorld:
        return self.base

    async def _isolated(self, request: web.Request) -> ServedWorld:
        token = bearer_token(request.headers.get("Authorization", ""))
        found = self._by_token.get(token)
        if found is not None:
            if await found.timeline.log.touch():
                if self._by_token.get(token) is found:
                    self._by_token.move_to_end(token)
                return found
            if self._by_token.get(token) is found:  # its log may have expired: read anew
                del self._by_token[token]
                found.drop()
            elif (again := self._by_token.get(token)) is not None:
                return again  # another of its requests read it anew meanwhile
        spawning = self._spawning.get(token)
        if spawning is None:  # the first of the token's requests to come while it is read
            spawning = self._spawning[token] = asyncio.ensure_future(self._spawned(token))
        return await asyncio.shield(spawning)

    async def _spawned(self, token: str) -> ServedWorld:
        """The token's world, read once however many of its requests wait for it."""
        assert self._spawn is not None
        try:
            made = self._by_token[token] = await self._spawn(token)
        finally:
            del self._spawning[token]
        while len(self._by_token) > self.limit:
            self._by_token.popitem(last=False)[1].drop()
        return made

    async def catch_up(self) -> None:
        """Apply what other processes appended to every world held, so that no request waits
        long for it; a world whose log cannot be applied is left to answer 503."""
        for served in (self.base, *self._by_token.values()):
            if served.before is not None:
                try:
                    await served.before()
                except LogError as exc:
                    log.error("a world cannot be brought up to date: %s", exc)

    async def publish(self) -> None:
        """Hand what each world's journal recorded, and the webhook attempts made, to the
        stores they share, if they have them."""
        for served in (self.base, *self._by_token.values()):
            if served.journal is not None:
                await served.journal.publish()
            if served.webhooks is not None:
                await served.webhooks.publish()

    async def take_over(self) -> None:
        """Start the webhook deliveries of each world held that a process which died left."""
        for served in (self.base, *self._by_token.values()):
            if served.webhooks is not None:
                await served.webhooks.take_over()

    async def close(self) -> None:
        held = list(self._by_token.values())
        self._by_token.clear()
        for served in held:
            await served.close()


# The log of a token's world, made when the token is first seen.
Branches = Callable[[str], ChangeLog]


def _digest(token: str) -> str:
    """A token's name where its changes are kept, so that no token is written down."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def log_path(directory: Path, token: str) -> Path:
    """The file of a token's changes."""
    return directory / f"{_digest(token)}.jsonl"


def file_branches(directory: Path) -> Branches:
    """Each token's changes in a file of `directory`, shared by the workers."""
    return lambda token: FileLog(log_path(directory, token), shared=True)


def redis_branches(base: RedisLog, ttl: float) -> Branches:
    """Each token's changes in a stream of its own beside the base world's, on its connection,
    expiring once unused for `ttl` seconds (0: never)."""
    return lambda token: RedisLog(base.redis, f"token:{_digest(token)}:", ttl)
