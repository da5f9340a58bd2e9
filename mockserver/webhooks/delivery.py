"""Sending one served world's events: after the change that gave birth to them is logged,
started by the process that logged it, as tasks of their own (never in the path of the
request), each (event, endpoint) on its own so that a slow or dead receiver delays no other. A
status above 299, an error or a timeout is retried on the provider's schedule, scaled by the
endpoint's `retry_scale`, with the same event id and body. Every attempt this process makes is
recorded, newest last, in a bounded list.

A delivery is kept among the world's pending deliveries (`pending`), held by the process making
it: each attempt is made by the one process that claimed it, and a delivery whose holder died
is taken over by another process of the world, which looks for them twice a second while the
world has endpoints (a world without any does no webhook work at all).

A process keeps at most UNDER_WAY deliveries to one endpoint under way (a task each, until its
last attempt), and what its pending store bears in all (`under_way`: 2,000 in memory, 500 on
Redis, 100 in a file its workers share), shared evenly among the world's endpoints: a clock
moved by years over many endpoints would otherwise start hundreds of thousands at once, and
their attempts would hold up every request. The events past the bound wait, in order, in the process
that logged them (a few dozen bytes each) and start as the endpoint's deliveries end; a
process that dies takes its waiting events with it, while its deliveries under way are taken
over.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
import socket
import time
import weakref
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Any, TypeVar

import aiohttp

from mockserver.webhooks import signing
from mockserver.webhooks.pending import Delivery, MemoryPending, PendingError, PendingStore
from mockserver.world import clock
from mockserver.world.changes import Change
from mockserver.world.endpoints import Endpoint
from mockserver.world.hooks import Event
from mockserver.world.timeline import Timeline

log = logging.getLogger("mockserver")

RECORDS = 1_000  # attempts recorded per process, and listed for the world
PER_ENDPOINT = 8  # attempts in flight to one endpoint at a time
UNDER_WAY = 250  # deliveries to one endpoint a process keeps under way (due, in flight or to be retried)
SPREAD = 0.0005  # seconds between the first attempts begun together: a burst holds up no request
MARGIN = 2.0  # seconds an attempt is held past its endpoint's timeout
GRACE = 1.0  # seconds a next attempt stays its holder's past its time, before another takes it
SCAN = 0.5  # seconds between looks for deliveries whose holder is gone
TAKEN = 200  # deliveries taken over at a time

T = TypeVar("T")


def _metronome_schedule() -> tuple[float, ...]:
    """At once, then exponential backoff from 5 s up to a 15-minute cadence, for two days."""
    delays, total, step = [0.0], 0.0, 5.0
    while total + min(step, 900.0) <= 2 * clock.DAY:
        delays.append(min(step, 900.0))
        total += delays[-1]
        step *= 2
    return tuple(delays)


# Seconds to wait before each attempt (the first is at once), per API.
SCHEDULES: dict[str, tuple[float, ...]] = {
    "metronome": _metronome_schedule(),
    "meteroid": (0.0, 5.0, 300.0, 1_800.0, 7_200.0, 18_000.0, 36_000.0, 36_000.0),  # Svix's
}


@dataclass(frozen=True, slots=True)
class Attempt:
    event_id: str
    type: str
    endpoint: str
    attempt: int  # 1 is the first
    response_status: int | None
    error: str | None
    duration_ms: float
    at: float  # wall clock
    next_attempt_at: float | None
    pid: int  # the process that made it

    def public(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "endpoint": self.endpoint,
            "attempt": self.attempt,
            "response_status": self.response_status,
            "error": self.error,
            "duration_ms": self.duration_ms,
            "at": _instant(self.at),
            "next_attempt_at": None if self.next_attempt_at is None else _instant(self.next_attempt_at),
            "pid": self.pid,
        }


def _instant(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall)) + f".{int(wall * 1000) % 1000:03d}Z"


class Dispatcher:
    """The deliveries of one served world's events that this process makes."""

    def __init__(self, timeline: Timeline, pending: PendingStore | None = None) -> None:
        self.timeline = timeline
        self.pending = MemoryPending() if pending is None else pending
        self.attempts: deque[Attempt] = deque(maxlen=RECORDS)
        self.made = 0  # attempts this process made, ever: `attempts` holds the latest
        self._tasks: set[asyncio.Task[None]] = set()
        self._under_way: Counter[str] = Counter()  # deliveries under way, per endpoint
        self._waiting: dict[str, deque[Event]] = {}  # events past an endpoint's bound, in order
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._seen: Mapping[str, Endpoint] = timeline.world.hooks.endpoints
        self._scan = 0.0  # when to look for deliveries to take over next
        self._holder = ("", 0)
        timeline.observers.append(self._logged)

    @property
    def holder(self) -> str:
        """This process, among every process of every server that may serve the world."""
        if self._holder[1] != os.getpid():  # a fork is another process
            made = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
            self._holder = (made, os.getpid())
        return self._holder[0]

    async def _logged(self, change: Change) -> None:
        """A change this process logged: its events are this process's to start sending (kept
        as pending before the change is acknowledged), and the deliveries to endpoints it
        removed are forgotten by every process."""
        hooks = self.timeline.world.hooks
        if hooks.endpoints is not self._seen:  # endpoints are replaced whole when they change
            gone = self._seen.keys() - hooks.endpoints.keys()
            self._seen = hooks.endpoints
            if gone:
                await self._shared(self.pending.forget, gone)
                for endpoint_id in gone:
                    self._waiting.pop(endpoint_id, None)
        if hooks.endpoints:
            await self._start(self._wanted([event for event in hooks.born if event.seq == change.seq]))

    def _wanted(self, events: list[Event]) -> dict[Endpoint, list[Event]]:
        """Each endpoint's events among `events`, in order. Endpoints that want the same events
        (the same API and types) share one list, made once: a move of years gives birth to
        thousands of events, and a world may have a hundred endpoints."""
        by_interest: dict[tuple[str, tuple[str, ...] | None], list[Event]] = {}
        wanted: dict[Endpoint, list[Event]] = {}
        for endpoint in self.timeline.world.hooks.endpoints.values():
            interest = (endpoint.api, endpoint.types)
            found = by_interest.get(interest)
            if found is None:
                found = by_interest[interest] = [
                    event for event in events if endpoint.wants(event.api, event.type)
                ]
            if found:
                wanted[endpoint] = found
        return wanted

    def targets(self, event: Event) -> list[Endpoint]:
        """The endpoints that want an event: of its API, subscribed to its type."""
        endpoints = self.timeline.world.hooks.endpoints.values()
        return [e for e in endpoints if e.wants(event.api, event.type)]

    async def send(self, event: Event, to: list[Endpoint] | None = None) -> list[Endpoint]:
        """Start delivering `event` to `to` (by default every endpoint that wants it)."""
        endpoints = self.targets(event) if to is None else to
        await self._start({endpoint: [event] for endpoint in endpoints})
        return endpoints

    async def _start(self, wanted: dict[Endpoint, list[Event]]) -> None:
        """Begin the deliveries within each endpoint's bound; the others wait their turn."""
        await self._begin(self._within_bound(wanted))

    async def _begin(self, sends: list[tuple[Event, Endpoint]]) -> None:
        """Keep each delivery as pending, held by this process for its first attempt, made now."""
        if not sends:
            return
        now, seq = time.time(), self.timeline.world.seq
        held = [
            (
                Delivery(f"{endpoint.id}/{secrets.token_hex(8)}", endpoint.id, event, seq, 1),
                _held(now, endpoint),
            )
            for event, endpoint in sends
        ]
        await self._shared(self.pending.add, held, self.holder)
        for index, (delivery, _until) in enumerate(held):
            self._spawn(delivery, now + index * SPREAD)

    def _within_bound(self, wanted: dict[Endpoint, list[Event]]) -> list[tuple[Event, Endpoint]]:
        """The deliveries that keep each endpoint within its bound of deliveries under way; the
        other events wait behind those of their endpoint already waiting."""
        bound = max(
            1, min(UNDER_WAY, self.pending.under_way // max(1, len(self.timeline.world.hooks.endpoints)))
        )
        kept: list[tuple[Event, Endpoint]] = []
        for endpoint, events in wanted.items():
            waiting = self._waiting.get(endpoint.id)
            room = 0 if waiting else max(0, bound - self._under_way[endpoint.id])
            kept += zip(events[:room], repeat(endpoint))
            if len(events) > room:
                self._waiting.setdefault(endpoint.id, deque()).extend(events[room:])
        return kept

    def _next_waiting(self, endpoint_id: str) -> None:
        """Start the endpoint's next waiting event, now that one of its deliveries ended."""
        waiting = self._waiting.get(endpoint_id)
        endpoint = self.timeline.world.hooks.endpoints.get(endpoint_id)
        if not waiting or endpoint is None:
            self._waiting.pop(endpoint_id, None)
            return
        event = waiting.popleft()
        if not waiting:
            del self._waiting[endpoint_id]
        task = asyncio.get_running_loop().create_task(self._begin([(event, endpoint)]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def take_over(self) -> None:
        """Start the deliveries whose holder let their hold run out (it died, or is far
        behind): twice a second at most, and only while the world has endpoints."""
        endpoints = self.timeline.world.hooks.endpoints
        self._seen = endpoints
        now = time.time()
        if not endpoints or now < self._scan:
            return
        self._scan = now + SCAN
        for delivery in (
            await self._shared(self.pending.take, self.holder, now + GRACE, now, TAKEN, otherwise=[]) or ()
        ):
            self._spawn(delivery, now)

    def _spawn(self, delivery: Delivery, due: float) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(delivery, due))
        self._tasks.add(task)
        self._under_way[delivery.endpoint] += 1
        task.add_done_callback(lambda done: self._ended(done, delivery.endpoint))

    def _ended(self, task: asyncio.Task[None], endpoint: str) -> None:
        self._tasks.discard(task)
        self._under_way[endpoint] -= 1
        if not self._under_way[endpoint]:
            del self._under_way[endpoint]
        if not task.cancelled():
            self._next_waiting(endpoint)

    async def _shared(
        self, operation: Callable[..., Awaitable[T]], *args: Any, otherwise: T | None = None
    ) -> T | None:
        """An operation on the pending deliveries; `otherwise` if they cannot be reached now:
        this process goes on with the deliveries it holds, as if it were alone."""
        try:
            return await operation(*args)
        except PendingError as exc:
            log.warning("webhook deliveries go on in this process alone: %s", exc)
            return otherwise

    async def _deliver(self, delivery: Delivery, due: float) -> None:
        """Make a delivery's attempts from `due` on, each once this process has claimed it
        (when its turn among the endpoint's attempts has come: a hold runs from the attempt's
        start), until one is answered 2xx, the schedule ends, its endpoint is removed or
        another process took it over."""
        while True:
            if (wait := due - time.time()) > 0:
                await asyncio.sleep(wait)
            world = self.timeline.world
            if world.seq < delivery.seq:
                return  # taken over by a process behind: left for one that is not
            endpoint = world.hooks.endpoints.get(delivery.endpoint)
            if endpoint is None:  # removed meanwhile: nobody is there to retry for
                await self._shared(self.pending.drop, delivery.id, self.holder)
                return
            async with self._gates.setdefault(endpoint.id, asyncio.Semaphore(PER_ENDPOINT)):
                now = time.time()
                until = _held(now, endpoint)
                found = await self._shared(
                    self.pending.claim, delivery.id, self.holder, until, now, otherwise=delivery
                )
                if found is None:
                    return  # another process holds it, or it is done
                delivery = found
                status, error, took = await self._attempt(delivery.event, endpoint)
            schedule = SCHEDULES[endpoint.api]
            done = status is not None and status < 300
            later = None if done or delivery.attempt >= len(schedule) else schedule[delivery.attempt]
            self._record(
                delivery, status, error, took, None if later is None else later * endpoint.retry_scale
            )
            if later is None:
                await self._shared(self.pending.drop, delivery.id, self.holder)
                return
            delivery = dataclasses.replace(delivery, attempt=delivery.attempt + 1)
            due = time.time() + later * endpoint.retry_scale
            if not await self._shared(
                self.pending.reschedule, delivery, self.holder, due + GRACE, otherwise=True
            ):
                return  # taken over meanwhile

    def _record(
        self, delivery: Delivery, status: int | None, error: str | None, took: float, later: float | None
    ) -> None:
        now, event = time.time(), delivery.event
        self.attempts.append(
            Attempt(
                event.id,
                event.type,
                delivery.endpoint,
                delivery.attempt,
                status,
                error,
                took,
                now,
                None if later is None else now + later,
                os.getpid(),
            )
        )
        self.made += 1

    async def _attempt(self, event: Event, endpoint: Endpoint) -> tuple[int | None, str | None, float]:
        """One POST: its status, or why none came, and how long it took (ms)."""
        started = time.monotonic()
        status, error = None, None
        try:
            async with _session().post(
                endpoint.url,
                data=event.body,
                headers=signing.headers(endpoint, event, time.time()),
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=endpoint.timeout_ms / 1000),
            ) as response:
                status = response.status
        except TimeoutError:
            error = f"no answer within {endpoint.timeout_ms} ms"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"
        return status, error, round((time.monotonic() - started) * 1000, 3)

    def cancel(self) -> None:
        """Stop every delivery under way, and forget those waiting (the server is stopping, or
        the world is dropped)."""
        self._waiting.clear()
        for task in list(self._tasks):
            task.cancel()

    async def closed(self) -> None:
        self.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)


# The client session of each event loop that sends: every dispatcher of the process sends
# with it (a session and its connector cost more to make than an attempt to a closed port).
_SESSIONS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
    weakref.WeakKeyDictionary()
)


def _session() -> aiohttp.ClientSession:
    """The running loop's session, made on first use: a connection of its own for each attempt
    (no keep-alive), and no bound on connections but each endpoint's own."""
    loop = asyncio.get_running_loop()
    session = _SESSIONS.get(loop)
    if session is None or session.closed:
        session = _SESSIONS[loop] = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=True)
        )
    return session


async def close_session() -> None:
    """Close the running loop's session, if it made one (its server is stopping)."""
    session = _SESSIONS.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


def _held(now: float, endpoint: Endpoint) -> float:
    """Until when an attempt starting `now` is its maker's: its timeout and a margin."""
    return now + endpoint.timeout_ms / 1000 + MARGIN
