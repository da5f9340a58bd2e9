"""The ingestion scenario: batches of 100 events with unique ids posted through each ingest
endpoint, alone and with reads running; reported in events per second.

Run as `python -m bench.ingest [--fixtures PATH] [--duration S] [--connections N]`. The
customers (and their aliases) and the world's clock are read from the server, so any fixture
with a contract and a metric works. Reads are the first page of a customer's invoices in each
API, measured alone first, so that their rate under ingestion reads as a share of it.

`--redis` measures replicas: a redis-server of its own (append-only file flushed every
second), the server given `--changes` its URL, and a second server following the same stream
(it holds the benchmark token's world, and is checked at the end to have applied every change).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson

from bench.client import AUTH_HEADERS, Client, ClientError, path_segment
from bench.cpu import TreeCpu
from bench.process import ServerError, ServerProcess

BATCH = 100
TARGET = 50_000  # events per second in one process


@dataclass
class Counts:
    requests: int = 0
    events: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0.0


@dataclass
class World:
    """What the batches and reads are made of, as the server describes its world."""

    now: str
    customers: list[str]  # ids or aliases, used in turn
    metronome_reads: list[str]
    meteroid_reads: list[str]


async def discover(base: str) -> World:
    async with Client(base) as client:
        now = (await client.get_json("/_mock/clock"))["now"]
        listed = (await client.get_json("/v1/customers?limit=100"))["data"]
        invoices = (await client.get_json("/api/v1/invoices?per_page=5"))["data"]
    if not listed:
        raise ServerError("the world lists no active customers to ingest for")
    customers = [c["ingest_aliases"][0] if c["ingest_aliases"] else c["id"] for c in listed]
    return World(
        now=now,
        customers=customers,
        metronome_reads=[f"/v1/customers/{path_segment(c['id'])}/invoices?limit=25" for c in listed],
        meteroid_reads=[f"/api/v1/invoices/{path_segment(i['id'])}" for i in invoices]
        or ["/api/v1/invoices"],
    )


class Batches:
    """Request bodies of BATCH events each, every event id unique across the run."""

    def __init__(self, world: World, api: str) -> None:
        self.world, self.api = world, api
        self.serial = itertools.count()
        self.customers = itertools.cycle(world.customers)

    def next(self) -> bytes:
        start = next(self.serial) * BATCH
        customer, now = next(self.customers), self.world.now
        if self.api == "metronome":
            return orjson.dumps(
                [
                    {
                        "transaction_id": f"bench-{start + i}",
                        "customer_id": customer,
                        "event_type": "api_request",
                        "timestamp": now,
                        "properties": {"user_id": f"u{i % 10}"},
                    }
                    for i in range(BATCH)
                ]
            )
        events = [
            {
                "event_id": f"bench-{start + i}",
                "customer_id": customer,
                "code": "api_request",
                "timestamp": now,
                "properties": {"user_id": f"u{i % 10}"},
            }
            for i in range(BATCH)
        ]
        return orjson.dumps({"events": events})


PATHS = {"metronome": "/v1/ingest", "meteroid": "/api/v1/events/ingest"}


async def load(
    session: aiohttp.ClientSession,
    connections: int,
    seconds: float,
    request: Callable[[aiohttp.ClientSession], Awaitable[tuple[bool, int]]],
    counts: Counts,
) -> None:
    """Keep `connections` requests in flight for `seconds`."""
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        while (begun := time.perf_counter()) < stop:
            ok, events = await request(session)
            counts.latencies.append(time.perf_counter() - begun)
            counts.requests += 1
            counts.events += events
            counts.errors += not ok

    await asyncio.gather(*(worker() for _ in range(connections)))


def poster(base: str, batches: Batches) -> Callable[[aiohttp.ClientSession], Awaitable[tuple[bool, int]]]:
    url, headers = base + PATHS[batches.api], {**AUTH_HEADERS, "Content-Type": "application/json"}

    async def post(session: aiohttp.ClientSession) -> tuple[bool, int]:
        async with session.post(url, data=batches.next(), headers=headers) as response:
            await response.read()
            return response.status == 200, BATCH

    return post


def getter(base: str, targets: list[str]) -> Callable[[aiohttp.ClientSession], Awaitable[tuple[bool, int]]]:
    urls = itertools.cycle([base + target for target in targets])

    async def get(session: aiohttp.ClientSession) -> tuple[bool, int]:
        async with session.get(next(urls), headers=AUTH_HEADERS) as response:
            await response.read()
            return response.status == 200, 0

    return get


async def measure(
    base: str, pid: int, args: argparse.Namespace, others: tuple[int, ...] = ()
) -> dict[str, dict[str, float]]:
    """The runs against the server `pid`; `others` (a follower, Redis) count in the CPU of all."""
    world = await discover(base)
    reads = getter(base, world.metronome_reads + world.meteroid_reads)
    results: dict[str, dict[str, float]] = {}
    connector = aiohttp.TCPConnector(limit=args.connections + args.readers)
    async with aiohttp.ClientSession(connector=connector) as session:
        await load(
            session, args.connections, args.warmup, poster(base, Batches(world, "metronome")), Counts()
        )

        async def run(name: str, api: str | None, readers: int) -> None:
            ingest, read = Counts(), Counts()
            jobs = []
            if api is not None:
                jobs.append(
                    load(session, args.connections, args.duration, poster(base, Batches(world, api)), ingest)
                )
            if readers:
                jobs.append(load(session, readers, args.duration, reads, read))
            cpu, rest = TreeCpu(pid), [TreeCpu(other) for other in others]
            started, generated = time.perf_counter(), time.process_time()
            with cpu.meter(), ExitStack() as metered:
                for each in rest:
                    metered.enter_context(each.meter())
                await asyncio.gather(*jobs)
            generated = time.process_time() - generated  # the load generator's own CPU time
            spent = cpu.seconds + sum(each.seconds for each in rest) + generated
            elapsed = time.perf_counter() - started
            results[name] = {
                "events_per_s": ingest.events / elapsed,
                # what the server could take were it never left waiting for the load generator
                "events_per_cpu_s": ingest.events / cpu.seconds if cpu.seconds else 0.0,
                # the same, counting the follower's, Redis's and the load generator's CPU time too:
                # twice it is the rate on two cores doing nothing else
                "events_per_all_cpu_s": ingest.events / spent if spent else 0.0,
                "batches_per_s": ingest.requests / elapsed,
                "batch_p50_ms": ingest.percentile(50),
                "batch_p99_ms": ingest.percentile(99),
                "reads_per_s": read.requests / elapsed,
                "errors": ingest.errors + read.errors,
            }
            print(f"{name}: {results[name]}", file=sys.stderr, flush=True)

        if args.readers:
            await run("reads alone", None, args.readers)
        for api in args.apis.split(","):
            await run(f"{api} ingest alone", api, 0)
            if args.readers:
                await run(f"{api} ingest with reads", api, args.readers)
    return results


async def followed(base: str, follower: str) -> None:
    """ServerError unless the follower's world has every change the server's has (within 5 s)."""
    async with Client(base) as client:
        seq = (await client.get_json("/_mock/clock"))["seq"]
    deadline = time.monotonic() + 5
    async with Client(follower) as client:
        while (seen := (await client.get_json("/_mock/clock"))["seq"]) != seq:
            if time.monotonic() > deadline:
                raise ServerError(f"the follower applied {seen} changes of {seq}")
            await asyncio.sleep(0.1)


def redis_server(directory: str) -> tuple[subprocess.Popen, str]:
    """A redis-server on a free port, its append-only file flushed every second."""
    if shutil.which("redis-server") is None:
        raise ServerError("--redis needs redis-server (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", directory]
    process = subprocess.Popen(
        [*command, "--appendonly", "yes", "--appendfsync", "everysec"], stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.02)
    process.kill()
    raise ServerError(f"redis-server did not listen on port {port}")


def table(results: dict[str, dict[str, float]]) -> str:
    alone = results.get("reads alone", {}).get("reads_per_s") or 1
    header = (
        "run",
        "events/s",
        "per CPU s",
        "all CPU s",
        "batches/s",
        "p50 ms",
        "p99 ms",
        "reads/s",
        "reads",
    )
    lines = ["{:28} {:>9} {:>10} {:>10} {:>10} {:>7} {:>7} {:>8} {:>6}".format(*header)]
    for name, row in results.items():
        lines.append(
            f"{name:28} {row['events_per_s']:>9.0f} {row['events_per_cpu_s']:>10.0f} "
            f"{row['events_per_all_cpu_s']:>10.0f} {row['batches_per_s']:>10.1f} "
            f"{row['batch_p50_ms']:>7.2f} {row['batch_p99_ms']:>7.2f} "
            f"{row['reads_per_s']:>8.0f} {row['reads_per_s'] / alone:>6.2f}"
        )
    lines.append(
        f"events/s: measured (target {TARGET}); per CPU s: events per second of the server's CPU "
        "time; all CPU s: of the CPU time of every process taking part (the server, the load "
        "generator, with --redis the follower and Redis), twice it the rate two idle cores would "
        "reach; reads: the share of the reads-alone rate"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", metavar="PATH", help="fixture file (default: the package's default)")
    parser.add_argument("--connections", type=int, default=8, help="batches in flight")
    parser.add_argument("--readers", type=int, default=4, help="reads in flight, when reads run")
    parser.add_argument("--duration", type=float, default=5, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of unmeasured ingestion first")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results to this file")
    parser.add_argument("--apis", default="metronome,meteroid", help="the ingest endpoints measured, in turn")
    parser.add_argument("--workers", type=int, default=1, help="passed to `serve --workers`")
    parser.add_argument("--server-args", default="", help="more arguments for the server: `--isolate token`")
    parser.add_argument(
        "--redis",
        action="store_true",
        help="the log on a redis-server of its own, and a second server following the same stream",
    )
    args = parser.parse_args(argv)
    if not set(args.apis.split(",")) <= set(PATHS):
        parser.error(f"--apis: choose among {','.join(PATHS)}")
    cmd = [sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", "0", "--quiet"]
    cmd += ["--fixtures", args.fixtures] if args.fixtures else []
    cmd += shlex.split(args.server_args)
    with ExitStack() as stack:
        follower = None
        try:
            if args.redis:
                directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-redis-"))
                redis, url = redis_server(directory)
                stack.callback(redis.wait)
                stack.callback(redis.terminate)
                cmd += ["--changes", url]
                follower = stack.enter_context(ServerProcess("follower", cmd))
                follower.wait_ready(60)
            server = stack.enter_context(ServerProcess("mock server", [*cmd, "--workers", str(args.workers)]))
            server.wait_ready(60)
            if follower is not None:  # it holds the token's world, so it follows its stream
                asyncio.run(followed(server.url, follower.url))
            others = () if follower is None else (follower.pid, redis.pid)
            results = asyncio.run(measure(server.url, server.pid, args, others))
            if follower is not None:
                asyncio.run(followed(server.url, follower.url))
        except (ServerError, ClientError, aiohttp.ClientError) as error:
            print(f"bench.ingest: {error}", file=sys.stderr)
            return 2
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if any(row["errors"] for row in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
