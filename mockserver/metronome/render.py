"""Invoices and customers in Metronome's wire format, encoded once and kept as bytes.

Only fields of the upstream schema are emitted. A list response is the envelope joined around
pre-encoded items: a page of consecutive invoices costs a slice of a block of them, any other
page a lookup per item and one join.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

from mockserver.metronome.catalog import (
    APPLIED_LINE_TYPE,
    BILLABLE,
    COMMIT_TYPE,
    LINE_TYPE,
    PRODUCT_TYPE,
    STATUS_NAME,
    TYPE_NAME,
    UNBILLABLE,
    CreditTypes,
)
from mockserver.shell.jsonbytes import Run, dumps_kept, wrapped_join
from mockserver.world import clock
from mockserver.world.model import Customer, Invoice, Line
from mockserver.world.scope import Scope
from mockserver.world.state import World

CACHE_SIZE = 65_536
# Runs of BLOCK consecutive invoices of a scope, kept back to back: a page of consecutive
# positions is a slice or two of them. A block costs no more to build than the invoices a page
# renders anyway, and BLOCKS of them hold about as many invoices as each item cache.
BLOCK = 32
BLOCKS = CACHE_SIZE // BLOCK

_DATA_OPEN = b'{"data":'
_LIST_OPEN = b'{"data":['
_LAST_PAGE = b'],"next_page":null}'


def number(text: str | int) -> int | float:
    """A decimal string as a JSON number: integral values stay integers."""
    value = Fraction(text)
    return value.numerator if value.denominator == 1 else float(value)


def is_zero(text: str) -> bool:
    return Fraction(text) == 0


def _list_tail(next_page: str | None) -> bytes:
    """What follows a list's items; a cursor needs no JSON escaping."""
    return _LAST_PAGE if next_page is None else b'],"next_page":"' + next_page.encode() + b'"}'


def list_body(items: list[bytes], next_page: str | None) -> bytes:
    """The list envelope around pre-encoded items (used up)."""
    return wrapped_join(_LIST_OPEN, items, _list_tail(next_page))


def item_body(item: bytes) -> bytes:
    return _DATA_OPEN + item + b"}"


class Renderer:
    def __init__(self, world: World, credit_types: CreditTypes) -> None:
        self.world = world
        self.credit_types = credit_types
        # One cache per variant, keyed by the ordinal alone: a page looks up 25 of them.
        self._whole = lru_cache(maxsize=CACHE_SIZE)(self._whole_bytes)
        self._skipping = lru_cache(maxsize=CACHE_SIZE)(self._skipping_bytes)
        self._customer = lru_cache(maxsize=CACHE_SIZE)(self._customer_bytes)
        self._block = lru_cache(maxsize=BLOCKS)(self._build_block)

    # invoices

    def items(self, ordinals: Sequence[int], skip_zero: bool) -> list[bytes]:
        """The invoices' bytes, with or without zero-quantity line items. Cached by token: an
        invoice gets a new one whenever a change writes it."""
        return list(
            map(self._skipping if skip_zero else self._whole, map(self.world.tokens.__getitem__, ordinals))
        )

    def invoice_bytes(self, ordinal: int, skip_zero: bool) -> bytes:
        return self.items((ordinal,), skip_zero)[0]

    def span_body(
        self, scope: Scope, span: tuple[int, int], skip_zero: bool, descending: bool, next_page: str | None
    ) -> bytes:
        """The list response of the scope's positions [first, end) (not empty), in the query's
        direction, sliced from blocks of consecutive invoices (counted in that direction)."""
        first, end = span
        if descending:
            size = len(scope.members)
            first, end = size - end, size - first
        block, last = first // BLOCK, (end - 1) // BLOCK
        base = block * BLOCK
        if block == last:  # the usual case: one slice
            run = self._block(scope, skip_zero, descending, block)
            return b"".join((_LIST_OPEN, run.slice(first - base, end - base), _list_tail(next_page)))
        parts = [_LIST_OPEN, self._block(scope, skip_zero, descending, block).slice(first - base, BLOCK)]
        for later in range(block + 1, last + 1):  # every block before the last one is full
            run = self._block(scope, skip_zero, descending, later)
            parts += (b",", run.slice(0, min(end - later * BLOCK, BLOCK)))
        parts.append(_list_tail(next_page))
        return b"".join(parts)

    def _build_block(self, scope: Scope, skip_zero: bool, descending: bool, block: int) -> Run:
        members = scope.members
        if descending:
            stop = len(members) - block * BLOCK
            ordinals = members[max(stop - BLOCK, 0) : stop][::-1]
        else:
            ordinals = members[block * BLOCK : (block + 1) * BLOCK]
        return Run(self.items(ordinals, skip_zero))

    def _whole_bytes(self, token: int) -> bytes:
        return dumps_kept(self.invoice(self.world.invoice(self.world.ordinal_of(token))))

    def _skipping_bytes(self, token: int) -> bytes:
        invoice = self.world.invoice(self.world.ordinal_of(token))
        if not any(is_zero(line.quantity) for line in invoice.lines):
            return self._whole(token)
        return dumps_kept(self.invoice(invoice, skip_zero=True))

    def invoice(self, invoice: Invoice, skip_zero: bool = False) -> dict[str, Any]:
        credit_type = self.credit_types.by_code[self.world.cols.currency[invoice.ordinal]]
        customer, contract = invoice.customer, invoice.contract
        line_items = [
            self.line(line, credit_type, contract.id if contract else None)
            for line in invoice.lines
            if not (skip_zero and is_zero(line.quantity))
        ]
        adjustments = []
        for applied in invoice.credit_applications:
            line_items.append(
                {
                    "credit_type": credit_type,
                    "name": applied.name,
                    "type": APPLIED_LINE_TYPE,
                    "total": -applied.amount,
                    "applied_commit_or_credit": {"id": applied.grant_id, "type": applied.kind},
                    "commit_id": applied.grant_id,
                    "commit_type": COMMIT_TYPE[applied.kind],
                    "starting_at": clock.format_z(invoice.period_start),
                    "ending_before": clock.format_z(invoice.period_end),
                }
            )
            adjustments.append(
                {
                    "credit_type": credit_type,
                    "name": applied.name,
                    "total": -applied.amount,
                    "credit_grant_id": applied.grant_id,
                }
            )
        for coupon in invoice.coupons:
            adjustments.append({"credit_type": credit_type, "name": coupon.name, "total": -coupon.amount})

        body: dict[str, Any] = {
            "id": invoice.id,
            "customer_id": customer.id,
            "type": TYPE_NAME[invoice.kind],
            "status": STATUS_NAME[invoice.status],
            "credit_type": credit_type,
            "start_timestamp": clock.format_z(invoice.period_start),
            "end_timestamp": clock.format_z(invoice.period_end),
            "issued_at": clock.format_z(invoice.issued_at),
        }
        if contract is not None:
            body["contract_id"] = contract.id
        body["line_items"] = line_items
        body["subtotal"] = invoice.subtotal
        body["total"] = invoice.total
        body["net_payment_terms_days"] = invoice.net_terms
        body["billable_status"] = BILLABLE
        if adjustments:
            body["invoice_adjustments"] = adjustments
        if invoice.regenerated_from is not None:
            body["regenerated_from_invoice_id"] = invoice.regenerated_from
        if invoice.constituents:
            body["constituent_invoices"] = [
                {"contract_id": contract_id, "customer_id": customer_id, "invoice_id": invoice_id}
                for contract_id, customer_id, invoice_id in invoice.constituents
            ]
        if invoice.external is not None:
            body["external_invoice"] = self.external(invoice)
        body["custom_fields"] = dict(invoice.custom_fields)
        body["customer_custom_fields"] = dict(customer.custom_fields)
        if contract is not None:
            body["contract_custom_fields"] = dict(contract.custom_fields)
        return body

    @staticmethod
    def line(line: Line, credit_type: dict[str, str], contract_id: str | None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "credit_type": credit_type,
            "name": line.name,
            "type": LINE_TYPE[line.kind],
            "total": line.total,
            "quantity": number(line.quantity),
        }
        if line.unit_price is not None:
            item["unit_price"] = number(line.unit_price)
        item["starting_at"] = clock.format_z(line.starts_at)
        item["ending_before"] = clock.format_z(line.ends_at)
        item["product_id"] = line.product_id
        item["product_type"] = PRODUCT_TYPE[line.kind]
        if line.tiers:
            item["sub_line_items"] = [
                {
                    "name": line.name,
                    "quantity": number(line.quantity),
                    "subtotal": line.total,
                    "custom_fields": {},
                    "start_date": clock.format_z(line.starts_at),
                    "end_date": clock.format_z(line.ends_at),
                    "tiers": [
                        {
                            "starting_at": number(tier.starting_at),
                            "quantity": number(tier.quantity),
                            "price": number(tier.price),
                            "subtotal": tier.subtotal,
                        }
                        for tier in line.tiers
                    ],
                }
            ]
        return item

    @staticmethod
    def external(invoice: Invoice) -> dict[str, Any]:
        external = invoice.external
        assert external is not None
        body: dict[str, Any] = {
            "billing_provider_type": external.provider,
            "external_status": external.status,
            "invoice_id": external.invoice_id,
        }
        if external.issued_at is not None:
            body["issued_at_timestamp"] = clock.format_z(external.issued_at)
        if external.payment_id is not None:
            body["external_payment_id"] = external.payment_id
        body["invoiced_sub_total"] = invoice.subtotal
        body["invoiced_total"] = invoice.total
        body["tax"] = {
            "total_tax_amount": invoice.tax,
            "total_taxable_amount": 0 if invoice.tax_exemption else invoice.subtotal,
        }
        return body

    # customers

    def customer_bytes(self, ordinal: int) -> bytes:
        """Cached by the customer's version: a change to it gives it a new one."""
        return self._customer(ordinal, self.world.customer_version[ordinal])

    def _customer_bytes(self, ordinal: int, version: int) -> bytes:
        return dumps_kept(self.customer(self.world.customers[ordinal]))

    @staticmethod
    def customer(customer: Customer) -> dict[str, Any]:
        config = {}
        if customer.salesforce_account_id is not None:
            config["salesforce_account_id"] = customer.salesforce_account_id
        archived = customer.archived_at
        return {
            "id": customer.id,
            "name": customer.name,
            "external_id": customer.external_id,
            "ingest_aliases": list(customer.aliases),
            "custom_fields": dict(customer.custom_fields),
            "customer_config": config,
            "created_at": clock.format_z(customer.created_at),
            "updated_at": clock.format_z(customer.updated_at),
            "archived_at": None if archived is None else clock.format_z(archived),
            "current_billable_status": {
                "value": BILLABLE if archived is None else UNBILLABLE,
                "effective_at": clock.format_z(customer.created_at if archived is None else archived),
            },
        }
