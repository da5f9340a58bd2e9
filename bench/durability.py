"""The change log under load, on the command as shipped: how long a start takes to replay a
log of a million ingested events (time to health 200, and peak memory above a fresh server's),
with and without the snapshot kept beside it; how long the first requests wait after a worker
is killed while that log grows; and how much memory a million ingested events cost, across
35-day clock advances that let their keys be forgotten.

Run as `python -m bench.durability [--events N] [--json FILE]`.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import itertools
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

from bench.ingest import BATCH, PATHS, Batches, discover
from bench.memory import children, status_kib
from bench.process import ServerProcess

MB = 1024  # KiB
KILL_AFTER = 2.0  # seconds of ingestion before a worker is killed
WATCH = 3.0  # seconds the first requests after the kill are watched


def serve(*args: str) -> list[str]:
    return [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet", *args]


def started(*args: str) -> ServerProcess:
    server = ServerProcess("mock server", serve(*args))
    server.wait_ready(300)
    return server


async def post_events(base: str, count: int, first: int, connections: int = 8) -> float:
    """Ingest `count` events as Metronome batches of BATCH (ids from batch `first` on);
    returns the seconds it took."""
    world = await discover(base)
    batches = Batches(world, "metronome")
    batches.serial = itertools.count(first)
    left = count // BATCH
    url = base + PATHS["metronome"]
    headers = {"Authorization": "Bearer bench", "Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal left
        while left > 0:
            left -= 1
            try:
                async with session.post(url, data=batches.next(), headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"ingest answered {response.status}")
            except aiohttp.ClientConnectionError:  # its worker was killed: the batch is retried
                left += 1

    started_at = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    return time.perf_counter() - started_at


def get(port: int, path: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def post(port: int, path: str, body: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


def kib(pid: int, field: str) -> int:
    return status_kib(pid, field) or 0


def replay(log: Path, events: int) -> dict[str, float]:
    """A log of `events` written through a server, then started from: with its snapshot, and
    with the snapshot removed (a full replay)."""
    with started("--changes", str(log)) as writer:
        posted = asyncio.run(post_events(writer.url, events, 0))
    with ServerProcess("mock server", serve()) as fresh:
        fresh_seconds, _ = fresh.wait_healthy("/_mock/health", {}, 60)
        fresh_peak = kib(fresh.pid, "VmHWM:")
    results = {
        "events": events,
        "log_mb": log.stat().st_size / 2**20,
        "ingest_seconds": posted,
        "fresh_health_seconds": fresh_seconds,
    }
    snapshot = Path(f"{log}.snapshot")
    for label in ("snapshot", "full"):
        if label == "full":
            snapshot.unlink(missing_ok=True)
        with ServerProcess("mock server", serve("--changes", str(log))) as server:
            seconds, _ = server.wait_healthy("/_mock/health", {}, 300)
            results[f"{label}_health_seconds"] = seconds
            results[f"{label}_peak_mb_above_fresh"] = (kib(server.pid, "VmHWM:") - fresh_peak) / MB
    return results


def worker_kill(log: Path, events: int) -> dict[str, float]:
    """Two workers on the log; ingestion runs, a worker is killed; every request on a fresh
    connection after that is timed until the replacement has answered for WATCH seconds."""
    with started("--workers", "2", "--changes", str(log)) as server:
        port = server.port
        stream = threading.Thread(target=lambda: asyncio.run(post_events(server.url, events, 10**7)))
        stream.start()
        time.sleep(KILL_AFTER)
        before = set(children(server.pid))
        killed = sorted(before)[0]
        os.kill(killed, signal.SIGKILL)
        killed_at = time.perf_counter()
        latencies: list[float] = []
        resets = 0  # connections the killed worker had taken: a client tries again
        replacement_first = None
        while time.perf_counter() - killed_at < WATCH or replacement_first is None:
            begun = time.perf_counter()
            try:
                _status, body = get(port, "/_mock/health")
            except ConnectionError:
                resets += 1
                continue
            latency = time.perf_counter() - begun
            latencies.append(latency)
            if body.get("pid") not in before and replacement_first is None:
                replacement_first = latency
            if time.perf_counter() - killed_at > 60:
                break
        stream.join()
    return {
        "requests": len(latencies),
        "resets": resets,
        "max_ms": max(latencies) * 1000,
        "replacement_first_ms": (replacement_first or 0) * 1000,
    }


def memory(cycles: int, events: int) -> dict[str, float]:
    """The default command's resident memory after each million ingested, the clock moved 35
    days between them (so that the keys of the million before are forgotten)."""
    with started() as server:
        server.wait_healthy("/_mock/health", {}, 60)
        base = kib(server.pid, "VmRSS:")
        after = []
        for cycle in range(cycles):
            asyncio.run(post_events(server.url, events, cycle * 10**7))
            after.append((kib(server.pid, "VmRSS:") - base) / MB)
            post(server.port, "/_mock/clock", {"advance": "P35D"})
    return {f"after_{n + 1}": grown for n, grown in enumerate(after)} | {"events_per_cycle": events}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.durability", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the log, and per cycle")
    parser.add_argument("--cycles", type=int, default=3, help="ingest-then-advance cycles for memory")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results to this file")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-durability-") as scratch:
        log = Path(scratch) / "changes.jsonl"
        results["replay"] = replay(log, args.events)
        print(f"replay: {results['replay']}", file=sys.stderr, flush=True)
        results["worker kill"] = worker_kill(log, args.events // 2)
        print(f"worker kill: {results['worker kill']}", file=sys.stderr, flush=True)
    results["memory"] = memory(args.cycles, args.events)
    print(f"memory: {results['memory']}", file=sys.stderr, flush=True)
    replayed, kill, grown = results["replay"], results["worker kill"], results["memory"]
    print(
        f"replay of {replayed['events']:,.0f} events ({replayed['log_mb']:.0f} MB of log): health 200 after "
        f"{replayed['snapshot_health_seconds']:.2f} s from its snapshot "
        f"(peak {replayed['snapshot_peak_mb_above_fresh']:.0f} MB above a fresh server), "
        f"{replayed['full_health_seconds']:.2f} s replaying it all "
        f"(peak {replayed['full_peak_mb_above_fresh']:.0f} MB above); a fresh server: "
        f"{replayed['fresh_health_seconds']:.2f} s\n"
        f"worker killed while ingesting: {kill['requests']:.0f} requests on fresh connections "
        f"({kill['resets']:.0f} reset by the kill), slowest "
        f"{kill['max_ms']:.0f} ms, the replacement's first {kill['replacement_first_ms']:.0f} ms\n"
        "resident memory grown: "
        + ", ".join(f"{grown[f'after_{n + 1}']:.0f} MB" for n in range(args.cycles))
        + f" after each {args.events:,} events ingested, the clock moved 35 days between them"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
