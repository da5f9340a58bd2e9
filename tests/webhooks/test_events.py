"""Events born from the world's changes, as each provider shapes and signs them: a month's
clock advance finalizes invoices (Metronome `invoice.finalized`; Meteroid `invoice.created`,
`invoice.finalized`, `invoice.paid`), a void and a new customer have theirs, ids follow the log."""

from __future__ import annotations

import jsonschema
import orjson
import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from mockserver.generation.fixture import load_fixture
from mockserver.world.ids import to_base62_id
from mockserver.world.log import FileLog
from mockserver.world.state import World
from mockserver.world.timeline import Timeline
from tests.webhooks import verify
from tests.webhooks.conftest import post, register

ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
# Upstream's `InvoiceEvent` and `CustomerEvent` (meteroid's OpenAPI `webhooks`), as JSON Schema.
MOMENT = {"type": "string", "format": "date-time", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"}
ENVELOPE = {"id": {"type": "string", "pattern": "^evt_[0-9A-Za-z]{1,22}$"}, "type": {"type": "string"}}
INVOICE_EVENT = {
    "type": "object",
    "required": [
        *("id", "type", "timestamp", "invoice_id", "customer_id", "status", "currency", "total"),
        *("tax_amount", "created_at"),
    ],
    "properties": {
        **ENVELOPE,
        "timestamp": MOMENT,
        "invoice_id": {"type": "string", "pattern": "^inv_"},
        "customer_id": {"type": "string", "pattern": "^cus_"},
        "status": {"enum": ["DRAFT", "FINALIZED", "UNCOLLECTIBLE", "VOID"]},
        "currency": {"type": "string"},
        "total": {"type": "integer"},
        "tax_amount": {"type": "integer"},
        "created_at": MOMENT,
    },
}
CUSTOMER_EVENT = {
    "type": "object",
    "required": ["id", "type", "timestamp", "customer_id", "name", "invoicing_emails", "currency"],
    "properties": {
        **ENVELOPE,
        "timestamp": MOMENT,
        "customer_id": {"type": "string", "pattern": "^cus_"},
        "name": {"type": "string"},
        "alias": {"type": ["string", "null"]},
        "billing_email": {"type": ["string", "null"]},
        "invoicing_emails": {"type": "array", "items": {"type": "string"}},
        "phone": {"type": ["string", "null"]},
        "currency": {"type": "string"},
    },
}
METRONOME_EVENT = {
    "type": "object",
    "required": ["id", "type", "properties"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "type": {"const": "invoice.finalized"},
        "properties": {
            "type": "object",
            "required": ["invoice_id", "customer_id", "invoice_finalized_date"],
            "additionalProperties": False,
            "properties": {
                "invoice_id": {"type": "string", "format": "uuid"},
                "customer_id": {"type": "string", "format": "uuid"},
                "invoice_finalized_date": MOMENT,
            },
        },
    },
}


def _types(received) -> list[str]:
    return [r.event["type"] for r in received]


async def test_a_month_advance_sends_each_api_its_events_signed(client, receiver) -> None:
    metronome = await register(client, receiver, "metronome")
    meteroid = await register(client, receiver, "meteroid")
    status, moved = await post(client, "/_mock/clock", {"advance": "P1M"})
    changed = moved["changed"]
    finalized = changed["finalized"] + changed["issued"]
    assert status == 200 and finalized > 0
    await receiver.until(lambda: len(receiver.at("/metronome")) == finalized)
    await receiver.until(lambda: _types(receiver.at("/meteroid")).count("invoice.finalized") == finalized)
    await receiver.until(
        lambda: _types(receiver.at("/meteroid")).count("invoice.created") == changed["opened"]
    )
    for sent in receiver.at("/metronome"):
        jsonschema.validate(sent.event, METRONOME_EVENT, format_checker=jsonschema.FormatChecker())
        verify.metronome(sent.body.decode(), sent.headers, metronome["secret"])
        assert sent.headers["Date"] == sent.headers["X-Metronome-Date"]
    meteroid_sent = receiver.at("/meteroid")
    assert "invoice.paid" in _types(meteroid_sent)
    for sent in meteroid_sent:
        jsonschema.validate(sent.event, INVOICE_EVENT)
        assert verify.meteroid(sent.body, sent.headers, meteroid["secret"]) == sent.event
        assert verify.meteroid(sent.body, verify.svix_copies(sent.headers), meteroid["secret"]) == sent.event
        assert sent.headers["webhook-id"] == sent.event["id"]
        assert sent.event["timestamp"] == "2026-12-15T12:00:00.000Z"
    ids = [r.event["id"] for r in receiver.received]
    assert len(set(ids)) == len(ids)


async def test_a_tampered_body_or_a_wrong_secret_fails_the_receivers_checks(client, receiver) -> None:
    await register(client, receiver, "metronome")
    meteroid = await register(client, receiver, "meteroid", types=["invoice.finalized"])
    await post(client, "/_mock/clock", {"advance": "P1M"})
    await receiver.until(lambda: receiver.at("/metronome") and receiver.at("/meteroid"))
    metronome_sent, meteroid_sent = receiver.at("/metronome")[0], receiver.at("/meteroid")[0]
    with pytest.raises(ValueError, match="does not match"):
        verify.metronome(metronome_sent.body.decode(), metronome_sent.headers, "another secret")
    with pytest.raises(WebhookVerificationError):
        verify.meteroid(meteroid_sent.body + b" ", meteroid_sent.headers, meteroid["secret"])


async def test_a_void_and_a_new_customer_have_their_events(client, receiver) -> None:
    await register(client, receiver, "meteroid", types=["invoice.voided", "customer.created"])
    auth = {"Authorization": "Bearer t", "Content-Type": "application/json"}
    body = {"name": "Hooked", "currency": "EUR", "billing_email": "a@b.test"}
    answer = await client.post("/api/v1/customers", data=orjson.dumps(body), headers=auth)
    assert answer.status == 201, await answer.text()
    listed = await client.get(f"/v1/customers/{ACME}/invoices", params={"status": "FINALIZED"}, headers=auth)
    invoice = (await listed.json())["data"][0]["id"]
    answer = await client.post("/v1/invoices/void", data=orjson.dumps({"id": invoice}), headers=auth)
    assert answer.status == 200, await answer.text()
    await receiver.until(lambda: len(receiver.received) == 2)
    customer, voided = (r.event for r in receiver.received)
    jsonschema.validate(customer, CUSTOMER_EVENT)
    jsonschema.validate(voided, INVOICE_EVENT)
    assert customer["type"] == "customer.created" and customer["name"] == "Hooked"
    assert (
        voided["type"] == "invoice.voided"
        and voided["invoice_id"] == to_base62_id("inv_", invoice)
        and voided["status"] == "VOID"
    )


async def test_event_ids_follow_the_log_and_a_replay_or_another_worker_names_them_alike(tmp_path) -> None:
    path = tmp_path / "changes.jsonl"
    writer = Timeline(World.from_fixture(load_fixture(None)), FileLog(path, shared=True))
    await writer.submit("webhook.create", {"url": "http://x.test/", "api": "meteroid"})
    await writer.submit("clock", {"advance": "P1M"})
    written = [(e.id, e.type, e.body) for e in writer.world.hooks.events.values()]
    reader = Timeline(World.from_fixture(load_fixture(None)), FileLog(path, shared=True))
    await reader.catch_up()
    assert written and [(e.id, e.type, e.body) for e in reader.world.hooks.events.values()] == written


async def test_a_world_without_endpoints_gives_birth_to_nothing() -> None:
    timeline = Timeline(World.from_fixture(load_fixture(None)))
    await timeline.submit("clock", {"advance": "P1M"})
    assert not timeline.world.hooks.events and not timeline.world.hooks.take()
