"""The official `meteroid` SDK's write calls against a server process of its own (writes
change its world): event ingestion with both flags, customers created, updated, replaced,
archived and unarchived, and what one API writes the other reads."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections.abc import Iterator
from decimal import Decimal

import pytest
from meteroid import Meteroid
from meteroid.errors import BadRequestError, ConflictError, NotFoundError
from meteroid.models import Address, CustomTaxRate, Event, ShippingAddress

from mockserver.world.ids import to_base62_id
from tests.meteroid.helpers import uuid_of
from tests.support import TOKEN, running_server

ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
ENTERPRISE = "3d8e1f20-5b6c-4d7e-9f80-a1b2c3d4e5f6"  # Acme's first contract: its usage lands there
NOW = dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC)  # the default world's clock


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_server(None) as base:
        yield base


@pytest.fixture(scope="module")
def client(base_url) -> Iterator[Meteroid]:
    with Meteroid(api_key=TOKEN, base_url=base_url, max_retries=0) as sdk:
        yield sdk


def get_json(base_url: str, path: str, dialect: str | None = None) -> dict:
    """A GET through either API, outside the SDK (in the given Meteroid spelling)."""
    headers = {"Authorization": f"Bearer {TOKEN}", **({"Meteroid-Dialect": dialect} if dialect else {})}
    with urllib.request.urlopen(
        urllib.request.Request(f"{base_url}{path}", headers=headers), timeout=10
    ) as response:
        return json.loads(response.read())


def enterprise_draft(client: Meteroid):
    subscription = to_base62_id("sub_", ENTERPRISE)
    (draft,) = client.invoices.list(subscription_id=subscription, statuses=["DRAFT"]).items
    return draft


def users_line(invoice):
    return next((line for line in invoice.line_items if line.name == "Active users"), None)


def event(key: str, at: dt.datetime = NOW, customer: str = "acme", **properties: str) -> Event:
    return Event(event_id=key, code="api_request", customer_id=customer, timestamp=at, properties=properties)


def test_ingested_events_reach_the_draft_in_both_apis(client, base_url) -> None:
    before = users_line(enterprise_draft(client))
    assert before is None
    answer = client.events.ingest(
        events=[event(f"u-{i}", user_id=f"user-{i % 4}") for i in range(12)]
        + [event("u-0", user_id="user-9")]  # the same (event_id, customer): the first copy is kept
    )
    assert answer.failures is None
    draft = enterprise_draft(client)
    line = users_line(draft)
    assert (line.quantity, line.unit_price, line.amount_total) == (Decimal(4), Decimal("1.5"), 600)
    seen = get_json(base_url, f"/v1/customers/{ACME}/invoices/{uuid_of('inv_', draft.id)}")["data"]
    assert (seen["subtotal"], seen["total"]) == (draft.subtotal, draft.total)
    (usage,) = [item for item in seen["line_items"] if item["name"] == "Active users"]
    assert (usage["quantity"], usage["unit_price"], usage["total"]) == (4, 150, 600)


def test_partial_failures_and_backfilling(client) -> None:
    old = NOW - dt.timedelta(days=3)
    with pytest.raises(BadRequestError) as refused:
        client.events.ingest(events=[event("p-1"), event("p-2", at=old)])
    assert refused.value.body.code == "BAD_REQUEST"
    assert "events[1].timestamp" in refused.value.body.message
    answer = client.events.ingest(
        events=[event("p-1"), event("p-2", at=old), event("p-3", customer="nobody")],
        allow_partial_failures=True,
    )
    assert [(f.event_id, f.reason.split(":")[0]) for f in answer.failures] == [
        ("p-2", "events[1].timestamp"),
        ("p-3", "events[2].customer_id"),
    ]
    assert client.events.ingest(events=[event("p-2", at=old)], allow_backfilling=True).failures is None
    with pytest.raises(BadRequestError):
        client.events.ingest(events=[event("p-4", at=NOW + dt.timedelta(hours=2))], allow_backfilling=True)


def test_customers_are_created_updated_replaced_archived_and_unarchived(client, base_url) -> None:
    created = client.customers.create(
        currency="EUR",
        name="Hooli Europe",
        alias="hooli",
        billing_email="ap@hooli.example.com",
        billing_address=Address(city="Dublin", country="IE"),
        custom_properties={"segment": "enterprise"},
    )
    assert (created.name, created.alias, created.currency, created.billing_email) == (
        "Hooli Europe",
        "hooli",
        "EUR",
        "ap@hooli.example.com",
    )
    assert created.billing_address.city == "Dublin" and created.custom_properties == {"segment": "enterprise"}
    assert client.customers.retrieve("hooli") == created == client.customers.retrieve(created.id)
    with pytest.raises(ConflictError):
        client.customers.create(currency="USD", name="Another", alias="hooli")
    seen = get_json(base_url, f"/v1/customers/{uuid_of('cus_', created.id)}")["data"]
    assert (seen["name"], seen["ingest_aliases"]) == ("Hooli Europe", ["hooli"])

    patched = client.customers.update("hooli", phone="+353 1 000 0000", custom_properties={"tier": "gold"})
    assert patched.phone == "+353 1 000 0000" and patched.billing_email == "ap@hooli.example.com"
    assert patched.custom_properties == {"segment": "enterprise", "tier": "gold"}
    replaced = client.customers.replace(
        "hooli",
        currency="EUR",
        custom_taxes=[],
        invoicing_emails=[],
        invoicing_entity_id=created.invoicing_entity_id,
        name="Hooli EU",
        alias="hooli-eu",
    )
    assert (replaced.name, replaced.alias, replaced.phone, replaced.billing_email) == (
        "Hooli EU",
        "hooli-eu",
        None,
        None,
    )
    with pytest.raises(NotFoundError):
        client.customers.retrieve("hooli")

    assert client.customers.archive("hooli-eu") is None
    assert "Hooli EU" in [c.name for c in client.customers.list(archived=True)]
    assert "Hooli EU" not in [c.name for c in client.customers.list()]
    assert get_json(base_url, f"/v1/customers/{uuid_of('cus_', created.id)}")["data"]["archived_at"]
    with pytest.raises(BadRequestError):
        client.customers.archive("hooli-eu")
    assert client.customers.unarchive("hooli-eu") is None
    assert "Hooli EU" in [c.name for c in client.customers.list()]
    with pytest.raises(NotFoundError):
        client.customers.archive("nobody")


def test_a_customer_created_with_every_field_reads_back_as_sent(client, base_url) -> None:
    """Every field of the create body comes back as sent, through the SDK (the upstream
    spelling) and through the documented one, where its response type has the field."""
    entity = client.customers.retrieve("acme").invoicing_entity_id
    sent = {
        "currency": "EUR",
        "alias": "umbrella-fr",
        "billing_address": Address(line1="1 rue de la Paix", city="Paris", zip_code="75002", country="FR"),
        "billing_email": "billing@umbrella.example.com",
        "buyer_reference": "LEITWEG-991",
        "connected_account_id": "acct_umbrella",
        "custom_properties": {"segment": "public"},
        "custom_taxes": [CustomTaxRate(name="TVA", rate="0.2", tax_code="FR-VAT")],
        "customer_type": "INDIVIDUAL",
        "exemption_reason": "Article 262 ter",
        "first_name": "Marie",
        "last_name": "Curie",
        "invoicing_emails": ["ap@umbrella.example.com", "cfo@umbrella.example.com"],
        "invoicing_entity_id": entity,
        "is_tax_exempt": True,
        "legal_number": "552 100 554",
        "phone": "+33 1 00 00 00 00",
        "preferred_locales": ["fr-FR", "en"],
        "shipping_address": ShippingAddress(
            same_as_billing=False, address=Address(city="Lyon", country="FR")
        ),
        "vat_number": "FR40303265045",
    }
    created = client.customers.create(**sent)
    read = client.customers.retrieve("umbrella-fr")
    assert read == created
    for name, value in sent.items():
        if name not in ("is_tax_exempt", "exemption_reason"):  # no read of either API answers them
            assert getattr(read, name) == value, name
    assert (read.name, read.invoicing_language) == ("Marie Curie", "fr-FR")
    documented = get_json(base_url, "/api/v1/customers/umbrella-fr", "documented")
    assert documented["custom_taxes"] == [{"name": "TVA", "rate": "0.2", "tax_code": "FR-VAT"}]
    assert documented["shipping_address"] == {
        "same_as_billing": False,
        "address": {"city": "Lyon", "country": "FR"},
    }
    assert (documented["invoicing_emails"], documented["preferred_locales"]) == (
        sent["invoicing_emails"],
        sent["preferred_locales"],
    )
    assert "legal_number" not in documented  # the documented Customer has no such field
    patched = client.customers.update("umbrella-fr", phone="+33 1 11 11 11 11")
    assert (patched.legal_number, patched.custom_taxes, patched.invoicing_emails) == (
        read.legal_number,
        read.custom_taxes,
        read.invoicing_emails,
    )
    replaced = client.customers.replace(
        "umbrella-fr",
        currency="EUR",
        custom_taxes=[],
        invoicing_emails=["new@umbrella.example.com"],
        invoicing_entity_id=entity,
        legal_number="552 100 555",
        billing_address=sent["billing_address"],
    )
    assert (replaced.invoicing_emails, replaced.legal_number, replaced.custom_taxes) == (
        ["new@umbrella.example.com"],
        "552 100 555",
        [],
    )
    assert (replaced.first_name, replaced.last_name, replaced.buyer_reference) == ("Marie", "Curie", None)


def test_a_customer_with_a_live_subscription_is_not_archived(client) -> None:
    with pytest.raises(BadRequestError) as refused:
        client.customers.archive("acme")
    assert refused.value.body.code == "BAD_REQUEST"
    assert refused.value.body.message.startswith(
        "Invalid input: Cannot archive customer with active subscriptions"
    )
    assert client.customers.retrieve("acme").name == "Acme Corporation"
    assert "Acme Corporation" in [c.name for c in client.customers.list(per_page=100)]
