"""Changes to the world during a benchmark: a burst before the reads (how fast changes are
applied, and what the reads cost after them), and a steady stream while the reads run.

Each change is a clock advance through `POST /_mock/clock`, the control plane's own route:
every advance runs the billing lifecycle, so it touches every open draft (month-to-date
spend) and, at a period end, finalizes them and opens the next ones.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import aiohttp

CLOCK = "/_mock/clock"


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


async def _advance(session: aiohttp.ClientSession, url: str, step: str) -> None:
    async with session.post(url, json={"advance": step}) as response:
        if response.status != 200:
            raise RuntimeError(f"POST {CLOCK} -> {response.status}: {(await response.read())[:200]!r}")
        await response.read()


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


class ChangeStream:
    """Advances of `step` at `rate` per second from a thread of its own, while reads are loaded."""

    def __init__(self, base_url: str, rate: float, step: str) -> None:
        self.base_url, self.rate, self.step = base_url, rate, step
        self.count = 0
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

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
                await _advance(session, self.base_url + CLOCK, self.step)
                self.count += 1
                due += interval
                await asyncio.sleep(max(due - time.perf_counter(), 0))

    def describe(self) -> str:
        problem = f"; it failed: {self.error}" if self.error else ""
        return f"{self.count} clock advances of {self.step} while reads ran (asked: {self.rate:g}/s){problem}"
