"""Changes to the world during a benchmark: a burst before the reads (how fast changes are
applied, and what the reads cost after them), and a steady stream while the reads run.

A burst is clock advances through `POST /_mock/clock`, the control plane's own route: every
advance runs the billing lifecycle, so it touches every open draft (month-to-date spend) and,
at a period end, finalizes them and opens the next ones. A stream is clock advances too, or
usage ingested through `POST /v1/ingest` for the customer whose invoices are read, so that
its open draft changes under the reads.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import aiohttp
import orjson

from bench.client import AUTH_HEADERS
from bench.ingest import BATCH, PATHS, Batches
from bench.ingest import World as IngestWorld

CLOCK = "/_mock/clock"
_JSON_HEADERS = {**AUTH_HEADERS, "Content-Type": "application/json"}


@dataclass(frozen=True)
class ChangeStats:
    step: str
    count: int
    seconds: float
    slowest_seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        return (
            f"{self.count} clock advances of {self.step} in {self.seconds:.2f} s "
            f"({self.per_second:.0f} changes/s; the slowest took {self.slowest_seconds * 1000:.1f} ms)"
        )


async def _post(session: aiohttp.ClientSession, url: str, body: bytes) -> None:
    async with session.post(url, data=body, headers=_JSON_HEADERS) as response:
        if response.status != 200:
            raise RuntimeError(f"POST {url} -> {response.status}: {(await response.read())[:200]!r}")
        await response.read()


async def _advance(session: aiohttp.ClientSession, url: str, step: str) -> None:
    await _post(session, url, orjson.dumps({"advance": step}))


async def _burst(base_url: str, count: int, step: str) -> ChangeStats:
    slowest = 0.0
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        for _ in range(count):
            before = time.perf_counter()
            await _advance(session, base_url + CLOCK, step)
            slowest = max(slowest, time.perf_counter() - before)
        return ChangeStats(step, count, time.perf_counter() - started, slowest)


def apply_changes(base_url: str, count: int, step: str) -> ChangeStats:
    """`count` advances of `step`, one after the other, timed."""
    return asyncio.run(_burst(base_url, count, step))


# A stream's next request: the path it is posted to and its JSON body.
Request = Callable[[], tuple[str, bytes]]


class ChangeStream:
    """Changes posted at `rate` per second from a thread of its own, while reads are loaded:
    clock advances (`advances`) or batches of usage events (`ingestion`)."""

    def __init__(self, base_url: str, rate: float, request: Request, what: str, unit: int = 1) -> None:
        """`what` names one request's change in the report; each carries `unit` of them."""
        self.base_url, self.rate, self.request, self.what, self.unit = base_url, rate, request, what, unit
        self.count = 0
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @classmethod
    def advances(cls, base_url: str, rate: float, step: str) -> ChangeStream:
        body = orjson.dumps({"advance": step})
        return cls(base_url, rate, lambda: (CLOCK, body), f"clock advances of {step}")

    @classmethod
    def ingestion(cls, base_url: str, events_per_second: float, customer: str, now: str) -> ChangeStream:
        """The ingestion benchmark's batches (`bench.ingest.Batches`) through the Metronome
        endpoint, all for one customer at the world's clock: every batch lands on its open draft."""
        batches = Batches(IngestWorld(now, [customer], [], []), "metronome")
        return cls(
            base_url,
            events_per_second / BATCH,
            lambda: (PATHS["metronome"], batches.next()),
            "usage events",
            BATCH,
        )

    def __enter__(self) -> ChangeStream:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            asyncio.run(self._stream())
        except Exception as error:  # reported with the results, not lost in a thread
            self.error = error

    async def _stream(self) -> None:
        interval = 1 / self.rate
        async with aiohttp.ClientSession() as session:
            due = time.perf_counter()
            while not self._stop.is_set():
                path, body = self.request()
                await _post(session, self.base_url + path, body)
                self.count += 1
                due += interval
                await asyncio.sleep(max(due - time.perf_counter(), 0))

    def describe(self) -> str:
        problem = f"; it failed: {self.error}" if self.error else ""
        asked = self.rate * self.unit
        return f"{self.count * self.unit} {self.what} while reads ran (asked: {asked:g}/s){problem}"
