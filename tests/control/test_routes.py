"""`/_mock` through the HTTP test client: health, the clock, reset and the log of changes, and
every view following a change."""

from __future__ import annotations

import orjson
import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.server import build_app
from mockserver.world.ids import to_base62_id
from mockserver.world.state import World

AUTH = {"Authorization": "Bearer dev-token"}
JSON = {"Content-Type": "application/json"}
ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
async def client(aiohttp_client):
    """A world of its own per test: the tests change it."""
    world = World.from_fixture(load_fixture(None))
    return await aiohttp_client(build_app(world))


async def post(client, path: str, body: object = None, headers: dict | None = None):
    data = body if isinstance(body, str | bytes) or body is None else orjson.dumps(body)
    return await client.post(path, data=data, headers=JSON if headers is None else headers)


async def test_health_needs_no_token_and_reports_the_world(client) -> None:
    response = await client.get("/_mock/health")
    assert response.status == 200
    body = await response.json()
    assert body["fixture"] == "default" and body["seed"] == 20261115
    assert body["now"] == "2026-11-15T12:00:00Z" and body["seq"] == 0
    assert body["dialect"] == "documented" and body["dialects"] == ["documented", "upstream"]
    assert body["counts"]["invoices"] == sum(body["counts"]["invoices_by_status"].values())


async def test_health_follows_the_clock(client) -> None:
    before = await (await client.get("/_mock/health")).json()
    answer = await post(client, "/_mock/clock", {"advance": "P1M"})
    changed = (await answer.json())["changed"]
    after = await (await client.get("/_mock/health")).json()
    drafts = before["counts"]["invoices_by_status"]["draft"]
    assert after["now"] == "2026-12-15T12:00:00Z" and after["seq"] == 1
    assert after["counts"]["invoices"] == before["counts"]["invoices"] + changed["opened"]
    assert (
        after["counts"]["invoices_by_status"]["draft"]
        == drafts + changed["opened"] - changed["finalized"] - changed["issued"]
    )


async def test_an_advance_finalizes_a_draft_in_both_apis(client) -> None:
    listed = await client.get(f"/v1/customers/{ACME}/invoices", params={"status": "DRAFT"}, headers=AUTH)
    (draft,) = [
        item for item in (await listed.json())["data"] if item["end_timestamp"] == "2026-12-01T00:00:00Z"
    ][:1]
    answer = await post(client, "/_mock/clock", {"advance": "P1M"})
    assert answer.status == 200
    body = await answer.json()
    assert body["kind"] == "clock" and body["previous"] == "2026-11-15T12:00:00Z"
    assert body["now"] == "2026-12-15T12:00:00Z" and body["changed"]["finalized"] > 0
    metronome = await client.get(f"/v1/customers/{ACME}/invoices/{draft['id']}", headers=AUTH)
    assert (await metronome.json())["data"]["status"] == "FINALIZED"
    meteroid = await client.get(f"/api/v1/invoices/{to_base62_id('inv_', draft['id'])}", headers=AUTH)
    finalized = await meteroid.json()
    assert finalized["status"] == "Finalized" and finalized["due_date"] == "2026-12-31"  # net 30
    listed = await client.get(
        "/api/v1/invoices", params={"customer_id": "acme", "statuses": "Draft"}, headers=AUTH
    )
    assert {item["invoice_date"] for item in (await listed.json())["data"]} == {"2027-01-01"}


async def test_the_clock_answers_its_time(client) -> None:
    assert await (await client.get("/_mock/clock")).json() == {"now": "2026-11-15T12:00:00Z", "seq": 0}
    await post(client, "/_mock/clock", {"to": "2027-01-01T00:00:00+01:00"})
    assert await (await client.get("/_mock/clock")).json() == {"now": "2026-12-31T23:00:00Z", "seq": 1}


@pytest.mark.parametrize(
    ("body", "headers", "says"),
    [
        ({"advance": "P-1M"}, None, "not an ISO 8601 duration"),
        ({"advance": "P1Q"}, None, "not an ISO 8601 duration"),
        ('{"advance": ', None, "not valid JSON"),
        ("[1, 2]", None, "must be a JSON object"),
        ({"advance": "P1D"}, {}, "Content-Type must be application/json"),
        ({"advance": "P1D", "by": "me"}, None, "unknown field 'by'"),
    ],
)
async def test_bad_clock_input_gets_a_400_naming_it_and_changes_nothing(client, body, headers, says) -> None:
    response = await post(client, "/_mock/clock", body, headers)
    assert response.status == 400 and response.content_type == "application/json"
    message = (await response.json())["message"]
    assert says in message, message
    assert await (await client.get("/_mock/clock")).json() == {"now": "2026-11-15T12:00:00Z", "seq": 0}
    assert await (await client.get("/_mock/changes")).read() == b""


async def test_a_body_too_large_is_refused(client) -> None:
    response = await post(client, "/_mock/clock", b"{" + b" " * 70_000 + b"}")
    assert response.status == 413


async def test_reset_returns_to_the_fixture_world(client) -> None:
    path = "/api/v1/invoices?per_page=100&order_by=amount.desc"
    before = await (await client.get(path, headers=AUTH)).read()
    await post(client, "/_mock/clock", {"advance": "P2M"})
    assert await (await client.get(path, headers=AUTH)).read() != before
    answer = await client.post("/_mock/reset")
    assert answer.status == 200
    assert await answer.json() == {"seq": 2, "kind": "reset", "now": "2026-11-15T12:00:00Z"}
    assert await (await client.get(path, headers=AUTH)).read() == before


async def test_the_log_exports_every_change_as_json_lines(client) -> None:
    await post(client, "/_mock/clock", {"advance": "P1D"})
    await client.post("/_mock/reset")
    await post(client, "/_mock/clock", {"to": "2027-03-01T00:00:00Z"})
    response = await client.get("/_mock/changes")
    assert response.content_type == "application/x-ndjson"
    lines = [orjson.loads(line) for line in (await response.read()).splitlines()]
    assert lines == [
        {"kind": "clock", "seq": 1, "to": "2026-11-16T12:00:00Z"},
        {"kind": "reset", "seq": 2},
        {"kind": "clock", "seq": 3, "to": "2027-03-01T00:00:00Z"},
    ]


async def test_control_routes_take_only_their_methods(client) -> None:
    assert (await client.delete("/_mock/clock")).status == 405
    assert (await client.get("/_mock/reset")).status == 405
