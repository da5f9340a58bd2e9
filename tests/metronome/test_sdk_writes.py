"""The official `metronome-sdk`'s write calls, with strict response validation, against a server
process of its own (writes change its world): usage ingestion lands on the draft, priced by
the fixture's metric, as both APIs show it; preview, void, regenerate, create and archive."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from fractions import Fraction

import metronome
import pytest
from metronome import Metronome

from mockserver.world.ids import to_base62_id
from mockserver.world.money import round_half_up
from tests.support import TOKEN, running_server

ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
GLOBEX = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
ENTERPRISE = "3d8e1f20-5b6c-4d7e-9f80-a1b2c3d4e5f6"  # Acme's first contract: its usage lands there
NOW = "2026-11-15T12:00:00Z"  # the default world's clock
UNIT_CENTS = Fraction("0.2")  # api_request: 0.002 USD per request


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_server(None) as base:
        yield base


@pytest.fixture(scope="module")
def sdk(base_url: str) -> Iterator[Metronome]:
    with Metronome(
        bearer_token=TOKEN, base_url=base_url, max_retries=0, _strict_response_validation=True
    ) as client:
        yield client


def meteroid_get(base_url: str, path: str) -> dict:
    request = urllib.request.Request(f"{base_url}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def enterprise_draft(sdk: Metronome):
    (draft,) = [
        i
        for i in sdk.v1.customers.invoices.list(customer_id=ACME, status="DRAFT")
        if i.contract_id == ENTERPRISE
    ]
    return draft


def requests_line(invoice):
    return next((line for line in invoice.line_items if line.name == "API requests"), None)


def events(prefix: str, count: int, customer: str = "acme") -> list[dict]:
    return [
        {
            "transaction_id": f"{prefix}-{i}",
            "customer_id": customer,
            "event_type": "api_request",
            "timestamp": "2026-11-15T09:30:00.250Z",
            "properties": {"endpoint": "/v1/users", "response_time_ms": 45},
        }
        for i in range(count)
    ]


def test_ingested_usage_lands_on_the_draft_priced_by_the_metric_in_both_apis(sdk, base_url) -> None:
    before = enterprise_draft(sdk)
    existing = requests_line(before)
    counted = 0 if existing is None else existing.quantity
    assert sdk.v1.usage.ingest(usage=events("land", 37)) is None
    sdk.v1.usage.ingest(usage=events("land", 37)[:5])  # duplicates: ignored
    after = enterprise_draft(sdk)
    line = requests_line(after)
    assert (line.type, line.quantity, line.unit_price) == ("usage", counted + 37, 0.2)
    assert line.total == round_half_up((counted + 37) * UNIT_CENTS)
    assert after.subtotal - before.subtotal == line.total - (0 if existing is None else existing.total)
    # The same draft through the Meteroid-style API: same amounts, same line, tax recomputed.
    seen = meteroid_get(base_url, f"/api/v1/invoices/{to_base62_id('inv_', after.id)}")
    assert (seen["subtotal"], seen["total"], seen["amount_due"]) == (after.subtotal, after.total, after.total)
    (usage_line,) = [item for item in seen["line_items"] if item["name"] == "API requests"]
    assert (usage_line["quantity"], usage_line["unit_price"], usage_line["amount_total"]) == (
        str(counted + 37),
        "0.002",
        line.total,
    )
    breakdown = seen["tax_breakdown"][0]
    expected_tax = (
        0 if breakdown["exemption_type"] else round_half_up(after.subtotal * Fraction(breakdown["tax_rate"]))
    )
    assert seen["tax_amount"] == expected_tax
    coupons = sum(coupon["total"] for coupon in seen["coupons"])
    assert after.total == after.subtotal + expected_tax - seen["applied_credits"] - coupons


def test_preview_saves_nothing(sdk) -> None:
    before = enterprise_draft(sdk)
    counted = (requests_line(before) or type("none", (), {"quantity": 0})).quantity
    preview = [
        {"event_type": "api_request", "timestamp": NOW, "transaction_id": f"preview-{i}"} for i in range(10)
    ]
    replaced = sdk.v1.customers.preview_events(customer_id=ACME, events=preview, mode="replace")
    merged = sdk.v1.customers.preview_events(customer_id=ACME, events=preview, mode="merge")
    by_contract = {i.contract_id: i for i in replaced.data}
    assert requests_line(by_contract[ENTERPRISE]).quantity == 10
    assert requests_line({i.contract_id: i for i in merged.data}[ENTERPRISE]).quantity == counted + 10
    assert all(i.status == "DRAFT" for i in replaced.data)
    assert enterprise_draft(sdk) == before
    with pytest.raises(metronome.BadRequestError):
        sdk.v1.customers.preview_events(customer_id=ACME, events=preview + preview[:1])
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.customers.preview_events(customer_id="00000000-0000-4000-8000-000000000000", events=preview)


def test_void_then_regenerate(sdk) -> None:
    finalized = next(iter(sdk.v1.customers.invoices.list(customer_id=GLOBEX, status="FINALIZED")))
    with pytest.raises(metronome.BadRequestError, match="not void"):
        sdk.v1.invoices.regenerate(id=finalized.id)
    assert sdk.v1.invoices.void(id=finalized.id).data.id == finalized.id
    voided = sdk.v1.customers.invoices.retrieve(customer_id=GLOBEX, invoice_id=finalized.id).data
    assert voided.status == "VOID"
    with pytest.raises(metronome.BadRequestError, match="void already"):
        sdk.v1.invoices.void(id=finalized.id)
    new_id = sdk.v1.invoices.regenerate(id=finalized.id).data.id
    regenerated = sdk.v1.customers.invoices.retrieve(customer_id=GLOBEX, invoice_id=new_id).data
    assert (regenerated.status, regenerated.regenerated_from_invoice_id) == ("FINALIZED", finalized.id)
    assert (regenerated.start_timestamp, regenerated.issued_at.isoformat()) == (
        finalized.start_timestamp,
        "2026-11-15T12:00:00+00:00",
    )
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.invoices.void(id="00000000-0000-4000-8000-000000000000")


def test_create_and_archive_a_customer_both_apis_see(sdk, base_url) -> None:
    created = sdk.v1.customers.create(
        name="Initrode", ingest_aliases=["initrode"], custom_fields={"segment": "startup"}
    ).data
    assert (created.name, created.ingest_aliases, created.external_id, created.custom_fields) == (
        "Initrode",
        ["initrode"],
        "initrode",
        {"segment": "startup"},
    )
    detail = sdk.v1.customers.retrieve(customer_id=created.id).data
    assert detail.archived_at is None and detail.created_at.isoformat() == "2026-11-15T12:00:00+00:00"
    assert meteroid_get(base_url, "/api/v1/customers/initrode")["id"] == to_base62_id("cus_", created.id)
    sdk.v1.usage.ingest(usage=events("initrode", 3, customer="initrode"))  # no contract: bills nothing
    with pytest.raises(metronome.ConflictError):
        sdk.v1.customers.create(name="Copy", ingest_aliases=["initrode"])
    assert sdk.v1.customers.archive(id=created.id).data.id == created.id
    assert sdk.v1.customers.retrieve(customer_id=created.id).data.archived_at is not None
    assert created.id in {c.id for c in sdk.v1.customers.list(only_archived=True)}
    assert created.id not in {c.id for c in sdk.v1.customers.list()}


def test_ingest_refusals(sdk) -> None:
    refusals = {
        r"usage\[1\].timestamp: 2026-11-16T13:00:00Z is more than 24 hours after now": [
            {**events("ahead", 1)[0], "timestamp": "2026-11-16T13:00:00Z"}  # 25 hours ahead
        ],
        r"usage\[1\].timestamp: 2026-10-01T00:00:00Z is more than 34 days before now": [
            {**events("old", 1)[0], "timestamp": "2026-10-01T00:00:00Z"}
        ],
        r"usage\[1\].timestamp: 'soon' is not an RFC 3339 timestamp": [
            {**events("ts", 1)[0], "timestamp": "soon"}
        ],
        "usage: a batch holds 1 to 100 usage events, got 101": events("many", 100),
    }
    before = enterprise_draft(sdk)
    for message, usage in refusals.items():
        with pytest.raises(metronome.BadRequestError, match=message):
            sdk.v1.usage.ingest(usage=[*events("fine", 1), *usage])
    with pytest.raises(metronome.BadRequestError, match="usage: a batch holds 1 to 100 usage events, got 0"):
        sdk.v1.usage.ingest(usage=[])
    assert enterprise_draft(sdk) == before  # nothing of a refused batch was applied
    sdk.v1.usage.ingest(usage=[{**events("ahead", 1)[0], "timestamp": "2026-11-16T11:00:00Z"}])  # 23 hours


def test_usage_for_an_alias_no_customer_has_yet_is_billed_once_it_is_set(sdk) -> None:
    """Accepted and kept; once the alias is set, the drafts are exactly what the same events
    sent for a known alias would have made them (the preview of them on top of the usage)."""
    before = sdk.v1.customers.invoices.list(customer_id=ACME, status="DRAFT").data
    early = [{**event, "timestamp": "2026-11-15T08:00:00Z"} for event in events("early", 12, "acme-eu")]
    assert sdk.v1.usage.ingest(usage=early) is None
    assert sdk.v1.customers.invoices.list(customer_id=ACME, status="DRAFT").data == before
    same = [{k: v for k, v in event.items() if k not in ("customer_id", "transaction_id")} for event in early]
    expected = sdk.v1.customers.preview_events(customer_id=ACME, events=same, mode="merge").data
    aliases = sdk.v1.customers.retrieve(customer_id=ACME).data.ingest_aliases
    assert sdk.v1.customers.set_ingest_aliases(customer_id=ACME, ingest_aliases=[*aliases, "acme-eu"]) is None
    after = sdk.v1.customers.invoices.list(customer_id=ACME, status="DRAFT").data
    assert sorted((i.id, i.subtotal, i.total, i.line_items) for i in after) == sorted(
        (i.id, i.subtotal, i.total, i.line_items) for i in expected
    )
    assert (
        requests_line(enterprise_draft(sdk)).quantity
        == requests_line(next(i for i in before if i.contract_id == ENTERPRISE)).quantity + 12
    )
    assert sdk.v1.customers.retrieve(customer_id=ACME).data.ingest_aliases == [*aliases, "acme-eu"]
    with pytest.raises(metronome.ConflictError):
        sdk.v1.customers.set_ingest_aliases(customer_id=GLOBEX, ingest_aliases=["acme-eu"])
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.customers.set_ingest_aliases(
            customer_id="00000000-0000-4000-8000-000000000000", ingest_aliases=["x"]
        )


def test_archiving_voids_the_drafts_and_no_draft_opens_after(tmp_path) -> None:
    """On a server of its own: the clock moves."""
    with running_server(None) as base, Metronome(bearer_token=TOKEN, base_url=base, max_retries=0) as client:
        drafts = client.v1.customers.invoices.list(customer_id=ACME, status="DRAFT").data
        assert client.v1.customers.archive(id=ACME).data.id == ACME
        voided = [
            client.v1.customers.invoices.retrieve(customer_id=ACME, invoice_id=i.id).data for i in drafts
        ]
        assert drafts and {i.status for i in voided} == {"VOID"}
        count = len(list(client.v1.customers.invoices.list(customer_id=ACME)))
        request = urllib.request.Request(
            f"{base}/_mock/clock", data=b'{"advance": "P1M"}', headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request, timeout=10).close()
        assert client.v1.customers.invoices.list(customer_id=ACME, status="DRAFT").data == []
        assert len(list(client.v1.customers.invoices.list(customer_id=ACME))) == count
