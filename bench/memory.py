"""Peak resident memory of a server and the workers it forks, read from /proc.

Each process's VmHWM is its own exact peak, so sampling only has to notice which processes
exist; the tree's peak is reported as the sum of their peaks (exact for one process, an upper
bound with workers).
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

PROC = Path("/proc")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            found.extend(int(child) for child in (task / "children").read_text().split())
    except OSError:
        pass
    return found


def _peak_kib(pid: int) -> int | None:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakMemory:
    """Samples a process tree in a background thread until stopped."""

    def __init__(self, root_pid: int, interval: float = 0.05) -> None:
        self.root_pid = root_pid
        self.interval = interval
        self._peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        pending = [self.root_pid]
        while pending:
            pid = pending.pop()
            peak = _peak_kib(pid)
            if peak is not None:
                self._peaks[pid] = max(peak, self._peaks.get(pid, 0))
                pending.extend(_children(pid))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    @property
    def peak_mb(self) -> float:
        """Sum of per-process peaks so far, in MB (MiB, as /proc's kB are KiB)."""
        self._sample()
        return sum(self._peaks.values()) / 1024

    @property
    def processes(self) -> int:
        return len(self._peaks)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
