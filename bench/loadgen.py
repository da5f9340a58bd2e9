"""Built-in load generator (aiohttp client), used when wrk is not installed.

It runs in its own process so it never shares an event loop or a core's time slice with the
harness; on a small machine it is still likely to be the bottleneck, which the report says.
Run as `python -m bench.loadgen --url BASE_URL --targets FILE ...` (one request target a line,
requested in turn); prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict
from functools import partial
from pathlib import Path

import aiohttp
from yarl import URL

from bench.client import AUTH_HEADERS
from bench.cpu import Meter
from bench.load import LoadError, LoadResult, LoadSettings, with_nonce
from bench.process import PACKAGE_ROOT


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def hammer(base_url: str, targets: list[str], settings: LoadSettings) -> LoadResult:
    """Keep `connections` requests in flight, to `targets` in turn; only requests begun after
    the warm-up count."""
    latencies: list[float] = []
    counts = {"non_2xx": 0, "socket_errors": 0}
    urls = [URL(base_url + target, encoded=True) for target in targets]
    run_id, sent = uuid.uuid4().hex[:12], [0]
    clock = time.perf_counter
    measure_from = clock() + settings.warmup
    stop_at = measure_from + settings.duration
    connector = aiohttp.TCPConnector(limit=settings.connections)
    async with aiohttp.ClientSession(
        connector=connector,
        headers=AUTH_HEADERS,
        skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent"),
        auto_decompress=False,
    ) as session:

        async def worker() -> None:
            while True:
                begun = clock()
                if begun >= stop_at or len(latencies) >= settings.max_requests:
                    return
                sent[0] += 1
                where = urls[sent[0] % len(urls)]
                if settings.uncached:
                    where = URL(with_nonce(str(where), f"{run_id}-{sent[0]}"), encoded=True)
                try:
                    async with session.get(where) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, OSError):
                    counts["socket_errors"] += begun >= measure_from
                    continue
                if begun >= measure_from:
                    latencies.append(clock() - begun)
                    counts["non_2xx"] += not 200 <= status < 300

        await asyncio.gather(*(worker() for _ in range(settings.connections)))
    elapsed = clock() - measure_from
    latencies.sort()
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        capped=len(latencies) >= settings.max_requests,
        **counts,
    )


class BuiltinGenerator:
    """Runs `hammer` in a child process."""

    name = f"builtin (aiohttp {aiohttp.__version__} client, 1 process)"
    caveat = "a Python client sharing the cores is likely the bottleneck: ratios lean toward 1"

    def run(
        self, base_url: str, targets: list[str], settings: LoadSettings, meter: Meter | None = None
    ) -> LoadResult:
        """Warm-up and measurement in one process, or, to meter the measurement alone, in two."""
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as listed:
            listed.write("".join(f"{target}\n" for target in targets))
            listed.flush()
            invoke = partial(self._invoke, base_url, listed.name, settings)
            if meter is None:
                return invoke(settings.duration, settings.warmup)
            if settings.warmup:
                invoke(settings.warmup, 0)
            with meter():
                return invoke(settings.duration, 0)

    def _invoke(
        self, base_url: str, targets: str, settings: LoadSettings, duration: int, warmup: int
    ) -> LoadResult:
        cmd = [
            sys.executable,
            "-m",
            "bench.loadgen",
            f"--url={base_url}",
            f"--targets={targets}",
            f"--connections={settings.connections}",
            f"--duration={duration}",
            f"--warmup={warmup}",
            f"--max-requests={settings.max_requests}",
            *(["--uncached"] if settings.uncached else []),
        ]
        timeout = warmup + duration + 60
        done = subprocess.run(cmd, cwd=PACKAGE_ROOT, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise LoadError(f"built-in load generator failed: {done.stderr.strip()}")
        return LoadResult(**json.loads(done.stdout))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("--url", required=True, help="base URL")
    parser.add_argument("--targets", type=Path, required=True, help="request targets, one a line")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--uncached", action="store_true")
    args = parser.parse_args(argv)
    settings = LoadSettings(
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        max_requests=args.max_requests,
        threads=1,
        uncached=args.uncached,
    )
    targets = args.targets.read_text().split()
    print(json.dumps(asdict(asyncio.run(hammer(args.url, targets, settings)))))


if __name__ == "__main__":
    main()
