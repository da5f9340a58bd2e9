"""The Redis log in one process: timelines on separate connections to one stream append in
turn without a lock, a writer that lost the race resolves its change again, an outage refuses
writes at once and serves reads, and a stream started from another fixture is refused."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.server import build_app
from mockserver.shell.app import Settings
from mockserver.shell.worlds import redis_branches
from mockserver.world import changes, clock
from mockserver.world.log import LogConflict, LogError, LogWriteError
from mockserver.world.redislog import Redis, RedisLog
from mockserver.world.snapshot import fingerprint
from mockserver.world.state import World
from mockserver.world.timeline import DIVERGED, Timeline
from tests.replicas.conftest import RedisServer


def replica(url: str) -> Timeline:
    """A server's timeline of the stream at `url`, on a connection of its own."""
    return replica_of(Redis(url))


def replica_of(redis: Redis) -> Timeline:
    return Timeline(World.from_fixture(load_fixture(None)), RedisLog(redis))


async def test_a_writer_behind_the_stream_applies_what_it_missed_and_resolves_again(
    redis_server: RedisServer,
) -> None:
    first, second = replica(redis_server.url), replica(redis_server.url)
    await first.submit("clock", {"advance": "P1D"})
    await first.submit("clock", {"advance": "P1D"})
    change, _result = await second.submit("clock", {"advance": "P1D"})  # conflicts, catches up, retries
    assert change is not None and change.seq == 3
    assert clock.format_z(second.world.now) == "2026-11-18T12:00:00Z"
    assert not await first.log.fresh()
    await first.catch_up()
    assert await first.export() == await second.export()
    assert [orjson.loads(line)["seq"] for line in (await first.export()).splitlines()] == [1, 2, 3]


async def test_the_fresh_check_is_one_round_trip(redis_server: RedisServer) -> None:
    timeline = replica(redis_server.url)
    started = time.perf_counter()
    for _ in range(200):
        assert await timeline.log.fresh()
    assert (time.perf_counter() - started) / 200 < 0.002


async def test_an_unreachable_redis_refuses_writes_at_once_naming_it_and_serves_reads(
    redis_server: RedisServer,
) -> None:
    timeline = replica(redis_server.url)
    await timeline.submit("clock", {"advance": "P1D"})
    redis_server.stop()
    started = time.monotonic()
    with pytest.raises(LogWriteError, match=redis_server.url):
        await timeline.submit("clock", {"advance": "P1D"})
    assert time.monotonic() - started < 3
    assert await timeline.log.fresh() and timeline.world.seq == 1
    assert redis_server.url in (timeline.log.trouble() or "")
    redis_server.start()
    time.sleep(1.1)  # past the back-off
    change, _result = await timeline.submit("clock", {"advance": "P1D"})
    assert change is not None and change.seq == 2 and timeline.log.trouble() is None


async def test_a_change_no_process_can_apply_is_taken_back_out_of_the_stream(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline = replica(redis_server.url)
    await timeline.submit("clock", {"advance": "PT1H"})
    monkeypatch.setattr(changes, "apply", lambda _world, _change: 1 / 0)
    with pytest.raises(SystemExit) as stopped:
        await timeline.submit("clock", {"advance": "PT1H"})
    assert stopped.value.code == DIVERGED
    monkeypatch.undo()
    other = replica(redis_server.url)
    await other.catch_up()
    assert other.world.seq == 1
    assert (await other.submit("clock", {"advance": "PT1H"}))[0].seq == 2


async def test_a_stream_started_from_another_fixture_is_refused(redis_server: RedisServer) -> None:
    fixture = load_fixture(None)
    await Redis(redis_server.url).claim(fingerprint(fixture))
    await Redis(redis_server.url).claim(fingerprint(fixture))  # the same fixture: welcome
    with pytest.raises(LogError, match="another fixture"):
        await Redis(redis_server.url).claim("another:1")
    await Redis(redis_server.url + "?key=other").claim("another:1")  # another key: another world


def test_the_url_names_the_key_and_is_shown_without_its_password() -> None:
    redis = Redis("rediss://:hunter2@redis.internal:6380/3?key=staging")
    assert redis.url == "rediss://redis.internal:6380/3" and redis.prefix == "staging"
    assert RedisLog(redis).stream == "staging:changes"
    assert Redis("redis://localhost:6379/0").prefix == "mockserver"


async def test_a_token_world_is_kept_ttl_after_its_last_use_for_one_call_a_tenth_of_it(
    redis_server: RedisServer,
) -> None:
    connection = Redis(redis_server.url)
    log = RedisLog(connection, "token:t:", ttl=60)
    timeline = Timeline(World.from_fixture(load_fixture(None)), log)
    await log.touch()  # a request is served from it (as a server does before it reads a token's world)
    await timeline.submit("clock", {"advance": "P1D"})
    assert 60_000 <= await connection.client.pttl(log.stream) <= 66_000
    calls = int((await connection.client.info("commandstats"))["cmdstat_evalsha"]["calls"])
    for _ in range(500):  # requests within a tenth of the TTL: no round trip for any
        assert await log.touch()
    assert int((await connection.client.info("commandstats"))["cmdstat_evalsha"]["calls"]) == calls
    base = replica(redis_server.url)
    await base.submit("clock", {"advance": "P1D"})
    assert await connection.client.pttl(base.log.stream) == -1  # the world of no token never expires


async def test_a_worker_that_appended_last_appends_again_in_one_round_trip(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """The workers of one server take turns; one reads on first only if another appended."""
    one, other = (replica_of(Redis(redis_server.url, tmp_path)) for _ in range(2))
    stats = Redis(redis_server.url)

    async def calls() -> tuple[int, int]:
        counted = await stats.client.info("commandstats")
        return tuple(counted.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("xread", "evalsha"))

    await one.submit("clock", {"advance": "PT1M"})
    before = await calls()
    for _ in range(3):
        await one.submit("clock", {"advance": "PT1M"})
    assert await calls() == (before[0], before[1] + 3)  # nothing read: it appended last
    await other.submit("clock", {"advance": "PT1M"})
    assert await calls() == (before[0] + 1, before[1] + 4)  # it reads the four first, no conflict
    assert other.world.seq == 5 and clock.format_z(other.world.now) == "2026-11-15T12:05:00Z"


async def test_the_workers_of_one_server_take_turns_and_never_resolve_a_change_in_vain(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conflicts = []
    append = RedisLog.append

    async def counted(log: RedisLog, line: bytes) -> None:
        try:
            await append(log, line)
        except LogConflict:
            conflicts.append(line)
            raise

    monkeypatch.setattr(RedisLog, "append", counted)
    workers = [
        Timeline(World.from_fixture(load_fixture(None)), RedisLog(Redis(redis_server.url, tmp_path)))
        for _ in range(2)
    ]

    async def advance(timeline: Timeline) -> None:
        for _ in range(40):
            await timeline.submit("clock", {"advance": "PT1M"})

    with ThreadPoolExecutor(2) as pool:  # each worker in a thread of its own, with a loop of its own
        list(pool.map(lambda timeline: asyncio.run(advance(timeline)), workers))
    assert conflicts == []
    for timeline in workers:
        await timeline.catch_up()
    assert await workers[0].export() == await workers[1].export()
    assert [orjson.loads(line)["seq"] for line in (await workers[0].export()).splitlines()] == list(
        range(1, 81)
    )


def test_two_logs_of_one_stream_in_one_worker_take_turns_without_stopping_its_event_loop(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """A token's world read again while its old self still writes: both write the stream, one
    waiting on the event loop for the other's append (the lock file would stop the loop)."""
    redis = Redis(redis_server.url, tmp_path)  # a worker's connection, taking turns with others
    timelines = [Timeline(World.from_fixture(load_fixture(None)), RedisLog(redis)) for _ in range(2)]

    async def write() -> None:
        moves = [timeline.submit("clock", {"advance": "PT1M"}) for _ in range(10) for timeline in timelines]
        await asyncio.gather(*moves)
        await timelines[0].catch_up()

    worker = threading.Thread(target=asyncio.run, args=(write(),), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "the worker's event loop stopped on its own lock"
    assert timelines[0].world.seq == 20 and clock.format_z(timelines[0].world.now) == "2026-11-15T12:20:00Z"


async def test_a_token_world_is_read_once_however_many_of_its_first_requests_come_together(
    redis_server: RedisServer, tmp_path: Path, aiohttp_client
) -> None:
    world = World.from_fixture(load_fixture(None))
    base = RedisLog(Redis(redis_server.url, tmp_path))
    settings = Settings(isolation="token")
    client = await aiohttp_client(build_app(world, settings, Timeline(world, base), redis_branches(base, 60)))
    headers = {"Authorization": "Bearer newcomer", "Content-Type": "application/json"}
    answers = await asyncio.gather(
        *(client.post("/_mock/clock", data=b'{"advance": "PT1M"}', headers=headers) for _ in range(20))
    )
    assert sorted([(await answer.json())["seq"] for answer in answers]) == list(range(1, 21))
    now = await (await client.get("/_mock/clock", headers=headers)).json()
    assert now == {"now": "2026-11-15T12:20:00Z", "seq": 20}
