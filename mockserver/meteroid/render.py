"""Neutral entities as Meteroid-style JSON documents, keys in the order upstream writes them.

Amounts stay integers in minor units; quantities, prices and rates are decimal strings, prices
in major units. Optional values are written as null, except in addresses, whose null keys
are left out. The fields the official SDK requires beyond upstream's document are added:
invoice `tax_inclusive` and `custom_properties`, transaction `amount_refunded` and
`amount_reversed`, customer `custom_properties` and `preferred_locales`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import orjson

from mockserver.meteroid.dialect import Dialect
from mockserver.shell.jsonbytes import wrapped_join
from mockserver.world import clock
from mockserver.world.ids import derive_uuid, to_base62_id
from mockserver.world.model import Customer, Invoice, Line, Payment
from mockserver.world.money import decimal_text
from mockserver.world.spec import PAYMENT_STATUSES, STATUSES, Address

ADDRESS_KEYS = ("line1", "line2", "city", "country", "state", "zip_code")
_STATUS_CODE = {name: code for code, name in enumerate(STATUSES)}
_PAYMENT_CODE = {name: code for code, name in enumerate(PAYMENT_STATUSES)}


def major(minor_units: str) -> str:
    """A price in minor units (an exact decimal string) as an exact decimal string in major units."""
    return decimal_text(Fraction(minor_units) / 100)


def address(value: Address | None) -> dict[str, str] | None:
    if value is None:
        return None
    doc = {key: text for key in ADDRESS_KEYS if (text := getattr(value, key)) is not None}
    return doc or None


def _sub_line_items(seed: int, line: Line) -> list[dict[str, Any]]:
    return [
        {
            "id": derive_uuid(seed, "meteroid", "tier", line.id, tier.level),
            "name": f"Tier {tier.level}",
            "total": tier.subtotal,
            "quantity": tier.quantity,
            "unit_price": major(tier.price),
        }
        for tier in line.tiers
    ]


def _line_item(seed: int, line: Line, tax_rate: str) -> dict[str, Any]:
    return {
        "name": line.name,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": None if line.unit_price is None else major(line.unit_price),
        "amount_total": line.total,
        "start_date": clock.format_date(line.starts_at),
        "end_date": clock.format_date(line.ends_at),
        "tax_rate": tax_rate,
        "sub_line_items": _sub_line_items(seed, line),
    }


def _transaction(payment: Payment, currency: str, dialect: Dialect) -> dict[str, Any]:
    return {
        "id": to_base62_id("pay_", payment.id),
        "provider_transaction_id": payment.provider_transaction_id,
        "payment_method_id": None if payment.method_id is None else to_base62_id("pm_", payment.method_id),
        "amount": payment.amount,
        "currency": currency,
        "error": payment.error,
        "status": dialect.transaction_status[payment.status],
        "payment_type": dialect.payment_type,
        "processed_at": dialect.maybe_datetime(payment.processed_at),
        "payment_method_info": {
            "payment_method_type": dialect.payment_method[payment.method],
            "card_brand": payment.card_brand,
            "card_last4": payment.card_last4,
            "account_number_hint": payment.account_hint,
        },
        "amount_refunded": 0,
        "amount_reversed": 0,
    }


def invoice(
    seed: int,
    inv: Invoice,
    dialect: Dialect,
    customer_id: str,
    subscription_id: str | None,
) -> dict[str, Any]:
    moment, maybe = dialect.datetime, dialect.maybe_datetime
    customer = inv.customer
    due_at = inv.due_at
    return {
        "id": to_base62_id("inv_", inv.id),
        "invoice_number": inv.number,
        "status": dialect.status[_STATUS_CODE[inv.status]],
        "customer_id": customer_id,
        "subscription_id": subscription_id,
        "currency": inv.currency,
        "invoice_date": clock.format_date(inv.issued_at),
        "due_date": None if due_at is None else clock.format_date(due_at),
        "subtotal": inv.subtotal,
        "subtotal_recurring": inv.subtotal_recurring,
        "tax_amount": inv.tax,
        "total": inv.total,
        "amount_due": inv.amount_due,
        "memo": inv.memo,
        "line_items": [_line_item(seed, line, inv.tax_rate) for line in inv.lines],
        "paid_at": maybe(inv.paid_at),
        "tax_breakdown": [
            {
                "taxable_amount": inv.subtotal,
                "tax_amount": inv.tax,
                "tax_rate": inv.tax_rate,
                "name": inv.tax_name,
                "exemption_type": None if inv.tax_exemption is None else dialect.exemption[inv.tax_exemption],
            }
        ],
        "transactions": [_transaction(p, inv.currency, dialect) for p in inv.payments],
        "payment_status": dialect.payment_status[_PAYMENT_CODE[inv.payment_status]],
        "customer_details": {
            "id": customer_id,
            "name": customer.name,
            "email": customer.email,
            "alias": customer.alias,
            "vat_number": customer.vat_number,
            "billing_address": address(customer.address),
            "snapshot_at": moment(inv.finalized_at or inv.created_at),
        },
        "applied_credits": inv.credits,
        "coupons": [
            {"coupon_id": to_base62_id("cou_", c.id), "name": c.name, "total": c.amount} for c in inv.coupons
        ],
        "invoice_type": dialect.invoice_type[inv.kind],
        "net_terms": inv.net_terms,
        "reference": inv.reference,
        "purchase_order": inv.purchase_order,
        "created_at": moment(inv.created_at),
        "updated_at": maybe(inv.updated_at),
        "finalized_at": maybe(inv.finalized_at),
        "voided_at": maybe(inv.voided_at),
        "marked_as_uncollectible_at": maybe(inv.uncollectible_at),
        "tax_inclusive": False,
        "custom_properties": dict(inv.custom_fields),
    }


def customer(value: Customer, customer_id: str, invoicing_entity_id: str, sdk_fields: bool) -> dict[str, Any]:
    """The upstream document's `Customer`, and with `sdk_fields` the SDK's too (the upstream
    spelling's): what a write sent comes back as it was sent, where the spelling has it."""
    shipping = value.shipping
    doc: dict[str, Any] = {
        "id": customer_id,
        "name": value.name,
        "alias": value.alias,
        "billing_email": value.email,
        "invoicing_emails": list(value.invoicing_emails),
        "phone": value.phone,
        "billing_address": address(value.address),
        "shipping_address": None
        if shipping is None
        else {"same_as_billing": shipping.same_as_billing}
        | ({} if shipping.address is None else {"address": address(shipping.address)}),
        "currency": value.currency,
        "invoicing_entity_id": value.invoicing_entity or invoicing_entity_id,
        "connected_account_id": value.connected_account,
        "vat_number": value.vat_number,
        "custom_taxes": [{"name": t.name, "rate": t.rate, "tax_code": t.code} for t in value.custom_taxes],
        "custom_properties": dict(value.custom_fields),
        "preferred_locales": list(value.locales),
    }
    if sdk_fields:
        doc.update(
            customer_type=None if value.kind is None else value.kind.upper(),
            first_name=value.first_name,
            last_name=value.last_name,
            legal_number=value.legal_number,
            buyer_reference=value.buyer_reference,
            invoicing_language=value.locales[0] if value.locales else None,
        )
    return doc


def list_body(items: list[bytes], meta: dict[str, int]) -> bytes:
    """`{"data": [...], "pagination_meta": {...}}` around items already encoded."""
    return wrapped_join(b'{"data":[', items, b'],"pagination_meta":' + orjson.dumps(meta) + b"}")
