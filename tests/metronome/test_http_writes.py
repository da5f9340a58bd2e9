"""Metronome write endpoints over HTTP: each refusal in the API's shape, and nothing of a
refused request applied."""

from __future__ import annotations

import pytest

from mockserver.server import build_app
from mockserver.shell.body import MAX_BODY
from mockserver.world.state import World
from tests.metronome.conftest import AUTH

ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
EVENT = {
    "transaction_id": "t-1",
    "customer_id": "acme",
    "event_type": "api_request",
    "timestamp": "2026-11-15T10:00:00Z",
}


@pytest.fixture
async def writer(aiohttp_client, default_world: World):
    """The default world, written to and reset afterwards."""
    client = await aiohttp_client(build_app(default_world), headers=AUTH)
    yield client
    assert (await client.post("/_mock/reset")).status == 200


async def refused(client, path: str, status: int, **kwargs) -> str:
    response = await client.post(path, **kwargs)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert list(body) == ["message"]
    return body["message"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": b"[{", "headers": {"Content-Type": "application/json"}}, "the body is not valid JSON"),
        ({"data": b"[]", "headers": {"Content-Type": "text/plain"}}, "Content-Type must be application/json"),
        ({"json": {"usage": []}}, "the body must be a JSON array of usage events"),
        ({"json": [{**EVENT, "event_type": None}]}, "usage[0].event_type: must be a non-empty string"),
        (
            {"json": [EVENT, {k: v for k, v in EVENT.items() if k != "transaction_id"}]},
            "usage[1].transaction_id",
        ),
        ({"json": [{**EVENT, "properties": [1]}]}, "usage[0].properties: must be an object"),
        ({"json": []}, "usage: a batch holds 1 to 100 usage events, got 0"),
        ({"json": [EVENT] * 101}, "usage: a batch holds 1 to 100 usage events, got 101"),
        ({"json": [{**EVENT, "timestamp": "2026-01-01T00:00:00Z"}]}, "more than 34 days before now"),
        (
            {"json": [EVENT, {**EVENT, "transaction_id": "t-2", "timestamp": "2026-11-16T12:00:01Z"}]},
            "usage[1].timestamp: 2026-11-16T12:00:01Z is more than 24 hours after now",
        ),
        (
            {"json": [{**EVENT, "timestamp": "9999-12-31T23:59:59-01:00"}]},
            "usage[0].timestamp: '9999-12-31T23:59:59-01:00' is not an RFC 3339 timestamp in the years",
        ),
    ],
)
async def test_ingest_refusals(writer, default_world, kwargs, message) -> None:
    seq = default_world.seq
    assert message in await refused(writer, "/v1/ingest", 400, **kwargs)
    assert default_world.seq == seq and not default_world.ingested and not default_world.pending


async def test_a_body_too_large_is_413(writer, default_world) -> None:
    body = b"[" + b" " * MAX_BODY + b"]"
    message = await refused(
        writer, "/v1/ingest", 413, data=body, headers={"Content-Type": "application/json"}
    )
    assert str(MAX_BODY) in message


async def test_void_and_regenerate_refusals(writer, default_world) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert "not found" in await refused(writer, "/v1/invoices/void", 404, json={"id": unknown})
    assert "must be a UUID" in await refused(writer, "/v1/invoices/void", 400, json={"id": "x"})
    assert "id must be a non-empty string" in await refused(writer, "/v1/invoices/regenerate", 400, json={})
    draft = default_world.cols.ids[default_world.customer_drafts(0)[0]]
    assert "is a draft" in await refused(writer, "/v1/invoices/void", 400, json={"id": draft})
    assert "is not void" in await refused(writer, "/v1/invoices/regenerate", 400, json={"id": draft})


async def test_customer_refusals(writer) -> None:
    assert "name must be a non-empty string" in await refused(writer, "/v1/customers", 400, json={})
    taken = {"name": "Copy", "ingest_aliases": ["acme"]}
    assert "already used by customer" in await refused(writer, "/v1/customers", 409, json=taken)
    unknown = {"id": "00000000-0000-4000-8000-000000000000"}
    assert "not found" in await refused(writer, "/v1/customers/archive", 404, json=unknown)


async def test_usage_up_to_24_hours_ahead_is_accepted(writer, default_world) -> None:
    seq = default_world.seq
    response = await writer.post("/v1/ingest", json=[{**EVENT, "timestamp": "2026-11-16T12:00:00Z"}])
    assert response.status == 200 and await response.read() == b""
    assert default_world.seq == seq + 1


async def test_usage_for_an_unknown_alias_is_kept_until_a_customer_gets_it(writer, default_world) -> None:
    async def kept() -> int:
        return (await (await writer.get("/_mock/health")).json())["counts"]["usage_kept"]

    ingested = await writer.post("/v1/ingest", json=[{**EVENT, "customer_id": "acme-eu"}])
    assert ingested.status == 200 and await kept() == 1
    path = f"/v1/customers/{ACME}/setIngestAliases"
    response = await writer.post(path, json={"ingest_aliases": ["acme", "acme-eu"]})
    assert response.status == 200 and await response.read() == b""
    assert await kept() == 0
    detail = await (await writer.get(f"/v1/customers/{ACME}")).json()
    assert detail["data"]["ingest_aliases"] == ["acme", "acme-eu"]


async def test_set_ingest_aliases_refusals(writer) -> None:
    unknown = "/v1/customers/00000000-0000-4000-8000-000000000000/setIngestAliases"
    assert "not found" in await refused(writer, unknown, 404, json={"ingest_aliases": []})
    path = f"/v1/customers/{ACME}/setIngestAliases"
    assert "ingest_aliases must be an array" in await refused(writer, path, 400, json={})
    assert "must be a UUID" in await refused(writer, "/v1/customers/x/setIngestAliases", 400, json={})
    globex = {"ingest_aliases": ["globex"]}
    assert "already used by customer" in await refused(writer, path, 409, json=globex)


async def test_an_archived_customer_leaves_the_active_list(writer) -> None:
    listed = await (await writer.get("/v1/customers", params={"limit": "100"})).json()
    assert ACME in [c["id"] for c in listed["data"]]
    response = await writer.post("/v1/customers/archive", json={"id": ACME.upper()})
    assert await response.json() == {"data": {"id": ACME}}
    listed = await (await writer.get("/v1/customers", params={"limit": "100"})).json()
    archived = await (await writer.get("/v1/customers", params={"only_archived": "true"})).json()
    assert ACME not in [c["id"] for c in listed["data"]]
    assert ACME in [c["id"] for c in archived["data"]]


async def test_an_event_nested_too_deep_is_refused_and_nothing_changes(writer, default_world) -> None:
    """Properties nested deeper than a body may be (and than the log could store): 400,
    nothing applied, nothing logged."""
    deep: dict = {"user_id": "u1"}
    for _ in range(300):
        deep = {"d": deep}
    seq, log = default_world.seq, await (await writer.get("/_mock/changes")).read()
    assert "nests deeper" in await refused(writer, "/v1/ingest", 400, json=[{**EVENT, "properties": deep}])
    assert default_world.seq == seq and not default_world.ingested
    assert await (await writer.get("/_mock/changes")).read() == log
