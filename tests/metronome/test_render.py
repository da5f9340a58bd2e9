"""The wire format: every invoice and customer of the default world, checked against the SDK's models
and against the neutral world it renders."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, get_args

import orjson
import pytest
from metronome.types.v1.customer_detail import CustomerDetail
from metronome.types.v1.customers.invoice import Invoice as SdkInvoice
from pydantic import BaseModel

from mockserver.generation.fixture import load_world
from mockserver.metronome.catalog import CreditTypes
from mockserver.metronome.render import Renderer, list_body
from mockserver.world.state import World

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
# Written out independently of the facade's own tables.
EXPECTED_STATUS = {"draft": "DRAFT", "finalized": "FINALIZED", "uncollectible": "FINALIZED", "void": "VOID"}
EXPECTED_TYPE = {
    "usage": "USAGE",
    "usage_threshold": "USAGE",
    "usage_consolidated": "USAGE_CONSOLIDATED",
    "scheduled": "SCHEDULED",
    "one_off": "SCHEDULED",
    "adjustment": "SCHEDULED",
}
TIME_KEYS = {
    "start_timestamp",
    "end_timestamp",
    "issued_at",
    "starting_at",
    "ending_before",
    "start_date",
    "end_date",
    "issued_at_timestamp",
    "created_at",
    "updated_at",
    "archived_at",
    "effective_at",
}


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models(arg)


def undeclared(model: type[BaseModel], data: dict[str, Any], path: str = "") -> list[str]:
    """Keys the SDK's model does not declare, however deep."""
    found = []
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            found.append(path + key)
            continue
        for sub in _models(field.annotation):
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    where = f"{path}{key}[{index}]." if isinstance(value, list) else f"{path}{key}."
                    found += undeclared(sub, item, where)
    return found


def times(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in TIME_KEYS and isinstance(value, str):
                yield value
            else:
                yield from times(value)
    elif isinstance(data, list):
        for item in data:
            yield from times(item)


@pytest.fixture(scope="module")
def renderer(default_world: World) -> Renderer:
    return Renderer(default_world, CreditTypes(default_world.currencies))


@pytest.fixture(scope="module")
def rendered(default_world: World, renderer: Renderer) -> list[dict[str, Any]]:
    return [orjson.loads(renderer.invoice_bytes(i, False)) for i in range(len(default_world))]


def test_every_invoice_validates_against_the_sdk_model_with_only_its_fields(rendered) -> None:
    for body in rendered:
        SdkInvoice.model_validate(body)
        assert undeclared(SdkInvoice, body) == [], body["id"]


def test_every_datetime_is_rfc3339_with_z(rendered) -> None:
    stamps = [stamp for body in rendered for stamp in times(body)]
    assert len(stamps) > 4 * len(rendered)
    assert [s for s in stamps if not RFC3339_Z.match(s)] == []


def test_identity_status_type_and_period_follow_the_world(default_world: World, rendered) -> None:
    for ordinal, body in enumerate(rendered):
        invoice = default_world.invoice(ordinal)
        assert body["id"] == invoice.id and body["customer_id"] == invoice.customer.id
        assert body["status"] == EXPECTED_STATUS[invoice.status]
        assert body["type"] == EXPECTED_TYPE[invoice.kind]
        assert body["contract_id"] == invoice.contract.id
        assert body["credit_type"]["name"] == f"{invoice.currency} (cents)"
        assert body["net_payment_terms_days"] == invoice.net_terms


def test_credit_types_are_one_stable_uuid_per_currency(rendered) -> None:
    by_name: dict[str, set[str]] = {}
    for body in rendered:
        by_name.setdefault(body["credit_type"]["name"], set()).add(body["credit_type"]["id"])
        assert {line["credit_type"]["id"] for line in body["line_items"]} == {body["credit_type"]["id"]}
    assert set(by_name) == {"USD (cents)", "EUR (cents)", "GBP (cents)"}
    assert all(len(ids) == 1 for ids in by_name.values())
    assert len({next(iter(ids)) for ids in by_name.values()}) == 3


def test_amounts_add_up(default_world: World, rendered) -> None:
    for ordinal, body in enumerate(rendered):
        invoice = default_world.invoice(ordinal)
        charges = [line for line in body["line_items"] if line["type"] != "applied_commit_or_credit"]
        applied = [line for line in body["line_items"] if line["type"] == "applied_commit_or_credit"]
        assert sum(line["total"] for line in charges) == body["subtotal"] == invoice.subtotal
        assert sum(line["total"] for line in applied) == -invoice.credits
        assert all(line["total"] < 0 for line in applied)
        adjustments = sum(a["total"] for a in body.get("invoice_adjustments", []))
        assert adjustments == -(invoice.credits + invoice.coupons_total)
        assert body["total"] == body["subtotal"] + invoice.tax + adjustments == invoice.total


def test_applied_credits_name_their_grant(default_world: World, rendered) -> None:
    with_credits = [
        b for b in rendered if any(line["type"] == "applied_commit_or_credit" for line in b["line_items"])
    ]
    assert with_credits
    for body in with_credits:
        grants = {a.get("credit_grant_id") for a in body["invoice_adjustments"]} - {None}
        for line in body["line_items"]:
            if line["type"] == "applied_commit_or_credit":
                assert line["applied_commit_or_credit"]["type"] in ("PREPAID", "POSTPAID", "CREDIT")
                assert line["applied_commit_or_credit"]["id"] == line["commit_id"]
                assert line["commit_id"] in grants


def test_coupons_are_invoice_adjustments(default_world: World, rendered) -> None:
    coupons = 0
    for ordinal, body in enumerate(rendered):
        for coupon in default_world.invoice(ordinal).coupons:
            coupons += 1
            assert {"credit_type": body["credit_type"], "name": coupon.name, "total": -coupon.amount} in body[
                "invoice_adjustments"
            ]
    assert coupons


def test_tiered_usage_lines_carry_sub_line_items_with_tiers(rendered) -> None:
    tiered = [line for body in rendered for line in body["line_items"] if "sub_line_items" in line]
    assert tiered
    for line in tiered:
        assert line["type"] == "usage" and "unit_price" not in line
        (sub,) = line["sub_line_items"]
        assert sub["subtotal"] == line["total"] and sub["quantity"] == line["quantity"]
        assert sum(tier["subtotal"] for tier in sub["tiers"]) == line["total"]
        assert sum(tier["quantity"] for tier in sub["tiers"]) == line["quantity"]
        starts = [tier["starting_at"] for tier in sub["tiers"]]
        ends = [tier["starting_at"] + tier["quantity"] for tier in sub["tiers"]]
        assert starts == [0, *ends[:-1]]  # each tier starts where the previous one ended


def test_plain_lines_price_times_quantity_is_the_total(rendered) -> None:
    for body in rendered:
        for line in body["line_items"]:
            if "unit_price" in line:
                assert abs(line["unit_price"] * line["quantity"] - line["total"]) < 1e-6


def test_usage_consolidated_lists_its_constituents(rendered) -> None:
    consolidated = [b for b in rendered if b["type"] == "USAGE_CONSOLIDATED"]
    assert consolidated
    for body in consolidated:
        assert body["constituent_invoices"]
        for part in body["constituent_invoices"]:
            assert part["customer_id"] == body["customer_id"] and part["contract_id"] == body["contract_id"]
    assert all("constituent_invoices" not in b for b in rendered if b["type"] != "USAGE_CONSOLIDATED")


def test_external_invoice_carries_provider_status_and_tax(default_world: World, rendered) -> None:
    statuses = set()
    for ordinal, body in enumerate(rendered):
        invoice = default_world.invoice(ordinal)
        if invoice.status == "draft":
            assert "external_invoice" not in body
            continue
        external = body["external_invoice"]
        statuses.add((invoice.status, external["external_status"]))
        assert external["billing_provider_type"] == "stripe"
        assert external["tax"]["total_tax_amount"] == invoice.tax
        assert external["invoiced_total"] == body["total"]
        if invoice.status == "uncollectible":
            assert body["status"] == "FINALIZED" and external["external_status"] == "UNCOLLECTIBLE"
        if invoice.status == "void":
            assert external["external_status"] == "VOID"
    assert ("uncollectible", "UNCOLLECTIBLE") in statuses and ("finalized", "PAID") in statuses


def test_custom_fields_of_invoice_customer_and_contract(default_world: World, rendered) -> None:
    for ordinal, body in enumerate(rendered):
        invoice = default_world.invoice(ordinal)
        assert body["custom_fields"] == dict(invoice.custom_fields)
        assert body["customer_custom_fields"] == dict(invoice.customer.custom_fields)
        assert body["contract_custom_fields"] == dict(invoice.contract.custom_fields)


def test_skip_zero_drops_exactly_the_zero_quantity_lines(default_world: World, renderer, rendered) -> None:
    dropped = 0
    for ordinal, body in enumerate(rendered):
        skipped = orjson.loads(renderer.invoice_bytes(ordinal, True))
        kept = [line for line in body["line_items"] if line.get("quantity", 1) != 0]
        dropped += len(body["line_items"]) - len(kept)
        assert skipped["line_items"] == kept
        assert {k: v for k, v in skipped.items() if k != "line_items"} == {
            k: v for k, v in body.items() if k != "line_items"
        }
    assert dropped


def test_the_edge_fixtures_credited_invoice(edge_world: World) -> None:
    renderer = Renderer(edge_world, CreditTypes(edge_world.currencies))
    body = orjson.loads(
        renderer.invoice_bytes(edge_world.invoice_by_id["b0000000-0000-4000-8000-00000000000b"], False)
    )
    applied = [line for line in body["line_items"] if line["type"] == "applied_commit_or_credit"]
    assert sum(line["total"] for line in applied) == -5000
    assert sum(a["total"] for a in body["invoice_adjustments"]) == -6000
    assert body["total"] == body["subtotal"] + body["external_invoice"]["tax"]["total_tax_amount"] - 6000


def test_customers_validate_and_show_archiving(default_world: World, renderer) -> None:
    archived = 0
    for customer in default_world.customers:
        body = orjson.loads(renderer.customer_bytes(customer.ordinal))
        CustomerDetail.model_validate(body)
        assert undeclared(CustomerDetail, body) == []
        assert body["ingest_aliases"] == list(customer.aliases)
        assert all(RFC3339_Z.match(stamp) for stamp in times(body))
        if customer.archived_at is None:
            assert body["archived_at"] is None and body["current_billable_status"]["value"] == "billable"
        else:
            archived += 1
            assert body["archived_at"] and body["current_billable_status"]["value"] == "unbillable"
    assert archived >= 2


def test_the_same_fixture_renders_the_same_bytes_in_another_world(default_world: World, renderer) -> None:
    again = load_world(None)
    other = Renderer(again, CreditTypes(again.currencies))
    umbrella = default_world.by_customer[default_world.customer_by_alias["umbrella"]]
    assert list_body([renderer.invoice_bytes(i, False) for i in umbrella], None) == list_body(
        [other.invoice_bytes(i, False) for i in umbrella], None
    )


def test_the_field_check_itself_sees_invented_fields_at_any_depth() -> None:
    body = {"id": "x", "due_date": "2026-01-01", "line_items": [{"name": "a", "amount_due": 1}]}
    body["external_invoice"] = {"tax": {"vat": 1}}
    assert undeclared(SdkInvoice, body) == [
        "due_date",
        "line_items[0].amount_due",
        "external_invoice.tax.vat",
    ]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("skip_zero", [False, True])
def test_a_span_of_a_scope_renders_as_its_invoices_one_by_one(
    default_world: World, renderer: Renderer, skip_zero: bool, descending: bool
) -> None:
    scopes = [default_world.scope("customer", c, "issued_at") for c in range(len(default_world.customers))]
    scope = max(scopes, key=lambda s: len(s.members))  # several blocks
    size = len(scope.members)
    assert size > 100
    spans = [(0, 1), (0, size), (3, 28), (size - 5, size), (31, 33), (32, 64), (1, size - 1)]
    for first, end in spans:
        ordinals = list(scope.members[first:end])
        if descending:
            ordinals.reverse()
        expected = list_body(renderer.items(ordinals, skip_zero), "c")
        assert renderer.span_body(scope, (first, end), skip_zero, descending, "c") == expected
