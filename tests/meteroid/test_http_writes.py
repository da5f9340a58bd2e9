"""Meteroid-style write endpoints over HTTP: refusals in upstream's shapes (axum's text/plain
for a body it cannot take, JSON for a request it refuses), and nothing of a refused batch
applied."""

from __future__ import annotations

import pytest

from mockserver.server import build_app
from mockserver.shell.body import MAX_BODY
from mockserver.world.state import World
from tests.meteroid.helpers import AUTH

EVENT = {"event_id": "e-1", "code": "api_request", "customer_id": "acme", "timestamp": "2026-11-15T11:00:00Z"}
INGEST = "/api/v1/events/ingest"


@pytest.fixture
async def writer(aiohttp_client, default_world: World):
    """The default world, written to and reset afterwards."""
    client = await aiohttp_client(build_app(default_world), headers=AUTH)
    yield client
    assert (await client.post("/_mock/reset")).status == 200


async def plain(client, method: str, path: str, status: int, **kwargs) -> str:
    response = await client.request(method, path, **kwargs)
    assert response.status == status, await response.text()
    assert response.content_type == "text/plain"
    return await response.text()


async def json_error(client, method: str, path: str, status: int, code: str, **kwargs) -> str:
    response = await client.request(method, path, **kwargs)
    assert response.status == status, await response.text()
    body = await response.json()
    assert (list(body), body["code"]) == (["code", "message"], code)
    return body["message"]


async def test_bodies_the_server_cannot_take(writer, default_world) -> None:
    seq = default_world.seq
    as_json = {"Content-Type": "application/json"}
    assert (await plain(writer, "POST", INGEST, 400, data=b"{", headers=as_json)).startswith(
        "Failed to parse the request body as JSON: "
    )
    assert await plain(writer, "POST", INGEST, 415, data=b"{}") == (
        "Expected request with `Content-Type: application/json`"
    )
    missing = {"events": [{k: v for k, v in EVENT.items() if k != "code"}]}
    assert await plain(writer, "POST", INGEST, 400, json=missing) == (
        "Failed to deserialize the JSON body into the target type: events[0]: missing field `code`"
    )
    typed = {"events": [{**EVENT, "properties": {"n": 5}}]}
    assert "events[0].properties.n: invalid type: integer, expected a string" in await plain(
        writer, "POST", INGEST, 400, json=typed
    )
    huge = b'{"events": [' + b" " * MAX_BODY + b"]}"
    assert "length limit exceeded" in await plain(writer, "POST", INGEST, 413, data=huge, headers=as_json)
    assert default_world.seq == seq


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "a batch holds 1 to 100 events, got 0"),
        ([EVENT] * 101, "a batch holds 1 to 100 events, got 101"),
        ([EVENT, {**EVENT, "customer_id": "nobody"}], "events[1].customer_id: 'nobody' matches no customer"),
        (
            [{**EVENT, "timestamp": "2026-11-14T11:00:00Z"}],
            "events[0].timestamp: 2026-11-14T11:00:00Z is more",
        ),
        ([{**EVENT, "timestamp": "2026-11-15T13:30:00Z"}], "is more than 1 hour after now"),
    ],
)
async def test_batches_refused_whole(writer, default_world, events, message) -> None:
    seq = default_world.seq
    assert message in await json_error(writer, "POST", INGEST, 400, "BAD_REQUEST", json={"events": events})
    assert default_world.seq == seq and not default_world.ingested


async def test_a_backfilled_event_may_lie_in_any_year_rfc_3339_names(writer, default_world) -> None:
    """Logged as it was accepted and read again on replay: year 1 in four digits."""
    early = {**EVENT, "event_id": "early", "timestamp": "0001-01-01T00:00:00Z"}
    response = await writer.post(INGEST, json={"events": [early], "allow_backfilling": True})
    assert (response.status, await response.json()) == (200, {})
    assert b'"timestamp":"0001-01-01T00:00:00Z"' in (await (await writer.get("/_mock/changes")).read())
    past = {**EVENT, "timestamp": "9999-12-31T23:59:59-01:00"}
    assert "events[0].timestamp" in await plain(writer, "POST", INGEST, 400, json={"events": [past]})


async def test_an_accepted_batch_answers_in_the_chosen_dialect(writer) -> None:
    response = await writer.post(INGEST, json={"events": [EVENT]}, headers={"Meteroid-Dialect": "upstream"})
    assert (response.status, await response.json()) == (200, {})
    assert response.headers["Meteroid-Dialect"] == "upstream"


async def test_customer_refusals(writer) -> None:
    await json_error(writer, "PATCH", "/api/v1/customers/nobody", 404, "NOT_FOUND", json={"name": "x"})
    await json_error(writer, "DELETE", "/api/v1/customers/nobody", 404, "NOT_FOUND")
    await json_error(writer, "POST", "/api/v1/customers/nobody/unarchive", 404, "NOT_FOUND")
    assert "missing field `currency`" in await plain(
        writer, "POST", "/api/v1/customers", 400, json={"name": "x"}
    )
    assert "missing field `invoicing_entity_id`" in await plain(
        writer,
        "PUT",
        "/api/v1/customers/acme",
        400,
        json={"currency": "USD", "custom_taxes": [], "invoicing_emails": []},
    )
    taken = {"currency": "USD", "name": "Copy", "alias": "globex"}
    assert "already used" in await json_error(
        writer, "POST", "/api/v1/customers", 409, "CONFLICT", json=taken
    )
    await json_error(writer, "POST", "/api/v1/customers/acme/unarchive", 400, "BAD_REQUEST")
    assert "Cannot archive customer with active subscriptions" in await json_error(
        writer, "DELETE", "/api/v1/customers/acme", 400, "BAD_REQUEST"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"custom_taxes": [{"name": "VAT", "rate": "20%", "tax_code": "V"}]},
            "custom_taxes[0].rate: invalid decimal",
        ),
        ({"custom_taxes": [{"name": "VAT", "rate": "0.2"}]}, "custom_taxes[0]: missing field `tax_code`"),
        ({"invoicing_emails": "ap@x.example"}, "invoicing_emails: invalid type: string, expected a sequence"),
        ({"customer_type": "PERSON"}, "customer_type: unknown variant `PERSON`"),
        ({"shipping_address": {"address": None}}, "shipping_address: missing field `same_as_billing`"),
        ({"invoicing_entity_id": "acme"}, "invoicing_entity_id: invalid invoicing entity id"),
        ({"is_tax_exempt": "yes"}, "is_tax_exempt: invalid type: string, expected a boolean"),
    ],
)
async def test_customer_fields_that_do_not_deserialize(writer, default_world, fields, message) -> None:
    seq = default_world.seq
    body = {"currency": "USD", "name": "Typed", **fields}
    assert message in await plain(writer, "POST", "/api/v1/customers", 400, json=body)
    assert default_world.seq == seq


async def test_an_individual_is_named_by_first_and_last_name(writer) -> None:
    person = {"currency": "EUR", "customer_type": "INDIVIDUAL", "first_name": "Ada"}
    assert "INDIVIDUAL requires first_name, last_name" in await json_error(
        writer, "POST", "/api/v1/customers", 400, "BAD_REQUEST", json=person
    )
    person |= {"last_name": "Lovelace", "billing_address": {"country": "GB"}}
    response = await writer.post("/api/v1/customers", json=person, headers={"Meteroid-Dialect": "upstream"})
    created = await response.json()
    assert (response.status, created["name"], created["customer_type"]) == (201, "Ada Lovelace", "INDIVIDUAL")


async def test_a_renamed_customer_moves_in_customer_name_order(writer) -> None:
    order = {"order_by": "customer_name.asc", "per_page": "100"}
    first = (await (await writer.get("/api/v1/invoices", params=order)).json())["data"][0]
    response = await writer.patch(f"/api/v1/customers/{first['customer_id']}", json={"name": "zzz Last"})
    assert response.status == 200 and (await response.json())["name"] == "zzz Last"
    listed = []
    for page in range(20):
        data = (await (await writer.get("/api/v1/invoices", params={**order, "page": str(page)})).json())[
            "data"
        ]
        listed += data
        if not data:
            break
    names = [invoice["customer_details"]["name"] for invoice in listed]
    assert names == sorted(names) and names[-1] == "zzz Last"
