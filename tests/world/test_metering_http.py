"""Tiered metrics over HTTP: usage ingested through either API shows on the draft as one line per
metric whose sub-lines are its tiers, the same breakdown in both APIs, in the subtotal, tax and
total, in a preview and on the invoice the clock finalizes; every body as the documents say."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from mockserver.generation.fixture import load_world
from mockserver.meteroid import openapi as meteroid_openapi
from mockserver.metronome import openapi as metronome_openapi
from mockserver.server import build_app
from mockserver.world.ids import derive_uuid, to_base62_id
from tests.openapi.helpers import response_validator
from tests.support import TOKEN
from tests.world.test_metering import TIERS

AUTH = {"Authorization": f"Bearer {TOKEN}"}
USD, EUR = "7e000000-0000-4000-8000-000000000001", "7e000000-0000-4000-8000-000000000002"
NOW = "2026-05-15T11:00:00Z"
METRONOME = metronome_openapi.document("date_asc")
METEROID = meteroid_openapi.document("documented")
# Seven requests across the three tiers (3 at 1, 2 at 0.5, 2 at 0.125) and 2.25 GB across two
# (1.5 at 2, 0.75 at 0.333: 24.975 cents, rounded half up).
REQUESTS_TIERS = [(0, 3, 100, 300), (3, 2, 50, 100), (5, 2, 12.5, 25)]
STORAGE_TIERS = [(0, 1.5, 200, 300), (1.5, 0.75, 33.3, 25)]


@pytest.fixture
async def client(aiohttp_client):
    return await aiohttp_client(build_app(load_world(TIERS)), headers=AUTH)


async def answer(client, method: str, path: str, template: str, doc: dict, **kwargs: Any) -> Any:
    """A 200 answer's body, checked against the API's document."""
    response = await client.request(method, path, **kwargs)
    assert response.status == 200, await response.text()
    body = await response.json()
    errors = list(response_validator(doc, template, method, 200).iter_errors(body))
    assert not errors, errors[:3]
    return body


async def metronome_draft(client, customer: str) -> dict:
    path = f"/v1/customers/{customer}/invoices"
    page = await answer(
        client, "GET", f"{path}?status=DRAFT", "/v1/customers/{customer_id}/invoices", METRONOME
    )
    (draft,) = page["data"]
    return draft


async def both(client, customer: str, invoice: str) -> tuple[dict, dict]:
    """One invoice as each API shows it."""
    metronome = await answer(
        client,
        "GET",
        f"/v1/customers/{customer}/invoices/{invoice}",
        "/v1/customers/{customer_id}/invoices/{invoice_id}",
        METRONOME,
    )
    meteroid = await answer(
        client,
        "GET",
        f"/api/v1/invoices/{to_base62_id('inv_', invoice)}",
        "/api/v1/invoices/{invoice_id}",
        METEROID,
    )
    return metronome["data"], meteroid


def metronome_tiers(line: dict) -> list[tuple]:
    """(starting_at, quantity, price in cents, subtotal) of each tier, from the one sub-line."""
    assert "unit_price" not in line
    (sub,) = line["sub_line_items"]
    assert (sub["name"], sub["quantity"], sub["subtotal"], sub["custom_fields"]) == (
        line["name"],
        line["quantity"],
        line["total"],
        {},
    )
    return [(t["starting_at"], t["quantity"], t["price"], t["subtotal"]) for t in sub["tiers"]]


def meteroid_tiers(line: dict) -> list[tuple]:
    """(name, quantity, unit price in major units, total) of each sub-line."""
    assert line["unit_price"] is None
    assert sum(sub["total"] for sub in line["sub_line_items"]) == line["amount_total"]
    return [(s["name"], s["quantity"], s["unit_price"], s["total"]) for s in line["sub_line_items"]]


def by_name(lines: list[dict]) -> dict[str, dict]:
    return {line["name"]: line for line in lines}


def check_amounts(metronome: dict, meteroid: dict, base: int, metered: int) -> None:
    """The subtotal is the invoice's own spend plus its usage lines; tax and total follow."""
    subtotal = base + metered
    tax = int(subtotal * Fraction(meteroid["tax_breakdown"][0]["tax_rate"]) + Fraction(1, 2))
    assert metronome["subtotal"] == meteroid["subtotal"] == subtotal
    assert meteroid["tax_amount"] == tax
    assert metronome["total"] == meteroid["total"] == subtotal + tax


async def test_tiered_usage_shows_the_same_tiers_in_both_apis(client) -> None:
    draft = await metronome_draft(client, USD)
    base = draft["subtotal"]
    requests = [
        {"transaction_id": f"r{i}", "customer_id": "tiered", "event_type": "api_request", "timestamp": NOW}
        for i in range(7)
    ]
    assert (await client.post("/v1/ingest", json=requests)).status == 200
    storage = {"event_id": "s1", "customer_id": "tiered", "code": "storage", "timestamp": NOW}
    reply = await client.post(
        "/api/v1/events/ingest", json={"events": [{**storage, "properties": {"gb": "2.25"}}]}
    )
    assert reply.status == 200, await reply.text()

    metronome, meteroid = await both(client, USD, draft["id"])
    shown, lines = by_name(metronome["line_items"]), by_name(meteroid["line_items"])
    assert metronome_tiers(shown["Requests"]) == REQUESTS_TIERS
    assert metronome_tiers(shown["Storage GB"]) == STORAGE_TIERS
    assert (shown["Requests"]["total"], shown["Storage GB"]["total"]) == (425, 325)
    assert meteroid_tiers(lines["Requests"]) == [
        ("Tier 1", "3", "1", 300),
        ("Tier 2", "2", "0.5", 100),
        ("Tier 3", "2", "0.125", 25),
    ]
    assert meteroid_tiers(lines["Storage GB"]) == [
        ("Tier 1", "1.5", "2", 300),
        ("Tier 2", "0.75", "0.333", 25),
    ]
    assert (lines["Requests"]["amount_total"], lines["Storage GB"]["amount_total"]) == (425, 325)
    # A plain metric's line is as it always was: a unit price and no sub-lines.
    assert (shown["Calls"]["unit_price"], shown["Calls"]["total"]) == (1, 7)
    assert "sub_line_items" not in shown["Calls"]
    assert (lines["Calls"]["unit_price"], lines["Calls"]["sub_line_items"]) == ("0.01", [])
    check_amounts(metronome, meteroid, base, 425 + 325 + 7)


async def test_sub_line_ids_are_derived_from_the_invoice_the_metric_and_the_tier(client) -> None:
    draft = await metronome_draft(client, USD)
    event = {"transaction_id": "r", "customer_id": USD, "event_type": "api_request", "timestamp": NOW}
    assert (
        await client.post("/v1/ingest", json=[{**event, "transaction_id": f"r{i}"} for i in range(4)])
    ).status == 200
    _, meteroid = await both(client, USD, draft["id"])
    line = by_name(meteroid["line_items"])["Requests"]
    line_id = derive_uuid(5, draft["id"], "usage", "Requests")
    assert [sub["id"] for sub in line["sub_line_items"]] == [
        derive_uuid(5, "meteroid", "tier", line_id, level) for level in (1, 2)
    ]


async def test_tiers_are_priced_in_the_invoice_currency(client) -> None:
    draft = await metronome_draft(client, EUR)
    events = [
        {"event_id": f"e{i}", "customer_id": "gestaffelt", "code": "api_request", "timestamp": NOW}
        for i in range(7)
    ]
    events.append(
        {"event_id": "s", "customer_id": "gestaffelt", "code": "storage", "properties": {"gb": "4"}}
    )
    assert (await client.post("/api/v1/events/ingest", json={"events": events})).status == 200
    metronome, meteroid = await both(client, EUR, draft["id"])
    assert metronome_tiers(by_name(metronome["line_items"])["Requests"]) == [
        (0, 3, 100, 300),
        (3, 2, 40, 80),
        (5, 2, 10, 20),
    ]
    assert "Storage GB" not in by_name(meteroid["line_items"])  # priced in USD only
    check_amounts(metronome, meteroid, draft["subtotal"], 400 + 7)


async def test_a_preview_and_the_finalized_invoice_keep_the_tiers(client) -> None:
    draft = await metronome_draft(client, USD)
    events = [
        {"transaction_id": f"r{i}", "customer_id": USD, "event_type": "api_request", "timestamp": NOW}
        for i in range(7)
    ]
    assert (await client.post("/v1/ingest", json=events)).status == 200
    preview_path = f"/v1/customers/{USD}/previewEvents"
    template = "/v1/customers/{customer_id}/previewEvents"
    one_more = {"events": [{"event_type": "api_request", "timestamp": NOW}], "mode": "merge"}
    (merged,) = (await answer(client, "POST", preview_path, template, METRONOME, json=one_more))["data"]
    # The eighth request falls in the last tier: 3 x 12.5 = 37.5 cents, rounded half up.
    assert metronome_tiers(by_name(merged["line_items"])["Requests"]) == [
        *REQUESTS_TIERS[:2],
        (5, 3, 12.5, 38),
    ]
    replaced = {"events": [{"event_type": "api_request", "timestamp": NOW}] * 4, "mode": "replace"}
    (alone,) = (await answer(client, "POST", preview_path, template, METRONOME, json=replaced))["data"]
    assert metronome_tiers(by_name(alone["line_items"])["Requests"]) == [(0, 3, 100, 300), (3, 1, 50, 50)]
    assert merged["subtotal"] - draft["subtotal"] == 438 + 8 and alone["subtotal"] - draft["subtotal"] == 354
    saved, _ = await both(client, USD, draft["id"])  # a preview saves nothing
    assert metronome_tiers(by_name(saved["line_items"])["Requests"]) == REQUESTS_TIERS

    moved = await client.post("/_mock/clock", json={"advance": "P1M"})
    assert moved.status == 200, await moved.text()
    metronome, meteroid = await both(client, USD, draft["id"])
    assert (metronome["status"], meteroid["status"]) == ("FINALIZED", "Finalized")
    assert metronome_tiers(by_name(metronome["line_items"])["Requests"]) == REQUESTS_TIERS
    assert meteroid_tiers(by_name(meteroid["line_items"])["Requests"])[-1] == ("Tier 3", "2", "0.125", 25)
    assert sum(line["amount_total"] for line in meteroid["line_items"]) == meteroid["subtotal"]
    tax = int(meteroid["subtotal"] * Fraction(meteroid["tax_breakdown"][0]["tax_rate"]) + Fraction(1, 2))
    assert metronome["total"] == meteroid["total"] == meteroid["subtotal"] + tax
