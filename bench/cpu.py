"""CPU time of a server and the workers it forks, read from /proc.

Throughput on a shared machine moves with whatever else runs; the CPU time a server spends per
request moves much less, so the report gives both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from bench.memory import tree

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# A load generator calls it around the measured part of a run, warm-up left out.
Meter = Callable[[], AbstractContextManager[None]]


def cpu_seconds(pid: int) -> float:
    """User plus system time of one process, 0 if it is gone or /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


class TreeCpu:
    """The CPU time a process tree spends inside `meter()` blocks, added up in `seconds`."""

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.seconds = 0.0

    def _read(self) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pid in tree(self.root_pid)}

    @contextmanager
    def meter(self) -> Iterator[None]:
        before = self._read()
        try:
            yield
        finally:
            after = self._read()
            self.seconds += sum(max(0.0, spent - before.get(pid, 0.0)) for pid, spent in after.items())
