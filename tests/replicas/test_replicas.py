"""Servers on one Redis serve one world: each sees what any other acknowledged on its next
request, concurrent writers through all of them are ordered into one log, fault rules count the
requests of all, and an outage of Redis refuses writes, keeps reads served and loses nothing
acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
import redis

from mockserver.generation.fixture import load_fixture
from mockserver.world.redislog import Redis
from mockserver.world.snapshot import fingerprint
from tests.replicas.conftest import RedisServer, free_port
from tests.shell.test_server import LINUX, children, server_process, wait_until

AUTH = {"Authorization": "Bearer dev-token"}
TIERS = "tests/world/fixtures/tiers.yaml"

pytestmark = pytest.mark.skipif(not LINUX, reason="workers share a port through SO_REUSEPORT on Linux")


def call(
    base: str, path: str, body: object = None, auth: dict[str, str] = AUTH, method: str | None = None
) -> tuple[int, bytes]:
    """One request on a connection of its own (any worker may take it): status and body."""
    data = None if body is None else orjson.dumps(body)
    headers = {**auth, **({} if body is None else {"Content-Type": "application/json"})}
    request = urllib.request.Request(base + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def clock(base: str, auth: dict[str, str] = AUTH) -> dict:
    status, body = call(base, "/_mock/clock", auth=auth)
    assert status == 200
    return orjson.loads(body)


def journal(base: str) -> list[str]:
    """What the journal lists (path and query), once every process has published (2 s at most):
    numbered in one sequence, in the order the processes published them."""
    time.sleep(0.3)  # each process publishes every 0.1 s
    listed = orjson.loads(call(base, "/_mock/requests")[1])["requests"]
    assert [entry["seq"] for entry in listed] == list(range(listed[0]["seq"], listed[0]["seq"] + len(listed)))
    return [entry["path"] + "?" + "&".join(f"{k}={v}" for k, v in entry["query"].items()) for entry in listed]


def exports(base: str, times: int = 4) -> set[bytes]:
    """The log as `times` requests (spread over the workers) export it."""
    return {call(base, "/_mock/changes")[1] for _ in range(times)}


def test_two_servers_of_two_workers_serve_one_world(redis_server: RedisServer) -> None:
    options = ("--workers", "2", "--changes", redis_server.url)
    with server_process(*options) as (_a, first), server_process(*options) as (_b, second):
        for step in range(1, 7):  # read-your-writes, whichever server wrote
            writer, reader = (first, second) if step % 2 else (second, first)
            status, body = call(writer, "/_mock/clock", {"advance": "P1D"})
            assert status == 200 and orjson.loads(body)["seq"] == step
            for _ in range(4):
                assert clock(reader)["seq"] == step
        rule = {"match": {"api": "meteroid"}, "respond": {"status": 500}, "times": 1, "after": 3}
        assert call(first, "/_mock/faults", rule)[0] == 200
        statuses = [
            call((first, second)[index % 2], f"/api/v1/invoices?per_page={index + 1}")[0]
            for index in range(8)
        ]
        assert statuses == [200, 200, 200, 500, 200, 200, 200, 200]  # once, in all
        for base in (first, second, first, second):
            (listed,) = orjson.loads(call(base, "/_mock/faults")[1])["rules"]
            assert (listed["matched"], listed["fired"]) == (8, 1)
        assert sorted(journal(first)) == sorted(f"/api/v1/invoices?per_page={index}" for index in range(1, 9))
        assert call(second, "/_mock/requests", method="DELETE")[0] == 200
        for index in range(1, 5):
            assert call((first, second)[index % 2], f"/v1/customers?limit={index}")[0] == 200
        assert sorted(journal(second)) == [f"/v1/customers?limit={index}" for index in range(1, 5)]
        assert call(second, "/_mock/reset", {})[0] == 200
        assert clock(first) == {"now": "2026-11-15T12:00:00Z", "seq": 8}

        def create(index: int) -> int:
            base = (first, second)[index % 2]
            return call(base, "/v1/customers", {"name": f"Replica customer {index}"})[0]

        with ThreadPoolExecutor(16) as pool:
            assert set(pool.map(create, range(320))) == {200}
        logs = exports(first) | exports(second)
        assert len(logs) == 1  # every worker of both servers exports the same bytes
        assert [orjson.loads(line)["seq"] for line in logs.pop().splitlines()] == list(range(1, 329))


def test_an_outage_of_redis_refuses_writes_serves_reads_and_loses_nothing(redis_server: RedisServer) -> None:
    options = ("--changes", redis_server.url)
    with server_process("--workers", "2", *options) as (process, first):
        with server_process(*options) as (_b, second):
            assert call(first, "/_mock/clock", {"advance": "P1D"})[0] == 200
            time.sleep(0.3)  # idle workers read the stream every 0.1 s: all of them have it
            redis_server.stop(kill=True)
            started = time.monotonic()
            status, body = call(second, "/_mock/clock", {"advance": "P1D"})
            assert status == 503 and redis_server.url.encode() in body
            assert time.monotonic() - started < 3
            assert clock(first)["seq"] == clock(second)["seq"] == 1  # reads: the last state seen
            status, body = call(second, "/_mock/health")
            health = orjson.loads(body)
            assert status == 200 and health["status"] == "degraded" and not health["log"]["reachable"]
            redis_server.start()
            assert wait_until(lambda: call(second, "/_mock/clock", {"advance": "P1D"})[0] == 200)
            # Every worker sees it at once, over connections made before Redis went down too.
            assert [clock(first)["seq"] for _ in range(6)] == [2] * 6
        # A server stopped meanwhile misses nothing: it reads the stream when it comes back.
        assert call(first, "/_mock/clock", {"advance": "P1D"})[0] == 200
        worker = sorted(children(process.pid))[0]
        os.kill(worker, signal.SIGKILL)  # its replacement starts from the stream as it stands
        assert wait_until(lambda: worker not in children(process.pid) and len(children(process.pid)) == 2)
        assert call(first, "/_mock/clock", {"advance": "P1D"})[0] == 200
        with server_process(*options) as (_c, again):
            assert clock(again) == clock(first)
            assert clock(again)["seq"] == 4
            assert exports(again) == exports(first)


async def test_a_server_of_another_fixture_is_refused_in_one_line(redis_server: RedisServer) -> None:
    await Redis(redis_server.url).claim(fingerprint(load_fixture(None)))
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet"]
    refused = subprocess.run(
        [*command, "--fixtures", TIERS, "--changes", redis_server.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    (line,) = [line for line in refused.stderr.splitlines() if "mockserver:" in line]
    assert "another fixture" in line and redis_server.url in line


def test_each_token_world_is_one_stream_served_by_every_server(redis_server: RedisServer) -> None:
    options = ("--isolate", "token", "--changes", redis_server.url)
    with server_process(*options) as (_a, first), server_process("--workers", "2", *options) as (_b, second):
        ours, theirs = {"Authorization": "Bearer ours"}, {"Authorization": "Bearer theirs"}
        assert call(first, "/_mock/clock", {"advance": "P1D"}, ours)[0] == 200
        for _ in range(4):
            assert clock(second, ours)["seq"] == 1
            assert clock(second, theirs)["seq"] == 0
        assert call(second, "/_mock/reset", {}, ours)[0] == 200
        assert clock(first, ours) == {"now": "2026-11-15T12:00:00Z", "seq": 2}


def test_a_server_that_cannot_reach_redis_does_not_start_and_says_why_in_one_line() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet", "--changes", url]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    (line,) = [line for line in refused.stderr.splitlines() if "mockserver:" in line]
    assert f"{url} cannot be reached" in line


def test_an_idle_token_world_expires_on_every_server_and_starts_again_from_the_fixture(
    redis_server: RedisServer,
) -> None:
    options = ("--isolate", "token", "--changes", redis_server.url, "--token-ttl", "1")
    store = redis.Redis.from_url(redis_server.url)
    with server_process(*options) as (_a, first), server_process("--workers", "2", *options) as (_b, second):
        ours = {"Authorization": "Bearer ours"}
        start = clock(first, ours)["now"]
        assert call(first, "/_mock/clock", {"advance": "P1D"}, ours)[0] == 200
        rule = {"match": {"api": "meteroid"}, "respond": {"status": 500}, "times": 1}
        assert call(second, "/_mock/faults", rule, ours)[0] == 200
        assert call(first, "/api/v1/invoices", auth=ours)[0] == 500
        used = clock(second, ours)
        for index in range(8):  # used for longer than the TTL: kept
            time.sleep(0.25)
            assert clock((first, second)[index % 2], ours) == used
        time.sleep(0.3)  # the journal is published
        assert {key.rsplit(b":", 1)[-1] for key in store.keys("mockserver:token:*")} >= {
            b"changes",
            b"faults",
            b"journal",
        }
        time.sleep(1.6)  # unused for longer than the TTL and its tenth
        assert store.keys("mockserver:token:*") == []  # every key of the world at once
        # Both servers still held the world: each reads it anew, from the fixture.
        fresh = {"now": start, "seq": 0}
        assert clock(first, ours) == clock(second, ours) == fresh
        assert call(second, "/_mock/clock", {"advance": "P2D"}, ours)[0] == 200
        for base in (first, second, first, second):
            assert clock(base, ours)["seq"] == 1
        assert len({clock(base, ours)["now"] for base in (first, second, first, second)}) == 1
        assert call(first, "/api/v1/invoices", auth=ours)[0] == 200  # the rule went with it
        time.sleep(0.3)  # the journal went too: it lists what came after
        listed = orjson.loads(call(second, "/_mock/requests", auth=ours)[1])["requests"]
        assert [(entry["path"], entry["status"]) for entry in listed] == [("/api/v1/invoices", 200)]


def test_the_token_ttl_is_for_redis_and_not_negative(redis_server: RedisServer) -> None:
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet", "--isolate", "token"]
    for extra, said in (
        (["--token-ttl", "60"], "--token-ttl is for token worlds on Redis"),
        (["--changes", redis_server.url, "--token-ttl", "-1"], "--token-ttl must be 0 (never) or more"),
    ):
        refused = subprocess.run([*command, *extra], capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and said in refused.stderr


def test_a_fixture_put_on_one_replica_is_every_replicas_world(redis_server: RedisServer) -> None:
    """Each replica builds the new world from the stream on its next request, and one started
    later replays it: the same answers, byte for byte."""
    small = b"name: small\nseed: 7\nnow: 2026-03-01T00:00:00Z\ngenerate: {customers: 3}\n"
    listing = "/api/v1/invoices?per_page=100&order_by=amount.desc"
    options = ("--changes", redis_server.url)
    with server_process(*options) as (_a, first), server_process(*options) as (_b, second):
        request = urllib.request.Request(
            first + "/_mock/fixture", small, {"Content-Type": "application/yaml"}, method="PUT"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert orjson.loads(answer.read())["fixture"] == "small"
        assert clock(second) == {"now": "2026-03-01T00:00:00Z", "seq": 1}
        assert call(second, "/_mock/fixture")[1] == small
        assert call(second, listing) == call(first, listing)
        with server_process(*options) as (_c, third):
            assert call(third, listing) == call(first, listing)
