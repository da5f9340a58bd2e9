"""Load with wrk, reading its results from a Lua `done()` hook rather than its prose output."""

from __future__ import annotations

import json
import math
import subprocess
import tempfile

from bench.client import AUTH_HEADERS
from bench.load import LoadError, LoadResult, LoadSettings

# Per-thread response counting gives an exact non-2xx count and the request cap; done() runs
# once, after all threads, and sees every thread's globals through setup()'s handles.
SCRIPT = """
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  cap = tonumber(args[1])
  responses = 0
  non2xx = 0
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  if responses >= cap then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad, e.connect + e.read + e.write + e.timeout))
end
"""


class Wrk:
    """wrk on PATH; one invocation for the warm-up, one for the measurement."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        banner = subprocess.run([executable, "--version"], capture_output=True, text=True)
        words = (banner.stdout or banner.stderr).split()
        self.name = " ".join(words[:2]) if words else "wrk"

    def run(self, url: str, settings: LoadSettings) -> LoadResult:
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(SCRIPT)
            script.flush()
            if settings.warmup:
                self._invoke(script.name, url, settings, settings.warmup)
            return self._invoke(script.name, url, settings, settings.duration)

    def _invoke(self, script: str, url: str, settings: LoadSettings, seconds: int) -> LoadResult:
        threads = max(1, min(settings.threads, settings.connections))
        per_thread_cap = math.ceil(settings.max_requests / threads)
        cmd = [
            self.executable,
            f"--threads={threads}",
            f"--connections={settings.connections}",
            f"--duration={seconds}s",
            "--timeout=10s",
            f"--script={script}",
            *(f"--header={name}: {value}" for name, value in AUTH_HEADERS.items()),
            url,
            "--",
            str(per_thread_cap),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
        for line in done.stdout.splitlines():
            if line.startswith("BENCH "):
                raw = json.loads(line.removeprefix("BENCH "))
                return LoadResult(
                    requests=raw["requests"],
                    seconds=raw["duration_us"] / 1e6,
                    p50_ms=raw["p50_us"] / 1000,
                    p99_ms=raw["p99_us"] / 1000,
                    non_2xx=raw["non_2xx"],
                    socket_errors=raw["socket_errors"],
                )
        raise LoadError(f"wrk gave no result (exit {done.returncode}): {done.stderr.strip()}")
