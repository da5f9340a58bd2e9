"""What a load run is asked to do and what it measured, independent of the tool generating it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bench.cpu import Meter


@dataclass(frozen=True)
class LoadSettings:
    """A bounded load: it stops after `duration` seconds or `max_requests`, whichever is first.

    With several `rounds`, the mock and its ceiling take turns that many times, each run bounded
    so, and the rounds are combined (see `combine`): a machine whose speed drifts then weighs on
    both alike. `uncached` makes every request unique (see `NONCE`), so that nothing keyed by the
    request text can answer it: it checks that a repeated request buys the mock nothing.
    """

    connections: int
    duration: int
    warmup: int
    max_requests: int
    threads: int
    rounds: int = 1
    uncached: bool = False  # every request carries a unique `bench_nonce` parameter


# A query parameter neither API knows, so both ignore it; unique per request, it keeps any
# cache keyed by the request text from answering, and the ceiling drops it before its look-up.
NONCE = "bench_nonce"


def with_nonce(target: str, nonce: str) -> str:
    return f"{target}{'&' if '?' in target else '?'}{NONCE}={nonce}"


def without_nonce(target: str) -> str:
    for separator in ("&", "?"):
        head, found, _ = target.partition(f"{separator}{NONCE}=")
        if found:
            return head
    return target


@dataclass(frozen=True)
class LoadResult:
    """Measured over the timed part of a run only (warm-up excluded)."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    capped: bool
    cpu_seconds: float = 0.0  # the server's CPU time (all its processes) over the measured run
    minor_faults: int = 0  # the server's minor page faults over the measured run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_us_per_request(self) -> float:
        return 1e6 * self.cpu_seconds / self.requests if self.requests else 0.0

    @property
    def faults_per_request(self) -> float:
        return self.minor_faults / self.requests if self.requests else 0.0


def combine(runs: list[LoadResult]) -> LoadResult:
    """Several runs as one: throughput over their total time, latencies as the median run's."""
    if len(runs) == 1:
        return runs[0]

    def median(values: list[float]) -> float:
        ordered = sorted(values)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

    return LoadResult(
        requests=sum(r.requests for r in runs),
        seconds=sum(r.seconds for r in runs),
        p50_ms=median([r.p50_ms for r in runs]),
        p99_ms=median([r.p99_ms for r in runs]),
        non_2xx=sum(r.non_2xx for r in runs),
        socket_errors=sum(r.socket_errors for r in runs),
        capped=any(r.capped for r in runs),
        cpu_seconds=sum(r.cpu_seconds for r in runs),
        minor_faults=sum(r.minor_faults for r in runs),
    )


class LoadGenerator(Protocol):
    name: str
    caveat: str

    def run(
        self, base_url: str, targets: list[str], settings: LoadSettings, meter: Meter | None = None
    ) -> LoadResult:
        """Warm up, then measure, requesting `targets` in turn; `meter()` wraps the measured
        part only."""
        ...


class LoadError(RuntimeError):
    """A load generator failed or printed something unexpected."""
