"""The Redis log in one process: timelines on separate connections to one stream append in
turn without a lock, a writer that lost the race resolves its change again, an outage refuses
writes at once and serves reads, and a stream started from another fixture is refused."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.world import changes, clock
from mockserver.world.log import LogConflict, LogError, LogWriteError
from mockserver.world.redislog import Redis, RedisLog
from mockserver.world.snapshot import fingerprint
from mockserver.world.state import World
from mockserver.world.timeline import DIVERGED, Timeline
from tests.replicas.conftest import RedisServer


def replica(url: str) -> Timeline:
    """A server's timeline of the stream at `url`, on a connection of its own."""
    return Timeline(World.from_fixture(load_fixture(None)), RedisLog(Redis(url)))


def test_a_writer_behind_the_stream_applies_what_it_missed_and_resolves_again(
    redis_server: RedisServer,
) -> None:
    first, second = replica(redis_server.url), replica(redis_server.url)
    first.submit("clock", {"advance": "P1D"})
    first.submit("clock", {"advance": "P1D"})
    change, _result = second.submit("clock", {"advance": "P1D"})  # conflicts, catches up, retries
    assert change is not None and change.seq == 3
    assert clock.format_z(second.world.now) == "2026-11-18T12:00:00Z"
    assert not first.log.fresh()
    first.catch_up()
    assert first.export() == second.export()
    assert [orjson.loads(line)["seq"] for line in first.export().splitlines()] == [1, 2, 3]


def test_the_fresh_check_is_one_round_trip(redis_server: RedisServer) -> None:
    timeline = replica(redis_server.url)
    started = time.perf_counter()
    for _ in range(200):
        assert timeline.log.fresh()
    assert (time.perf_counter() - started) / 200 < 0.002


def test_an_unreachable_redis_refuses_writes_at_once_naming_it_and_serves_reads(
    redis_server: RedisServer,
) -> None:
    timeline = replica(redis_server.url)
    timeline.submit("clock", {"advance": "P1D"})
    redis_server.stop()
    started = time.monotonic()
    with pytest.raises(LogWriteError, match=redis_server.url):
        timeline.submit("clock", {"advance": "P1D"})
    assert time.monotonic() - started < 3
    assert timeline.log.fresh() and timeline.world.seq == 1
    assert redis_server.url in (timeline.log.trouble() or "")
    redis_server.start()
    time.sleep(1.1)  # past the back-off
    change, _result = timeline.submit("clock", {"advance": "P1D"})
    assert change is not None and change.seq == 2 and timeline.log.trouble() is None


def test_a_change_no_process_can_apply_is_taken_back_out_of_the_stream(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline = replica(redis_server.url)
    timeline.submit("clock", {"advance": "PT1H"})
    monkeypatch.setattr(changes, "apply", lambda _world, _change: 1 / 0)
    with pytest.raises(SystemExit) as stopped:
        timeline.submit("clock", {"advance": "PT1H"})
    assert stopped.value.code == DIVERGED
    monkeypatch.undo()
    other = replica(redis_server.url)
    other.catch_up()
    assert other.world.seq == 1
    assert other.submit("clock", {"advance": "PT1H"})[0].seq == 2


def test_a_stream_started_from_another_fixture_is_refused(redis_server: RedisServer) -> None:
    fixture = load_fixture(None)
    Redis(redis_server.url).claim(fingerprint(fixture))
    Redis(redis_server.url).claim(fingerprint(fixture))  # the same fixture: welcome
    with pytest.raises(LogError, match="another fixture"):
        Redis(redis_server.url).claim("another:1")
    Redis(redis_server.url + "?key=other").claim("another:1")  # another key: another world


def test_the_url_names_the_key_and_is_shown_without_its_password() -> None:
    redis = Redis("rediss://:hunter2@redis.internal:6380/3?key=staging")
    assert redis.url == "rediss://redis.internal:6380/3" and redis.prefix == "staging"
    assert RedisLog(redis).stream == "staging:changes"
    assert Redis("redis://localhost:6379/0").prefix == "mockserver"


def test_a_token_world_is_kept_ttl_after_its_last_use_for_one_call_a_tenth_of_it(
    redis_server: RedisServer,
) -> None:
    connection = Redis(redis_server.url)
    log = RedisLog(connection, "token:t:", ttl=60)
    timeline = Timeline(World.from_fixture(load_fixture(None)), log)
    log.touch()  # a request is served from it (as a server does before it reads a token's world)
    timeline.submit("clock", {"advance": "P1D"})
    assert 60_000 <= connection.client.pttl(log.stream) <= 66_000
    calls = int(connection.client.info("commandstats")["cmdstat_evalsha"]["calls"])
    for _ in range(500):  # requests within a tenth of the TTL: no round trip for any
        assert log.touch()
    assert int(connection.client.info("commandstats")["cmdstat_evalsha"]["calls"]) == calls
    base = replica(redis_server.url)
    base.submit("clock", {"advance": "P1D"})
    assert connection.client.pttl(base.log.stream) == -1  # the world of no token never expires


def test_the_workers_of_one_server_take_turns_and_never_resolve_a_change_in_vain(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conflicts = []
    append = RedisLog.append

    def counted(log: RedisLog, line: bytes) -> None:
        try:
            append(log, line)
        except LogConflict:
            conflicts.append(line)
            raise

    monkeypatch.setattr(RedisLog, "append", counted)
    workers = [
        Timeline(World.from_fixture(load_fixture(None)), RedisLog(Redis(redis_server.url, tmp_path)))
        for _ in range(2)
    ]

    def advance(timeline: Timeline) -> None:
        for _ in range(40):
            timeline.submit("clock", {"advance": "PT1M"})

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(advance, workers))
    assert conflicts == []
    for timeline in workers:
        timeline.catch_up()
    assert workers[0].export() == workers[1].export()
    assert [orjson.loads(line)["seq"] for line in workers[0].export().splitlines()] == list(range(1, 81))
