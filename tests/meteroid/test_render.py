"""What an invoice and a customer look like on the wire, checked against the neutral world."""

from __future__ import annotations

from fractions import Fraction

import orjson
import pytest
from meteroid import models as sdk

from mockserver.generation.fixture import load_fixture
from mockserver.meteroid.params import Paging
from mockserver.meteroid.view import MeteroidView, view_of
from mockserver.server import build_app
from mockserver.shell.app import Settings
from mockserver.world import clock
from mockserver.world.ids import to_base62_id
from mockserver.world.query import InvoiceQuery, Plan
from mockserver.world.state import World
from tests.meteroid.helpers import AUTH, check_item, check_list, uuid_of

PINNED_INVOICE = "9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
INVOICE_KEYS = [
    "id",
    "invoice_number",
    "status",
    "customer_id",
    "subscription_id",
    "currency",
    "invoice_date",
    "due_date",
    "subtotal",
    "subtotal_recurring",
    "tax_amount",
    "total",
    "amount_due",
    "memo",
    "line_items",
    "paid_at",
    "tax_breakdown",
    "transactions",
    "payment_status",
    "customer_details",
    "applied_credits",
    "coupons",
    "invoice_type",
    "net_terms",
    "reference",
    "purchase_order",
    "created_at",
    "updated_at",
    "finalized_at",
    "voided_at",
    "marked_as_uncollectible_at",
    "tax_inclusive",
    "custom_properties",
]
SPELLING = {
    "documented": {
        "status": {
            "draft": "Draft",
            "finalized": "Finalized",
            "uncollectible": "Uncollectible",
            "void": "Void",
        },
        "payment_status": {
            "unpaid": "Unpaid",
            "partially_paid": "PartiallyPaid",
            "paid": "Paid",
            "errored": "Errored",
            "processing": "Processing",
        },
        "kind": {
            "usage": "Recurring",
            "usage_consolidated": "Recurring",
            "scheduled": "Recurring",
            "one_off": "OneOff",
            "adjustment": "Adjustment",
            "usage_threshold": "UsageThreshold",
        },
        "exemption": {
            "reverse_charge": "ReverseCharge",
            "tax_exempt": "TaxExempt",
            "not_registered": "NotRegistered",
        },
        "transaction": {"settled": "Settled", "pending": "Pending", "failed": "Failed"},
        "method": {"card": "Card", "bank_transfer": "BankTransfer", "wallet": "Wallet", "other": "Other"},
        "payment": "Payment",
    },
    "upstream": {
        "status": {
            "draft": "DRAFT",
            "finalized": "FINALIZED",
            "uncollectible": "UNCOLLECTIBLE",
            "void": "VOID",
        },
        "payment_status": {
            "unpaid": "UNPAID",
            "partially_paid": "PARTIALLY_PAID",
            "paid": "PAID",
            "errored": "ERRORED",
            "processing": "PROCESSING",
        },
        "kind": {
            "usage": "RECURRING",
            "usage_consolidated": "RECURRING",
            "scheduled": "RECURRING",
            "one_off": "ONE_OFF",
            "adjustment": "ADJUSTMENT",
            "usage_threshold": "USAGE_THRESHOLD",
        },
        "exemption": {
            "reverse_charge": "REVERSE_CHARGE",
            "tax_exempt": "TAX_EXEMPT",
            "not_registered": "NOT_REGISTERED",
        },
        "transaction": {"settled": "SETTLED", "pending": "PENDING", "failed": "FAILED"},
        "method": {"card": "CARD", "bank_transfer": "BANK_TRANSFER", "wallet": "WALLET", "other": "OTHER"},
        "payment": "PAYMENT",
    },
}


@pytest.fixture(params=["documented", "upstream"])
def view(request, default_world) -> MeteroidView:
    return view_of(default_world, request.param)


def rendered(view: MeteroidView, ordinal: int) -> dict:
    return orjson.loads(view.invoice_bytes(ordinal))


def when(view: MeteroidView, ts: int | None) -> str | None:
    if ts is None:
        return None
    return clock.format_z(ts) if view.dialect.name == "documented" else clock.format_naive(ts)


def test_every_invoice_matches_the_world(view, default_world):
    spell = SPELLING[view.dialect.name]
    seen_exemptions, seen_methods, seen_tiers, seen_coupons = set(), set(), 0, 0
    for ordinal in range(len(default_world)):
        inv = default_world.invoice(ordinal)
        doc = rendered(view, ordinal)
        assert list(doc) == INVOICE_KEYS
        check_item("invoice", doc, view.dialect.name)
        assert uuid_of("inv_", doc["id"]) == inv.id
        assert uuid_of("cus_", doc["customer_id"]) == inv.customer.id
        assert uuid_of("sub_", doc["subscription_id"]) == inv.contract.id
        assert doc["invoice_number"] == inv.number
        assert doc["status"] == spell["status"][inv.status]
        assert doc["payment_status"] == spell["payment_status"][inv.payment_status]
        assert doc["invoice_type"] == spell["kind"][inv.kind]
        assert doc["invoice_date"] == clock.format_date(inv.issued_at)
        if inv.status == "draft":
            assert doc["due_date"] is None and doc["finalized_at"] is None
        else:
            assert doc["due_date"] == clock.format_date(inv.issued_at + inv.net_terms * clock.DAY)
        assert (doc["subtotal"], doc["tax_amount"], doc["total"]) == (inv.subtotal, inv.tax, inv.total)
        assert doc["total"] == inv.subtotal + inv.tax - inv.credits - inv.coupons_total
        assert doc["amount_due"] == inv.total - inv.paid
        assert doc["applied_credits"] == inv.credits
        for key, ts in (
            ("created_at", inv.created_at),
            ("updated_at", inv.updated_at),
            ("finalized_at", inv.finalized_at),
            ("voided_at", inv.voided_at),
            ("marked_as_uncollectible_at", inv.uncollectible_at),
            ("paid_at", inv.paid_at),
        ):
            assert doc[key] == when(view, ts), key
        assert doc["tax_inclusive"] is False
        assert doc["custom_properties"] == dict(inv.custom_fields)

        # lines: decimal strings in major units that multiply out to the integer totals
        assert sum(line["amount_total"] for line in doc["line_items"]) == inv.subtotal
        for line, neutral in zip(doc["line_items"], inv.lines, strict=True):
            assert line["tax_rate"] == inv.tax_rate
            assert line["start_date"] == clock.format_date(neutral.starts_at)
            if neutral.tiers:
                seen_tiers += 1
                assert line["unit_price"] is None
                assert sum(sub["total"] for sub in line["sub_line_items"]) == line["amount_total"]
                for sub in line["sub_line_items"]:
                    assert Fraction(sub["quantity"]) * Fraction(sub["unit_price"]) * 100 == sub["total"]
            else:
                assert line["sub_line_items"] == []
                assert Fraction(line["quantity"]) * Fraction(line["unit_price"]) * 100 == line["amount_total"]

        # tax: one entry, with the exemption of an exempt invoice
        (tax,) = doc["tax_breakdown"]
        assert tax == {
            "taxable_amount": inv.subtotal,
            "tax_amount": inv.tax,
            "tax_rate": inv.tax_rate,
            "name": inv.customer.tax_name,
            "exemption_type": spell["exemption"].get(inv.tax_exemption),
        }
        if inv.tax_exemption:
            seen_exemptions.add(tax["exemption_type"])
            assert inv.tax == 0

        # payments
        assert len(doc["transactions"]) == len(inv.payments)
        for tx, payment in zip(doc["transactions"], inv.payments, strict=True):
            seen_methods.add(tx["payment_method_info"]["payment_method_type"])
            assert uuid_of("pay_", tx["id"]) == payment.id
            assert tx["amount"] == payment.amount and tx["currency"] == inv.currency
            assert tx["status"] == spell["transaction"][payment.status]
            assert tx["payment_type"] == spell["payment"]
            assert tx["processed_at"] == when(view, payment.processed_at)
            if payment.method_id is None:
                assert tx["payment_method_id"] is None
            else:
                assert uuid_of("pm_", tx["payment_method_id"]) == payment.method_id
            assert tx["payment_method_info"] == {
                "payment_method_type": spell["method"][payment.method],
                "card_brand": payment.card_brand,
                "card_last4": payment.card_last4,
                "account_number_hint": payment.account_hint,
            }
            assert (tx["amount_refunded"], tx["amount_reversed"]) == (0, 0)

        # coupons
        assert sum(c["total"] for c in doc["coupons"]) == inv.coupons_total
        for coupon, neutral in zip(doc["coupons"], inv.coupons, strict=True):
            seen_coupons += 1
            assert uuid_of("cou_", coupon["coupon_id"]) == neutral.id and coupon["name"] == neutral.name

        # the customer snapshot
        details = doc["customer_details"]
        assert details["id"] == doc["customer_id"] and details["name"] == inv.customer.name
        assert details["email"] == inv.customer.email and details["alias"] == inv.customer.alias
        assert details["vat_number"] == inv.customer.vat_number
        assert details["snapshot_at"] == when(view, inv.finalized_at or inv.created_at)
        address = details["billing_address"]
        assert address == {k: v for k, v in vars_of(inv.customer.address).items() if v is not None}

    # the default world exercises every variant
    assert seen_exemptions == set(spell["exemption"].values())
    assert seen_methods == set(spell["method"].values())
    assert seen_tiers and seen_coupons


def vars_of(address) -> dict:
    keys = ("line1", "line2", "city", "country", "state", "zip_code")
    return {key: getattr(address, key) for key in keys}


def test_the_pinned_invoice(view, default_world):
    spell = SPELLING[view.dialect.name]
    doc = rendered(view, default_world.invoice_by_id[PINNED_INVOICE])
    assert doc["invoice_type"] == spell["kind"]["one_off"]
    assert doc["payment_status"] == spell["payment_status"]["partially_paid"]
    assert doc["memo"] == "Onboarding workshop, two days on site"
    assert doc["purchase_order"] == "PO-ACME-2026-17"
    assert doc["subscription_id"] == to_base62_id("sub_", "3d8e1f20-5b6c-4d7e-9f80-a1b2c3d4e5f6")
    assert doc["customer_id"] == "cus_2a6EvQXm7OKtEaiWMqfrzg"  # the reference's base62 rendering
    lines = [
        (line["name"], line["quantity"], line["unit_price"], line["amount_total"])
        for line in doc["line_items"]
    ]
    assert lines == [
        ("Onboarding workshop", "2", "1500", 300_000),
        ("Travel", "1", "412.5", 41_250),
        ("Extra seats", "0", "49", 0),
    ]
    assert doc["subtotal"] == 341_250
    assert 0 < doc["amount_due"] < doc["total"]
    assert doc["invoice_date"] == "2026-10-01"
    assert {(line["start_date"], line["end_date"]) for line in doc["line_items"]} == {
        ("2026-09-01", "2026-10-01")
    }
    assert doc["customer_details"]["billing_address"] == {
        "line1": "1 Market Street",
        "city": "San Francisco",
        "country": "US",
        "state": "CA",
        "zip_code": "94105",
    }


def test_datetimes_by_dialect(default_world):
    ordinal = default_world.invoice_by_id[PINNED_INVOICE]
    documented = rendered(view_of(default_world, "documented"), ordinal)
    upstream = rendered(view_of(default_world, "upstream"), ordinal)
    assert documented["created_at"].endswith("Z")
    assert documented["created_at"] == upstream["created_at"] + "Z"
    assert documented["finalized_at"] == upstream["finalized_at"] + "Z"
    assert documented["invoice_date"] == upstream["invoice_date"]


def test_the_sdk_decodes_every_invoice_and_customer_in_both_dialects(view, default_world):
    body = orjson.loads(
        view.invoice_page(
            Plan(default_world, InvoiceQuery(order="created_at")), Paging(0, len(default_world))
        )
    )
    decoded = sdk.InvoiceListResponse.from_dict(body)
    assert len(decoded.data) == len(default_world)
    assert all(invoice.tax_inclusive is False for invoice in decoded.data)
    for ordinal in range(len(default_world.customers)):
        customer = sdk.Customer.from_dict(orjson.loads(view.customer_bytes(ordinal)))
        assert customer.name == default_world.customers[ordinal].name


def test_customer_document(view, default_world):
    globex = default_world.customer_by_id["1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"]
    doc = orjson.loads(view.customer_bytes(globex))
    check_item("customer", doc, view.dialect.name)
    assert doc == {
        "id": to_base62_id("cus_", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
        "name": "Globex Europe GmbH",
        "alias": "globex",
        "billing_email": default_world.customers[globex].email,
        "invoicing_emails": [],
        "phone": default_world.customers[globex].phone,
        "billing_address": {
            "line1": "Friedrichstraße 68",
            "city": "Berlin",
            "country": "DE",
            "zip_code": "10117",
        },
        "shipping_address": {"same_as_billing": True},
        "currency": "EUR",
        "invoicing_entity_id": doc["invoicing_entity_id"],
        "connected_account_id": None,
        "vat_number": "DE811907980",
        "custom_taxes": [],
        "custom_properties": dict(default_world.customers[globex].custom_fields),
        "preferred_locales": [],
        **(
            dict.fromkeys(
                (
                    "customer_type",
                    "first_name",
                    "last_name",
                    "legal_number",
                    "buyer_reference",
                    "invoicing_language",
                )
            )
            if view.dialect.name == "upstream"
            else {}
        ),
    }
    assert doc["invoicing_entity_id"].startswith("ive_")


def test_same_fixture_same_bytes(default_world):
    again = World.from_fixture(load_fixture(None))
    for name in ("documented", "upstream"):
        first, second = view_of(default_world, name), view_of(again, name)
        query, paging = InvoiceQuery(order="number"), Paging(0, 100)
        assert first.invoice_page(Plan(default_world, query), paging) == second.invoice_page(
            Plan(again, query), paging
        )
        assert first.customer_bytes(3) == second.customer_bytes(3)


def test_list_envelope_is_the_items_bytes_joined(view, default_world):
    body = view.invoice_page(Plan(default_world, InvoiceQuery(order="total", descending=True)), Paging(1, 3))
    parsed = orjson.loads(body)
    check_list("invoice", parsed, view.dialect.name)
    assert [orjson.dumps(item) for item in parsed["data"]] == [
        view.invoice_bytes(i)
        for i in (default_world.invoice_by_id[uuid_of("inv_", d["id"])] for d in parsed["data"])
    ]


def test_nested_objects_keep_upstreams_key_order(view, default_world):
    orders = {
        "line_items": [
            "name",
            "description",
            "quantity",
            "unit_price",
            "amount_total",
            "start_date",
            "end_date",
            "tax_rate",
            "sub_line_items",
        ],
        "sub_line_items": ["id", "name", "total", "quantity", "unit_price"],
        "tax_breakdown": ["taxable_amount", "tax_amount", "tax_rate", "name", "exemption_type"],
        "transactions": [
            "id",
            "provider_transaction_id",
            "payment_method_id",
            "amount",
            "currency",
            "error",
            "status",
            "payment_type",
            "processed_at",
            "payment_method_info",
            "amount_refunded",
            "amount_reversed",
        ],
        "payment_method_info": ["payment_method_type", "card_brand", "card_last4", "account_number_hint"],
        "coupons": ["coupon_id", "name", "total"],
        "customer_details": ["id", "name", "email", "alias", "vat_number", "billing_address", "snapshot_at"],
        "billing_address": ["line1", "line2", "city", "country", "state", "zip_code"],
    }
    seen = set()

    def visit(key: str, value) -> None:
        if isinstance(value, list):
            for item in value:
                visit(key, item)
        elif isinstance(value, dict):
            if key in orders:
                seen.add(key)
                expected = [k for k in orders[key] if k in value]
                assert list(value) == expected, key
            for child, item in value.items():
                visit(child, item)

    for ordinal in range(0, len(default_world), 3):
        visit("invoice", rendered(view, ordinal))
    assert seen == set(orders)


async def test_a_cached_page_is_the_page(aiohttp_client, default_world):
    client = await aiohttp_client(build_app(default_world, Settings(dialect="upstream")))
    target = "/api/v1/invoices?per_page=3&statuses=VOID&order_by=amount.asc"
    first = await (await client.get(target, headers=AUTH)).read()
    second = await (await client.get(target, headers=AUTH)).read()
    view = view_of(default_world, "upstream")
    query = InvoiceQuery(statuses=frozenset({3}), order="total")
    assert first == second == view.invoice_page(Plan(default_world, query), Paging(0, 3))
    # the same text, another question: an alias with an ampersand is not two parameters
    other = await client.get("/api/v1/invoices?customer_id=a%26statuses%3DVOID", headers=AUTH)
    assert (await other.json())["pagination_meta"]["total_items"] == 0
