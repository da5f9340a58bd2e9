"""Sending one served world's events: after the change that gave birth to them is logged, by
the process that logged it (so each attempt is made once however many workers serve the
world), as tasks of their own (never in the path of the request), each (event, endpoint) on
its own so that a slow or dead receiver delays no other. A status above 299, an error or a
timeout is retried on the provider's schedule, scaled by the endpoint's `retry_scale`, with
the same event id and body. Every attempt is recorded, newest last, in a bounded list.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiohttp

from mockserver.webhooks import signing
from mockserver.world import clock
from mockserver.world.changes import Change
from mockserver.world.endpoints import Endpoint
from mockserver.world.hooks import Event
from mockserver.world.timeline import Timeline

RECORDS = 1_000  # attempts recorded per process
PER_ENDPOINT = 8  # attempts in flight to one endpoint at a time


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
        }


def _instant(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall)) + f".{int(wall * 1000) % 1000:03d}Z"


class Dispatcher:
    """The deliveries of one served world's events, made by this process."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.attempts: deque[Attempt] = deque(maxlen=RECORDS)
        self._tasks: set[asyncio.Task[None]] = set()
        self._gates: dict[str, asyncio.Semaphore] = {}
        timeline.observers.append(self._logged)

    def _logged(self, change: Change) -> None:
        """A change this process logged: its events are this process's to send."""
        hooks = self.timeline.world.hooks
        if hooks.endpoints:
            for event in hooks.born:
                if event.seq == change.seq:
                    self.send(event)

    def targets(self, event: Event) -> list[Endpoint]:
        """The endpoints that want an event: of its API, subscribed to its type."""
        endpoints = self.timeline.world.hooks.endpoints.values()
        return [e for e in endpoints if e.api == event.api and e.wants(event.type)]

    def send(self, event: Event, to: list[Endpoint] | None = None) -> list[Endpoint]:
        """Start delivering `event` to `to` (by default every endpoint that wants it)."""
        endpoints = self.targets(event) if to is None else to
        loop = asyncio.get_running_loop()
        for endpoint in endpoints:
            task = loop.create_task(self._deliver(event, endpoint))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return endpoints

    async def _deliver(self, event: Event, endpoint: Endpoint) -> None:
        schedule = SCHEDULES[endpoint.api]
        for number, delay in enumerate(schedule, 1):
            if delay:
                await asyncio.sleep(delay * endpoint.retry_scale)
                if endpoint.id not in self.timeline.world.hooks.endpoints:
                    return  # removed meanwhile: nobody is there to retry for
            status, error, took = await self._attempt(event, endpoint)
            done = status is not None and status < 300
            later = None if done or number == len(schedule) else schedule[number] * endpoint.retry_scale
            now = time.time()
            self.attempts.append(
                Attempt(
                    event.id,
                    event.type,
                    endpoint.id,
                    number,
                    status,
                    error,
                    took,
                    now,
                    None if later is None else now + later,
                )
            )
            if done:
                return

    async def _attempt(self, event: Event, endpoint: Endpoint) -> tuple[int | None, str | None, float]:
        """One POST: its status, or why none came, and how long it took (ms)."""
        gate = self._gates.setdefault(endpoint.id, asyncio.Semaphore(PER_ENDPOINT))
        async with gate:
            started = time.monotonic()
            status, error = None, None
            try:
                timeout = aiohttp.ClientTimeout(total=endpoint.timeout_ms / 1000)
                async with (
                    aiohttp.ClientSession(timeout=timeout) as session,
                    session.post(
                        endpoint.url,
                        data=event.body,
                        headers=signing.headers(endpoint, event, time.time()),
                        allow_redirects=False,
                    ) as response,
                ):
                    status = response.status
            except TimeoutError:
                error = f"no answer within {endpoint.timeout_ms} ms"
            except aiohttp.ClientError as exc:
                error = f"{type(exc).__name__}: {exc}"
            return status, error, round((time.monotonic() - started) * 1000, 3)

    def listing(
        self, endpoint: str | None, event_type: str | None, event_id: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """The attempts recorded, newest first, that fit every filter given."""
        found = []
        for attempt in reversed(self.attempts):
            if (
                (endpoint is None or attempt.endpoint == endpoint)
                and (event_type is None or attempt.type == event_type)
                and (event_id is None or attempt.event_id == event_id)
            ):
                found.append(attempt.public())
                if len(found) == limit:
                    break
        return found

    def cancel(self) -> None:
        """Stop every delivery under way (the server is stopping)."""
        for task in list(self._tasks):
            task.cancel()

    async def closed(self) -> None:
        self.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
