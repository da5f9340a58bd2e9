"""What a load run is asked to do and what it measured, independent of the tool generating it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LoadSettings:
    """A bounded load: it stops after `duration` seconds or `max_requests`, whichever is first."""

    connections: int
    duration: int
    warmup: int
    max_requests: int
    threads: int


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

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


class LoadGenerator(Protocol):
    name: str
    caveat: str

    def run(self, url: str, settings: LoadSettings) -> LoadResult: ...


class LoadError(RuntimeError):
    """A load generator failed or printed something unexpected."""


def pick_generator(choice: str) -> LoadGenerator:
    """`auto` prefers wrk (a C client does not steal as much CPU from the server as Python)."""
    from bench.loadgen import BuiltinGenerator
    from bench.wrk import Wrk

    executable = shutil.which("wrk")
    if choice == "builtin" or (choice == "auto" and executable is None):
        return BuiltinGenerator()
    if executable is None:
        raise LoadError("wrk is not on PATH (Debian: apt-get install wrk)")
    return Wrk(executable)
