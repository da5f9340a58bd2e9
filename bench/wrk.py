"""Load with wrk, reading its results from a Lua `done()` hook rather than its prose output."""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
import uuid
from contextlib import nullcontext

from bench.client import AUTH_HEADERS
from bench.cpu import Meter
from bench.load import NONCE, LoadError, LoadResult, LoadSettings

# Per-thread response counting gives an exact non-2xx count and the request cap. wrk keeps
# timing until its --duration is over even when every thread stopped early at the cap, so each
# thread also times itself and done() rebuilds the duration from the per-thread rates.
SCRIPT = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local threads = {}

local function now_us()
  local t = ffi.new("bench_timespec")
  ffi.C.clock_gettime(CLOCK_MONOTONIC, t)
  return tonumber(t.tv_sec) * 1e6 + tonumber(t.tv_nsec) / 1e3
end

function setup(thread)
  table.insert(threads, thread)
  thread:set("tag", #threads)
end

function init(args)
  cap = tonumber(args[1])
  run_id = args[2]
  responses = 0
  non2xx = 0
  started_us = now_us()
  capped_us = 0
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  if capped_us == 0 and responses >= cap then
    capped_us = now_us() - started_us
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad, rate, capped = 0, 0, false
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    local took = thread:get("capped_us")
    if took > 0 then
      capped = true
    else
      took = summary.duration
    end
    rate = rate + thread:get("responses") / took
  end
  local duration = summary.duration
  if capped and rate > 0 then
    duration = summary.requests / rate
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"non_2xx": %d, "socket_errors": %d, "capped": %s}\\n',
    summary.requests, duration, latency:percentile(50), latency:percentile(99),
    bad, e.connect + e.read + e.write + e.timeout, tostring(capped)))
end
"""


# With a rotation or --uncached: request() sends the targets in turn, each thread starting at its
# own place, each built once; uncached, with a parameter unique to the run, thread and request.
ROTATING_REQUEST = """
local targets = {@TARGETS@}
local uncached = @UNCACHED@
local prepared = {}
local counter = 0

local function prepare()
  for i, target in ipairs(targets) do
    if uncached then
      local separator = string.find(target, "?", 1, true) and "&" or "?"
      prepared[i] = target .. separator .. "@NONCE@=" .. run_id .. "-" .. tag .. "-"
    else
      prepared[i] = wrk.format(nil, target)
    end
  end
end

function request()
  if counter == 0 then
    prepare()
  end
  counter = counter + 1
  local i = (counter + tag) % #targets + 1
  if uncached then
    return wrk.format(nil, prepared[i] .. counter)
  end
  return prepared[i]
end
""".replace("@NONCE@", NONCE)


def script(targets: list[str], uncached: bool) -> str:
    """The Lua script; one target asked again and again needs no request() at all."""
    if len(targets) == 1 and not uncached:
        return SCRIPT
    # Request targets are percent-encoded ASCII: a JSON string is a Lua string literal.
    listed = ", ".join(json.dumps(target) for target in targets)
    return SCRIPT + ROTATING_REQUEST.replace("@TARGETS@", listed).replace("@UNCACHED@", str(uncached).lower())


class Wrk:
    """wrk on PATH; one invocation for the warm-up, one for the measurement."""

    caveat = ""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        banner = subprocess.run([executable, "--version"], capture_output=True, text=True)
        words = (banner.stdout or banner.stderr).split()
        self.name = " ".join(words[:2]) if words else "wrk"

    def run(
        self, base_url: str, targets: list[str], settings: LoadSettings, meter: Meter | None = None
    ) -> LoadResult:
        url = base_url + targets[0]
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
            lua.write(script(targets, settings.uncached))
            lua.flush()
            if settings.warmup:
                self._invoke(lua.name, url, settings, settings.warmup)
            with meter() if meter else nullcontext():
                return self._invoke(lua.name, url, settings, settings.duration)

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
            uuid.uuid4().hex[:12],  # run id: no two runs send the same nonce
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
                    capped=raw["capped"],
                )
        raise LoadError(f"wrk gave no result (exit {done.returncode}): {done.stderr.strip()}")
