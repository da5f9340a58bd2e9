"""Peak memory of a server and the workers it forks, read from /proc.

Two measures, because forked workers share the pages of the world they inherited:

- peak RSS: each process's VmHWM is its own exact peak, so sampling only has to notice which
  processes exist; the tree's figure is the sum of those peaks. Exact for one process, an upper
  bound with workers (a shared page counts once per process).
- peak PSS: the proportional set size splits every shared page between the processes sharing
  it, so the sum over the tree is the memory the server really holds. It has no kernel-kept
  peak: it is sampled (less often, as reading it walks the page tables), so it is a lower
  bound of the true peak.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType

PROC = Path("/proc")


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            found.extend(int(child) for child in (task / "children").read_text().split())
    except OSError:
        pass
    return found


def status_kib(pid: int, field: str, name: str = "status") -> int | None:
    try:
        for line in (PROC / str(pid) / name).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def tree(root: int) -> list[int]:
    """A process and its descendants."""
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children(pid))
    return found


class PeakMemory:
    """Samples a process tree in a background thread until stopped."""

    def __init__(self, root_pid: int, interval: float = 0.05, pss_interval: float = 0.5) -> None:
        self.root_pid = root_pid
        self.interval = interval
        self.pss_interval = pss_interval
        self._peaks: dict[int, int] = {}
        self._pss_peak = 0
        self._pss_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, pss: bool = False) -> None:
        with self._lock:
            pids = tree(self.root_pid)
            for pid in pids:
                peak = status_kib(pid, "VmHWM:")
                if peak is not None:
                    self._peaks[pid] = max(peak, self._peaks.get(pid, 0))
            now = time.monotonic()
            if pss or now - self._pss_at >= self.pss_interval:
                self._pss_at = now
                sizes = [status_kib(pid, "Pss:", "smaps_rollup") for pid in pids]
                self._pss_peak = max(self._pss_peak, sum(size or 0 for size in sizes))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        """Take a sample now, PSS included (say, right after the server became ready)."""
        self._sample(pss=True)

    @property
    def peak_mb(self) -> float:
        """Sum of per-process peak RSS so far, in MB (MiB, as /proc's kB are KiB)."""
        self._sample()
        return sum(self._peaks.values()) / 1024

    @property
    def peak_pss_mb(self) -> float:
        """Highest sampled sum of PSS over the tree, in MB (MiB); 0 where /proc lacks it."""
        self._sample(pss=True)
        return self._pss_peak / 1024

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
