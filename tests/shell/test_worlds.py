"""Token isolation (`--isolate token`): each bearer token a world of its own, with its own
clock, log of changes, journal and faults, branched from the starting world without generating
anything, copied only when it first changes, and bounded in number."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.server import build_app
from mockserver.shell.app import Settings
from mockserver.shell.worlds import log_path
from mockserver.world import generator
from mockserver.world.state import World
from tests.shell.test_living_processes import fetch
from tests.shell.test_server import LINUX, server_process

ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
INVOICES = f"/v1/customers/{ACME}/invoices?limit=100"
START = "2026-11-15T12:00:00Z"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world() -> World:
    return World.from_fixture(load_fixture(None))


@pytest.fixture
async def client(aiohttp_client, world: World):
    return await aiohttp_client(build_app(world, Settings(isolation="token", worlds=2)))


async def call(client, method: str, path: str, token: str | None, body: object = None) -> tuple[int, dict]:
    headers = {} if token is None else auth(token)
    if body is not None:
        headers["Content-Type"] = "application/json"
    data = None if body is None else orjson.dumps(body)
    response = await client.request(method, path, headers=headers, data=data)
    return response.status, orjson.loads(await response.read())


async def clock(client, token: str | None) -> str:
    return (await call(client, "GET", "/_mock/clock", token))[1]["now"]


async def test_two_tokens_see_their_own_clock_changes_and_invoices(client) -> None:
    status, moved = await call(client, "POST", "/_mock/clock", "alice", {"advance": "P1M"})
    assert status == 200 and moved["seq"] == 1
    assert await clock(client, "alice") == "2026-12-15T12:00:00Z"
    assert await clock(client, "bob") == START
    alice = (await call(client, "GET", INVOICES, "alice"))[1]["data"]
    bob = (await call(client, "GET", INVOICES, "bob"))[1]["data"]
    assert len(alice) > len(bob)  # the month's end finalized a draft and opened the next one
    changes = await client.get("/_mock/changes", headers=auth("bob"))
    assert await changes.read() == b""
    status, _ = await call(client, "POST", "/_mock/reset", "alice", {})
    assert status == 200 and await clock(client, "alice") == START


async def test_each_token_has_its_own_journal_and_faults(client) -> None:
    rule = {"match": {"api": "metronome"}, "respond": {"status": 429}, "times": 1}
    assert (await call(client, "POST", "/_mock/faults", "alice", rule))[0] == 200
    assert (await call(client, "GET", INVOICES, "alice"))[0] == 429
    assert (await call(client, "GET", INVOICES, "bob"))[0] == 200
    assert (await call(client, "GET", INVOICES, "alice"))[0] == 200
    alice = (await call(client, "GET", "/_mock/requests", "alice"))[1]["requests"]
    bob = (await call(client, "GET", "/_mock/requests", "bob"))[1]["requests"]
    assert [r["status"] for r in alice] == [429, 200]
    assert [r["status"] for r in bob] == [200]
    assert (await call(client, "GET", "/_mock/faults", "bob"))[1]["rules"] == []


async def test_a_control_call_without_a_token_has_a_world_of_its_own(client) -> None:
    await call(client, "POST", "/_mock/clock", None, {"advance": "P1D"})
    assert await clock(client, None) == "2026-11-16T12:00:00Z"
    assert await clock(client, "alice") == START
    health = (await call(client, "GET", "/_mock/health", "alice"))[1]
    assert health["isolation"] == "token" and health["seq"] == 0


async def test_a_token_shares_the_starting_world_until_its_first_change(
    client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    copies = []
    original = World.copy
    monkeypatch.setattr(World, "copy", lambda self: copies.append(self) or original(self))
    monkeypatch.setattr(generator.Generator, "run", lambda self: pytest.fail("a world was generated"))
    for token in ("alice", "bob", "carol"):
        assert (await call(client, "GET", INVOICES, token))[0] == 200
    assert copies == []
    await call(client, "POST", "/_mock/clock", "alice", {"advance": "PT1H"})
    await call(client, "POST", "/_mock/clock", "alice", {"advance": "PT1H"})
    assert copies == [world]  # once, from the starting world, which stays as it was
    assert world.seq == 0 and await clock(client, "bob") == START


async def test_the_least_recently_used_world_is_dropped_and_its_log_brings_it_back(client) -> None:
    await call(client, "POST", "/_mock/clock", "alice", {"advance": "P1D"})
    await call(client, "GET", INVOICES, "alice")
    for token in ("bob", "carol"):  # two worlds are kept: alice's is dropped
        await call(client, "GET", INVOICES, token)
    (kept,) = (await call(client, "GET", "/_mock/requests", "alice"))[1]["requests"]
    assert kept["path"] == INVOICES.partition("?")[0]  # the journal is the world's: kept with it
    assert await clock(client, "alice") == "2026-11-16T12:00:00Z"  # replayed from its log
    changes = await client.get("/_mock/changes", headers=auth("alice"))
    assert [orjson.loads(line)["seq"] for line in (await changes.read()).splitlines()] == [1]


@pytest.mark.skipif(not LINUX, reason="workers share a port through SO_REUSEPORT on Linux")
def test_every_worker_serves_a_tokens_world_in_step() -> None:
    def as_token(token: str, path: str, body: object = None) -> dict:
        return orjson.loads(fetch(base, path, body, auth(token)))

    with server_process("--workers", "2", "--isolate", "token") as (_process, base):
        for step in range(1, 4):
            moved = as_token("alice", "/_mock/clock", {"advance": "P1D"})
            assert moved["seq"] == step
            for _ in range(6):  # new connections: either worker, bob's world in between
                assert as_token("alice", "/_mock/clock") == {"now": moved["now"], "seq": step}
                assert as_token("bob", "/_mock/clock") == {"now": START, "seq": 0}


async def test_a_token_whose_log_cannot_be_replayed_gets_a_503_in_the_apis_shape(
    aiohttp_client, world: World, tmp_path
) -> None:
    log_path(tmp_path, "mallory").write_text('{"kind": "clock", "seq": 1, "to": "2020-01-01T00:00:00Z"}\n')
    client = await aiohttp_client(build_app(world, Settings(isolation="token"), logs=tmp_path))
    status, body = await call(client, "GET", INVOICES, "mallory")
    assert status == 503 and "cannot be applied" in body["message"]
    assert (await call(client, "GET", INVOICES, "alice"))[0] == 200


async def test_a_world_dropped_while_its_request_waits_still_takes_that_requests_change(
    aiohttp_client, world: World
) -> None:
    client = await aiohttp_client(build_app(world, Settings(isolation="token", worlds=1)))
    rule = {"match": {"operation": "ingest"}, "respond": {"delay_ms": 300}}
    assert (await call(client, "POST", "/_mock/faults", "alice", rule))[0] == 200
    event = {"transaction_id": "late", "customer_id": ACME, "event_type": "api_request"}
    waiting = asyncio.ensure_future(client.post("/v1/ingest", json=[event], headers=auth("alice")))
    await asyncio.sleep(0.1)
    assert (await call(client, "GET", INVOICES, "bob"))[0] == 200  # alice's world is dropped meanwhile
    assert (await waiting).status == 200
    changes = await client.get("/_mock/changes", headers=auth("alice"))  # back from its log
    assert [orjson.loads(line)["kind"] for line in (await changes.read()).splitlines()] == [
        "faults",
        "ingest",
    ]
