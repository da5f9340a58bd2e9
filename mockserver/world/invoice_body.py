"""An invoice's full body, rebuilt on demand from its compact row and a seed of its own.

The row fixes every amount (subtotal, tax, credits, coupons, paid); this module only splits them
into lines, applications, coupons and payments that add up exactly, and dresses them with
Faker text. Being a pure function of (seed, row), any process rebuilds the same bytes.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import NamedTuple

from faker import Faker

from mockserver.world import clock
from mockserver.world.columns import InvoiceColumns
from mockserver.world.draws import weighted
from mockserver.world.ids import derive_int, derive_uuid
from mockserver.world.model import (
    Contract,
    Coupon,
    CreditApplication,
    Customer,
    ExternalInvoice,
    Invoice,
    Line,
    Payment,
    Tier,
)
from mockserver.world.money import decimal_text, line_total
from mockserver.world.spec import KINDS, PAYMENT_STATUSES, STATUSES, InvoiceSpec, LineSpec

_PRODUCTS = (
    ("API calls", "Requests to the public API"),
    ("CPU hours", "Compute time across all regions"),
    ("Storage", "GB-months of object storage"),
    ("Data transfer", "GB of egress traffic"),
    ("Seats", "Active user seats"),
    ("Events ingested", "Billable events"),
)
# Quantities whose reciprocal terminates in decimal, so unit price = total / quantity is exact.
_QUANTITIES = (
    1,
    2,
    4,
    5,
    8,
    10,
    16,
    20,
    25,
    32,
    40,
    50,
    64,
    80,
    100,
    125,
    200,
    250,
    400,
    500,
    1000,
)
_EXEMPTIONS = ("reverse_charge", "tax_exempt", "not_registered")
_CARD_BRANDS = ("visa", "mastercard", "amex")
_EXTERNAL_BY_PAYMENT = {
    "paid": "PAID",
    "partially_paid": "PARTIALLY_PAID",
    "errored": "PAYMENT_FAILED",
}


class Amounts(NamedTuple):
    subtotal: int
    tax: int
    credits: int
    coupons: int

    @property
    def total(self) -> int:
        return self.subtotal + self.tax - self.credits - self.coupons


class Written(NamedTuple):
    """What changes wrote to an invoice beyond its columns: its metered usage lines, when it
    was voided and the invoice it was regenerated from."""

    usage: tuple[Line, ...] = ()
    voided_at: int | None = None
    regenerated_from: str | None = None


NOTHING_WRITTEN = Written()


def build_invoice(
    seed: int,
    now: int,
    ordinal: int,
    cols: InvoiceColumns,
    customer: Customer,
    contract: Contract | None,
    currency: str,
    number: str,
    pinned: InvoiceSpec | None,
    faker: Faker,
    written: Written = NOTHING_WRITTEN,
    amounts: Amounts | None = None,
) -> Invoice:
    """`amounts` other than the columns' price a draft as it would be (a preview)."""
    uid = cols.ids[ordinal]
    rng = random.Random(derive_int(seed, "body", uid))
    faker.seed_instance(derive_int(seed, "faker", uid))
    status = STATUSES[cols.status[ordinal]]
    kind = KINDS[cols.kind[ordinal]]
    payment_status = PAYMENT_STATUSES[cols.payment_status[ordinal]]
    start, end = cols.period_start[ordinal], cols.period_end[ordinal]
    issued, created = cols.issued_at[ordinal], cols.created_at[ordinal]
    if amounts is None:
        amounts = Amounts(
            cols.subtotal[ordinal], cols.tax[ordinal], cols.credits[ordinal], cols.coupons[ordinal]
        )
    subtotal, paid = amounts.subtotal, cols.paid[ordinal]
    profile = customer.profile

    if pinned is not None and pinned.line_items is not None:
        lines = _pinned_lines(seed, uid, pinned.line_items, start, end, rng)
    else:
        metered = sum(line.total for line in written.usage)
        lines = _lines(seed, uid, kind, subtotal - metered, start, end, profile.zero_qty_share, rng)
    lines += written.usage
    exempt = bool(cols.tax_exempt[ordinal])
    tax_rate = (pinned.tax_rate if pinned and pinned.tax_rate else None) or (
        "0" if exempt else customer.tax_rate
    )
    exemption = rng.choice(_EXEMPTIONS) if exempt else None

    finalized_at = voided_at = uncollectible_at = paid_at = None
    if status != "draft":
        finalized_at = min(issued + rng.randrange(60, 7_200), now)
    if status == "void":
        voided_at = min(finalized_at + rng.randrange(3_600, 10 * clock.DAY), now)
        voided_at = written.voided_at or voided_at
    if status == "uncollectible":
        uncollectible_at = min(finalized_at + rng.randrange(30, 60) * clock.DAY, now)
    net_terms = pinned.net_terms if pinned and pinned.net_terms is not None else profile.net_terms
    if payment_status == "paid" and finalized_at is not None:
        paid_at = min(finalized_at + rng.randrange(0, max(net_terms, 1) * clock.DAY), now)
    total = amounts.total
    payments = _payments(seed, uid, payment_status, paid, total, finalized_at, paid_at, now, profile, rng)
    updated_at = max(t for t in (created, finalized_at, voided_at, uncollectible_at, paid_at, created) if t)
    if status == "draft":
        updated_at = max(updated_at, min(now, end))

    return Invoice(
        ordinal=ordinal,
        id=uid,
        customer=customer,
        contract=contract,
        number=number,
        status=status,
        kind=kind,
        currency=currency,
        period_start=start,
        period_end=end,
        issued_at=issued,
        created_at=created,
        updated_at=updated_at,
        finalized_at=finalized_at,
        voided_at=voided_at,
        uncollectible_at=uncollectible_at,
        paid_at=paid_at,
        net_terms=net_terms,
        subtotal=subtotal,
        subtotal_recurring=sum(line.total for line in lines if line.recurring),
        tax=amounts.tax,
        tax_rate=tax_rate,
        tax_name=customer.tax_name,
        tax_exemption=exemption,
        credits=amounts.credits,
        coupons_total=amounts.coupons,
        total=total,
        paid=paid,
        payment_status=payment_status,
        lines=lines,
        credit_applications=_credits(seed, uid, amounts.credits, rng),
        coupons=_coupons(seed, uid, amounts.coupons, rng),
        payments=payments,
        external=_external(customer, status, payment_status, issued, finalized_at, payments, pinned, rng),
        constituents=_constituents(seed, uid, kind, customer, contract),
        memo=(pinned.memo if pinned and pinned.memo else None)
        or (faker.sentence() if rng.random() < 0.3 else None),
        purchase_order=(pinned.purchase_order if pinned else None)
        or (f"PO-{rng.randrange(10**5, 10**6)}" if rng.random() < 0.2 else None),
        reference=(pinned.reference if pinned else None)
        or (f"REF-{rng.randrange(10**3, 10**4)}" if rng.random() < 0.2 else None),
        custom_fields=(pinned.custom_fields if pinned and pinned.custom_fields else None) or (),
        regenerated_from=written.regenerated_from,
    )


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    if parts <= 1 or total < parts:
        return [total]
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _lines(
    seed: int,
    uid: str,
    kind: str,
    subtotal: int,
    start: int,
    end: int,
    zero_share: float,
    rng: random.Random,
) -> tuple[Line, ...]:
    def line(index: int, **fields) -> Line:
        product = derive_uuid(seed, "product", fields["name"])
        return Line(
            id=derive_uuid(seed, uid, "line", index),
            product_id=product,
            starts_at=start,
            ends_at=end,
            **fields,
        )

    def zero(index: int, name: str, description: str) -> Line:
        """A product offered but not used this period: the line `skip_zero_qty_line_items` drops."""
        return line(
            index,
            kind="usage",
            name=name,
            description=description,
            quantity="0",
            unit_price="0",
            total=0,
            recurring=False,
        )

    if kind == "scheduled":
        return (
            line(
                0,
                kind="subscription",
                name="Platform subscription",
                description="Monthly plan fee",
                quantity="1",
                unit_price=str(subtotal),
                total=subtotal,
                recurring=True,
            ),
        )
    if kind in ("one_off", "adjustment"):
        name = "One-time services" if kind == "one_off" else "Billing adjustment"
        return (
            line(
                0,
                kind="scheduled",
                name=name,
                description=None,
                quantity="1",
                unit_price=str(subtotal),
                total=subtotal,
                recurring=False,
            ),
        )
    products = rng.sample(_PRODUCTS, rng.randint(1, 4))
    amounts = _split(subtotal, len(products), rng)
    lines = []
    for index, ((name, description), amount) in enumerate(zip(products, amounts, strict=False)):
        if amount == 0:
            lines.append(zero(index, name, description))
        elif amount >= 4 and rng.random() < 0.25:
            lines.append(_tiered(line, index, name, description, amount, rng))
        else:
            quantity = rng.choice(_QUANTITIES)
            lines.append(
                line(
                    index,
                    kind="usage",
                    name=name,
                    description=description,
                    quantity=str(quantity),
                    unit_price=decimal_text(Fraction(amount, quantity)),
                    total=amount,
                    recurring=False,
                )
            )
    unused = [p for p in _PRODUCTS if p not in products]
    for offset, (name, description) in enumerate(unused):
        if rng.random() < zero_share:
            lines.append(zero(len(products) + offset, name, description))
    return tuple(lines)


def _tiered(line, index: int, name: str, description: str, amount: int, rng: random.Random) -> Line:
    first_total = rng.randrange(1, amount)
    first_qty, second_qty = rng.choice(_QUANTITIES), rng.choice(_QUANTITIES)
    tiers = (
        Tier(1, 0, str(first_qty), decimal_text(Fraction(first_total, first_qty)), first_total),
        Tier(
            2,
            first_qty,
            str(second_qty),
            decimal_text(Fraction(amount - first_total, second_qty)),
            amount - first_total,
        ),
    )
    return line(
        index,
        kind="usage",
        name=name,
        description=description,
        quantity=str(first_qty + second_qty),
        unit_price=None,
        total=amount,
        recurring=False,
        tiers=tiers,
    )


def _pinned_lines(
    seed: int, uid: str, specs: tuple[LineSpec, ...], start: int, end: int, rng: random.Random
) -> tuple[Line, ...]:
    return tuple(
        Line(
            id=derive_uuid(seed, uid, "line", index),
            kind="usage",
            name=spec.name,
            description=spec.description,
            product_id=derive_uuid(seed, "product", spec.name),
            quantity=spec.quantity,
            unit_price=decimal_text(Fraction(spec.unit_price) * 100),
            total=line_total(spec.quantity, spec.unit_price),
            starts_at=start,
            ends_at=end,
            recurring=False,
        )
        for index, spec in enumerate(specs)
    )


def _credits(seed: int, uid: str, amount: int, rng: random.Random) -> tuple[CreditApplication, ...]:
    if amount <= 0:
        return ()
    parts = _split(amount, rng.choice((1, 1, 2)), rng)
    # Only credits that reduce what is owed: a postpaid commit's line does not count toward the total.
    kinds = (("PREPAID", "Prepaid commit"), ("CREDIT", "Promotional credit"))
    result = []
    for index, part in enumerate(parts):
        kind, name = rng.choice(kinds)
        result.append(
            CreditApplication(
                id=derive_uuid(seed, uid, "credit", index),
                grant_id=derive_uuid(seed, uid, "grant", index),
                kind=kind,
                name=name,
                amount=part,
            )
        )
    return tuple(result)


def _coupons(seed: int, uid: str, amount: int, rng: random.Random) -> tuple[Coupon, ...]:
    if amount <= 0:
        return ()
    name = rng.choice(("Loyalty discount", "Annual prepay discount", "Startup programme", "Partner discount"))
    return (Coupon(id=derive_uuid(seed, "coupon", name), name=name, amount=amount),)


def _payments(
    seed: int,
    uid: str,
    payment_status: str,
    paid: int,
    total: int,
    finalized_at: int | None,
    paid_at: int | None,
    now: int,
    profile,
    rng: random.Random,
) -> tuple[Payment, ...]:
    if payment_status == "unpaid" or finalized_at is None or total == 0:
        return ()
    method = weighted(rng, profile.payment_methods)
    amount, status, error = {
        "paid": (paid, "settled", None),
        "partially_paid": (paid, "settled", None),
        "errored": (total, "failed", "card_declined: insufficient funds"),
        "processing": (total - paid, "pending", None),
    }[payment_status]
    processed = paid_at or (
        None if status == "pending" else min(finalized_at + rng.randrange(0, 5 * clock.DAY), now)
    )
    card = method == "card"
    return (
        Payment(
            id=derive_uuid(seed, uid, "payment", 0),
            amount=amount,
            status=status,
            method=method,
            method_id=derive_uuid(seed, uid, "method") if method != "other" else None,
            card_brand=rng.choice(_CARD_BRANDS) if card else None,
            card_last4=f"{rng.randrange(10_000):04d}" if card else None,
            account_hint=f"****{rng.randrange(10_000):04d}" if method == "bank_transfer" else None,
            processed_at=processed,
            provider_transaction_id=f"txn_{derive_int(seed, uid, 'txn'):016x}"
            if status != "pending"
            else None,
            error=error,
        ),
    )


def _external(
    customer: Customer,
    status: str,
    payment_status: str,
    issued: int,
    finalized_at: int | None,
    payments: tuple[Payment, ...],
    pinned: InvoiceSpec | None,
    rng: random.Random,
) -> ExternalInvoice | None:
    provider = customer.billing_provider
    if provider is None or status == "draft":
        return None
    if pinned is not None and pinned.external_status is not None:
        external_status = pinned.external_status
    elif status == "void":
        external_status = "VOID"
    elif status == "uncollectible":
        external_status = "UNCOLLECTIBLE"
    else:
        external_status = _EXTERNAL_BY_PAYMENT.get(payment_status) or weighted(rng, provider.statuses)
    return ExternalInvoice(
        provider=provider.type,
        status=external_status,
        invoice_id=f"in_{rng.getrandbits(96):024x}",
        issued_at=finalized_at or issued,
        payment_id=payments[0].provider_transaction_id if payments else None,
    )


def _constituents(
    seed: int, uid: str, kind: str, customer: Customer, contract: Contract | None
) -> tuple[tuple[str, str, str], ...]:
    if kind != "usage_consolidated" or contract is None:
        return ()
    return tuple((contract.id, customer.id, derive_uuid(seed, uid, "constituent", i)) for i in range(2))
