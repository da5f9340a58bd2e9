"""The pending deliveries, kept in memory, in a file and in Redis alike: a delivery is claimed by
one holder at a time, taken over once its hold runs out, rescheduled and dropped only by its
holder, and forgotten with its endpoint."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mockserver.webhooks.pending import (
    Delivery,
    FilePending,
    MemoryPending,
    PendingError,
    PendingStore,
    RedisPending,
)
from mockserver.world.hooks import Event
from mockserver.world.redislog import Redis, RedisLog
from tests.replicas.conftest import redis_server  # noqa: F401 (a fixture)

NOW = 1_000.0


def delivery(endpoint: str = "hook", number: int = 1) -> Delivery:
    body = '{"id":"evt_1","type":"plan.created","name":"été"}'.encode()
    event = Event("evt_1", "meteroid", "plan.created", body, 2)
    return Delivery(f"{endpoint}/{number}", endpoint, event, 3, 1)


def _view(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], PendingStore]:
    """What opens one process's view of one world's pending deliveries (in memory, the one
    process's)."""
    if kind == "memory":
        one = MemoryPending()
        return lambda: one
    if request.param == "file":
        return lambda: FilePending(tmp_path / "pending")
    url = request.getfixturevalue("redis_server").url
    return lambda: RedisPending(RedisLog(Redis(url)))


@pytest.fixture(params=["memory", "file", "redis"])
def view(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], PendingStore]:
    return _view(request.param, request, tmp_path)


@pytest.fixture(params=["file", "redis"])
def shared_view(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], PendingStore]:
    """Only the stores several processes share: in memory, one process's event loop makes every
    claim in turn."""
    return _view(request.param, request, tmp_path)


@pytest.fixture
def stores(view) -> tuple[PendingStore, PendingStore]:
    return view(), view()


async def test_a_delivery_is_made_by_its_holder_until_its_hold_runs_out(stores) -> None:
    a, b = stores
    made = delivery()
    await a.add([(made, NOW + 10)], "a")
    assert await b.claim(made.id, "b", NOW + 20, NOW) is None  # held by a
    assert await b.take("b", NOW + 20, NOW, 10) == []
    assert await a.claim(made.id, "a", NOW + 5, NOW + 1) == made  # its holder, at any time
    assert await b.take("b", NOW + 20, NOW + 4, 10) == []
    assert await b.take("b", NOW + 20, NOW + 5, 10) == [made]  # the hold ran out: taken over
    assert await a.claim(made.id, "a", NOW + 30, NOW + 6) is None
    assert not await a.reschedule(made, "a", NOW + 30)  # a late holder changes nothing
    await a.drop(made.id, "a")
    assert await b.claim(made.id, "b", NOW + 30, NOW + 6) == made


async def test_a_delivery_rescheduled_is_its_next_attempt_and_dropped_is_gone(stores) -> None:
    a, b = stores
    made = delivery()
    await a.add([(made, NOW + 10)], "a")
    later = dataclasses.replace(made, attempt=2)
    assert await a.reschedule(later, "a", NOW + 50)
    assert await b.take("b", NOW + 60, NOW + 49, 10) == []
    assert await b.take("b", NOW + 60, NOW + 50, 10) == [later]
    await b.drop(made.id, "a")  # not a's any more: kept
    assert await b.claim(made.id, "b", NOW + 70, NOW + 51) == later
    await b.drop(made.id, "b")
    assert (
        await a.take("a", NOW + 90, NOW + 80, 10) == []
        and await b.claim(made.id, "b", NOW + 90, NOW + 80) is None
    )


async def test_removing_an_endpoint_forgets_its_deliveries_whoever_holds_them(stores) -> None:
    a, b = stores
    kept, gone = delivery("kept"), delivery("gone")
    await a.add([(kept, NOW), (gone, NOW)], "a")
    await b.forget({"gone", "other"})
    assert await b.take("b", NOW + 10, NOW, 10) == [kept]


async def test_a_delivery_due_is_claimed_by_exactly_one_of_many(shared_view) -> None:
    """Processes (threads, each with a view of its own) racing for the same deliveries."""
    view = shared_view
    made = [delivery(number=n) for n in range(40)]
    await view().add([(d, NOW) for d in made], "a")

    async def claims(who: str) -> list[str]:
        store = view()
        won = [await store.claim(d.id, who, NOW + 10, NOW) for d in made]
        return [d.id for d in won if d is not None] + [
            d.id for d in await store.take(who, NOW + 10, NOW, 100)
        ]

    with ThreadPoolExecutor(4) as pool:
        won = [
            i
            for found in pool.map(lambda who: asyncio.run(claims(who)), ["p0", "p1", "p2", "p3"])
            for i in found
        ]
    assert sorted(won) == sorted(d.id for d in made)  # each once, by one of them


async def test_redis_unreachable_is_said_at_once_naming_it(request) -> None:
    server = request.getfixturevalue("redis_server")
    store = RedisPending(RedisLog(Redis(server.url)))
    await store.add([(delivery(), NOW)], "a")
    server.stop()
    for _ in range(2):  # the second without waiting on it again
        with pytest.raises(PendingError, match=server.url):
            await store.take("b", NOW + 10, NOW, 10)
