"""CPU time and page faults of a server and the workers it forks, read from /proc.

Throughput on a shared machine moves with whatever else runs; the CPU time a server spends per
request moves much less, so the report gives both. Minor page faults per request show memory
the allocator gave back and takes again (a heap trimmed and regrown on every large page).
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


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3 first); empty if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def usage(pid: int) -> tuple[float, int]:
    """CPU seconds and minor page faults (field 10) of one process; zeros if it is gone."""
    fields = _stat(pid)
    return ((int(fields[11]) + int(fields[12])) / TICKS, int(fields[7])) if fields else (0.0, 0)


class TreeCpu:
    """The CPU time a process tree spends inside `meter()` blocks, added up in `seconds`, and
    the minor page faults it takes there, in `faults`."""

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.seconds = 0.0
        self.faults = 0

    def _read(self) -> dict[int, tuple[float, int]]:
        return {pid: usage(pid) for pid in tree(self.root_pid)}

    @contextmanager
    def meter(self) -> Iterator[None]:
        before = self._read()
        try:
            yield
        finally:
            for pid, (spent, faults) in self._read().items():
                spent_before, faults_before = before.get(pid, (0.0, 0))
                self.seconds += max(0.0, spent - spent_before)
                self.faults += max(0, faults - faults_before)
