"""What a list request should return, by brute force over a world's materialized invoices.

Written from `shared/reference/` alone: plain comprehensions over `world.invoice(i)`, plain
sort keys, nothing from the query engine or the facades' parameter parsing. The only shared
pieces are identities the wire format itself is made of: the per-currency credit type id and
the base62 rendering of ids.
"""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from mockserver.metronome.catalog import credit_type_id
from mockserver.world.ids import from_base62_id, to_base62_id
from mockserver.world.model import Customer, Invoice
from mockserver.world.state import World

# --- Metronome ----------------------------------------------------------------------------------

# Wire value -> the world's statuses and kinds it covers.
METRONOME_STATUS = {
    "DRAFT": frozenset({"draft"}),
    "FINALIZED": frozenset({"finalized", "uncollectible"}),
    "VOID": frozenset({"void"}),
}
METRONOME_TYPE = {
    "USAGE": frozenset({"usage", "usage_threshold"}),
    "USAGE_CONSOLIDATED": frozenset({"usage_consolidated"}),
    "SCHEDULED": frozenset({"scheduled", "one_off", "adjustment"}),
}
METRONOME_DEFAULT_LIMIT = 25


@dataclass(frozen=True)
class MetronomeFilters:
    """A list request's filters as meant, whatever spelling carried them."""

    status: str | None = None
    type: str | None = None
    credit_type_id: str | None = None
    contract_id: str | None = None
    starting_on: Fraction | None = None  # an exact instant, epoch seconds
    ending_before: Fraction | None = None
    sort: str | None = None  # None: the fixture's default sort


def metronome_keeps(invoice: Invoice, want: MetronomeFilters) -> bool:
    return (
        (want.status is None or invoice.status in METRONOME_STATUS[want.status])
        and (want.type is None or invoice.kind in METRONOME_TYPE[want.type])
        and (want.credit_type_id is None or credit_type_id(invoice.currency) == want.credit_type_id)
        and (
            want.contract_id is None
            or (invoice.contract is not None and invoice.contract.id == want.contract_id)
        )
        # decision 2: starting_on keeps period_start >= value, ending_before keeps period_end <= value
        and (want.starting_on is None or invoice.period_start >= want.starting_on)
        and (want.ending_before is None or invoice.period_end <= want.ending_before)
    )


def metronome_invoices(
    world: World, customer_id: str, want: MetronomeFilters, default_sort: str
) -> list[str]:
    """Ids of the customer's matching invoices: by issued_at, ties by id (decision 1); without
    `sort`, in the fixture's default order."""
    sort = want.sort or default_sort
    found = [
        invoice
        for invoice in invoices(world)
        if invoice.customer.id == customer_id and metronome_keeps(invoice, want)
    ]
    found.sort(key=lambda invoice: (invoice.issued_at, invoice.id), reverse=sort == "date_desc")
    return [invoice.id for invoice in found]


def metronome_pages(count: int, limit: int) -> int:
    """How many pages a walk takes: the last one may be short, and there is always a first."""
    return max(1, -(-count // limit))


# --- Meteroid -----------------------------------------------------------------------------------

# The status spellings of each dialect (reference, "Enum spelling") -> the world's status.
METEROID_STATUS = {
    "documented": {
        "Draft": "draft",
        "Finalized": "finalized",
        "Uncollectible": "uncollectible",
        "Void": "void",
    },
    "upstream": {
        "DRAFT": "draft",
        "FINALIZED": "finalized",
        "UNCOLLECTIBLE": "uncollectible",
        "VOID": "void",
    },
}
# Enum columns sort in the order the reference lists their values.
STATUS_ORDER = ("draft", "finalized", "uncollectible", "void")
PAYMENT_STATUS_ORDER = ("unpaid", "partially_paid", "paid", "errored", "processing")
# The Metronome invoice list's documented query parameters.
METRONOME_LIST_PARAMS = (
    "limit",
    "next_page",
    "status",
    "type",
    "sort",
    "credit_type_id",
    "contract_id",
    "starting_on",
    "ending_before",
    "skip_zero_qty_line_items",
    "include_historical_commit_invoices",
    "webhook_notification_id",
)
METEROID_COLUMNS = (
    "created_at",
    "invoice_number",
    "customer_name",
    "amount",
    "invoice_date",
    "status",
    "payment_status",
)
METEROID_DEFAULT_ORDER = "created_at.desc"
METEROID_DEFAULT_PER_PAGE = 10


@dataclass(frozen=True)
class MeteroidFilters:
    """A list request's parameters as sent."""

    customer_id: str | None = None
    subscription_id: str | None = None
    statuses: tuple[str, ...] = ()
    order_by: str | None = None


def meteroid_customer(world: World, value: str) -> Customer | None:
    """An id when it starts with `cus_` and decodes; anything else an alias, matched exactly."""
    if value.startswith("cus_"):
        decoded = from_base62_id("cus_", value)
        if decoded is not None:
            return next((c for c in world.customers if c.id == decoded), None)
    return next((c for c in world.customers if c.aliases and c.aliases[0] == value), None)


def meteroid_subscription(value: str) -> str:
    """The contract UUID a well-formed `subscription_id` names."""
    if value.startswith("sub_"):
        decoded = from_base62_id("sub_", value)
        assert decoded is not None, value
        return decoded
    return str(uuid.UUID(value))


def meteroid_order_value(invoice: Invoice, column: str) -> Any:
    if column == "created_at":
        return invoice.created_at
    if column == "invoice_number":
        return invoice.number
    if column == "customer_name":
        return invoice.customer.name
    if column == "amount":
        return invoice.total
    if column == "invoice_date":
        return datetime.fromtimestamp(invoice.issued_at, UTC).date()
    if column == "status":
        return STATUS_ORDER.index(invoice.status)
    if column == "payment_status":
        return PAYMENT_STATUS_ORDER.index(invoice.payment_status)
    raise AssertionError(column)


def meteroid_invoices(world: World, dialect: str, want: MeteroidFilters) -> list[str]:
    """UUIDs of the matching invoices in the requested order; `id` breaks ties, same direction."""
    customer = contract = None
    if want.customer_id is not None:
        customer = meteroid_customer(world, want.customer_id)
        if customer is None:
            return []
    if want.subscription_id is not None:
        contract = meteroid_subscription(want.subscription_id)
    statuses = {METEROID_STATUS[dialect][name] for name in want.statuses}
    column, _, direction = (want.order_by or METEROID_DEFAULT_ORDER).partition(".")
    found = [
        invoice
        for invoice in invoices(world)
        if (customer is None or invoice.customer.id == customer.id)
        and (contract is None or (invoice.contract is not None and invoice.contract.id == contract))
        and (not statuses or invoice.status in statuses)
    ]
    found.sort(
        key=lambda invoice: (meteroid_order_value(invoice, column), invoice.id), reverse=direction == "desc"
    )
    return [invoice.id for invoice in found]


def meteroid_meta(total: int, page: int, per_page: int) -> dict[str, int]:
    return {"page": page, "per_page": per_page, "total_items": total, "total_pages": -(-total // per_page)}


def meteroid_page_size(total: int, page: int, per_page: int) -> int:
    return max(0, min(per_page, total - page * per_page))


def meteroid_id(prefix: str, uid: str) -> str:
    return to_base62_id(prefix, uid)


# --- the world, materialized ----------------------------------------------------------------------

_MATERIALIZED: weakref.WeakKeyDictionary[World, tuple[Invoice, ...]] = weakref.WeakKeyDictionary()


def invoices(world: World) -> tuple[Invoice, ...]:
    """Every invoice of the world as a neutral model object, built once per world."""
    found = _MATERIALIZED.get(world)
    if found is None:
        found = _MATERIALIZED[world] = tuple(world.invoice(i) for i in range(len(world)))
    return found


def invoice_by_id(world: World, uid: str) -> Invoice:
    return next(invoice for invoice in invoices(world) if invoice.id == uid)


def zero_quantity(invoice: Invoice) -> list[bool]:
    """For each of the invoice's own lines, whether its quantity is zero."""
    return [Fraction(line.quantity) == 0 for line in invoice.lines]
