"""The billing lifecycle: what moving the world's clock forward does to its invoices.

Period ends are met in time order: an open draft is finalized (its whole period priced, its
metered usage included, a payment outcome drawn from the customer's profile as the generator
draws one), and at the end of a contract's current period its next one opens. The next
period's invoice is a draft, or, for a scheduled charge (Metronome's SCHEDULED types), an
invoice issued at once at the start of its period. Payments still processing settle once their
settlement time has passed, and every open draft then shows its month-to-date spend at the new
time, its metered usage included. Every draw comes from a seed of its own (the invoice id, or
the contract and the period), so applying the same advance gives the same world in any process.
"""

from __future__ import annotations

import random
from fractions import Fraction
from heapq import heapify, heappop, heappush

from mockserver.world import clock
from mockserver.world.columns import KIND_CODE, PAYMENT_CODE, STATUS_CODE
from mockserver.world.draws import COUPON_PERCENTS, base_amount, draw_payment, month_to_date, priced, weighted
from mockserver.world.ids import derive_int, derive_uuid
from mockserver.world.invoice_body import Amounts
from mockserver.world.state import Changing, World

# What `advance` counts, as the control plane reports it.
COUNTS = ("finalized", "opened", "issued", "settled", "drafts_updated")
SETTLEMENT = (3_600, 5 * clock.DAY)  # a processing payment settles this long after issue, at most
# Charges Metronome calls SCHEDULED: billed for a period at its start, not run up through it.
SCHEDULED_KINDS = frozenset(KIND_CODE[kind] for kind in ("scheduled", "one_off", "adjustment"))


def advance(world: World, to: int) -> dict[str, int]:
    """Run the lifecycle from the world's clock up to `to` (later than it); counts of what changed."""
    counts = dict.fromkeys(COUNTS, 0)
    cols, periods = world.cols, world.periods
    with world.changing(to) as change:
        current = set(periods.values())
        due = [(cols.period_end[o], o) for o in world.drafts | current if cols.period_end[o] <= to]
        heapify(due)
        while due:
            _, ordinal = heappop(due)
            if cols.status[ordinal] == STATUS_CODE["draft"]:
                _finalize(world, change, ordinal, cols.issued_at[ordinal])
                counts["finalized"] += 1
            if ordinal not in current:
                continue
            current.discard(ordinal)
            opened = _open_next(world, change, ordinal, to)
            if opened is None:
                del periods[cols.contract[ordinal]]
                continue
            periods[cols.contract[ordinal]] = opened
            current.add(opened)
            counts["opened"] += 1
            if cols.kind[opened] in SCHEDULED_KINDS:
                _finalize(world, change, opened, cols.period_start[opened])
                counts["issued"] += 1
            if cols.period_end[opened] <= to:
                heappush(due, (cols.period_end[opened], opened))
        for ordinal in sorted(world.processing):
            if cols.issued_at[ordinal] + _settlement_delay(world, ordinal) <= to:
                change.set(ordinal, payment_status=PAYMENT_CODE["paid"], paid=cols.total(ordinal))
                counts["settled"] += 1
        for ordinal in sorted(world.drafts):
            if repriced(world, change, ordinal, to):
                counts["drafts_updated"] += 1
    world.now = to
    return counts


def _priced_by_period(world: World, ordinal: int) -> bool:
    """Generated invoices are priced from their period's draws; the fixture's keep its amounts."""
    return world.cols.coupon_pct[ordinal] >= 0 and ordinal not in world.pinned


def _amounts(world: World, ordinal: int, subtotal: int) -> Amounts:
    cols = world.cols
    customer = world.customers[cols.customer[ordinal]]
    tax, coupons, credits = priced(
        subtotal,
        Fraction(customer.tax_rate),
        bool(cols.tax_exempt[ordinal]),
        cols.coupon_pct[ordinal],
        cols.credit_grant[ordinal],
    )
    return Amounts(subtotal, tax, credits, coupons)


def draft_amounts(world: World, ordinal: int, now: int, usage: dict | None = None) -> Amounts:
    """A draft priced at `now`: its period's spend so far plus its metered usage (`usage`:
    other than its own, for a preview)."""
    cols = world.cols
    spent = month_to_date(cols.planned[ordinal], cols.period_start[ordinal], cols.period_end[ordinal], now)
    return _amounts(world, ordinal, spent + world.metered_total(ordinal, usage))


def _finalize(world: World, change: Changing, ordinal: int, issued_at: int) -> None:
    """Issue an invoice at `issued_at`, priced for its whole period, with a payment outcome."""
    cols = world.cols
    amounts = (
        _amounts(world, ordinal, cols.planned[ordinal] + world.metered_total(ordinal))._asdict()
        if _priced_by_period(world, ordinal)
        else {"subtotal": cols.subtotal[ordinal]}
    )
    change.set(ordinal, status=STATUS_CODE["finalized"], issued_at=issued_at, **amounts)
    customer = world.customers[cols.customer[ordinal]]
    rng = random.Random(derive_int(world.seed, "finalize", cols.ids[ordinal]))
    payment, paid = draw_payment(rng, customer.profile, "finalized", cols.total(ordinal), None)
    change.set(ordinal, payment_status=PAYMENT_CODE[payment], paid=paid)


def _open_next(world: World, change: Changing, ordinal: int, now: int) -> int | None:
    """The invoice of the period after `ordinal`'s, for its contract, unless the contract or
    the customer has ended by then."""
    cols = world.cols
    if cols.contract[ordinal] < 0:
        return None
    contract = world.contracts[cols.contract[ordinal]]
    customer = world.customers[contract.customer]
    start = cols.period_end[ordinal]
    if any(end is not None and start >= end for end in (contract.ends_at, customer.archived_at)):
        return None
    invoice_id = derive_uuid(world.seed, "invoice", contract.id, start)
    end = clock.add_months(start, 1)
    profile = customer.profile
    rng = random.Random(derive_int(world.seed, "period", invoice_id))
    kind = weighted(rng, profile.type_mix)
    planned = base_amount(rng, kind)
    exempt = rng.random() < profile.tax_exempt_share
    pct = rng.choice(COUPON_PERCENTS) if rng.random() < profile.coupons_share else 0
    grant = rng.randrange(1_000, 50_000) if rng.random() < profile.credits_share else 0
    created = min(start + rng.randrange(0, 3_600), now)
    opened = change.add(
        invoice_id,
        customer=customer.ordinal,
        contract=contract.ordinal,
        seq=len(world.by_customer[customer.ordinal]),
        status=STATUS_CODE["draft"],
        kind=KIND_CODE[kind],
        currency=world.currencies.index(customer.currency),
        period_start=start,
        period_end=end,
        issued_at=end,
        created_at=created,
        subtotal=0,
        tax=0,
        credits=0,
        coupons=0,
        paid=0,
        payment_status=PAYMENT_CODE["unpaid"],
        tax_exempt=exempt,
        planned=planned,
        coupon_pct=pct,
        credit_grant=grant,
    )
    repriced(world, change, opened, now)
    return opened


def repriced(world: World, change: Changing, ordinal: int, now: int) -> bool:
    """Show a draft's month-to-date spend and metered usage at `now`; whether anything changed."""
    if not _priced_by_period(world, ordinal):
        return False
    cols = world.cols
    amounts = draft_amounts(world, ordinal, now)._asdict()
    if all(getattr(cols, name)[ordinal] == value for name, value in amounts.items()):
        return False
    change.set(ordinal, **amounts)
    return True


def _settlement_delay(world: World, ordinal: int) -> int:
    low, high = SETTLEMENT
    return low + derive_int(world.seed, "settle", world.cols.ids[ordinal]) % (high - low)
