"""The seeded draws and the arithmetic an invoice's amounts and payment come from: shared by
the first world's invoice history and by the billing clock, which prices every period after."""

from __future__ import annotations

import random
from collections.abc import Sequence
from fractions import Fraction

from mockserver.world.money import round_half_up
from mockserver.world.spec import Profile

_SCHEDULED_FEES = (4_900, 9_900, 19_900, 49_900, 99_900, 249_900)
_THRESHOLDS = (10_000, 25_000, 50_000, 100_000)
COUPON_PERCENTS = (5, 10, 15, 20)


def weighted(rng: random.Random, weights: Sequence[tuple[str, float]]) -> str:
    """One draw from (value, weight) pairs; a single uniform draw keeps streams cheap and stable."""
    total = sum(w for _, w in weights)
    point = rng.random() * total
    for value, weight in weights:
        point -= weight
        if point < 0:
            return value
    return weights[-1][0]


def base_amount(rng: random.Random, kind: str) -> int:
    """A whole period's subtotal for an invoice of `kind`, in minor units."""
    if kind == "scheduled":
        return rng.choice(_SCHEDULED_FEES)
    if kind == "usage_threshold":
        return rng.choice(_THRESHOLDS)
    if kind == "adjustment":
        return rng.randrange(500, 20_000)
    if kind == "one_off":
        return rng.randrange(1_000, 200_000)
    scale = 3 if kind == "usage_consolidated" else 1
    return int(rng.lognormvariate(10.5, 0.8)) * scale


def month_to_date(planned: int, start: int, end: int, now: int) -> int:
    """What a draft shows at `now`: the share of its period's subtotal already run up."""
    return planned * (min(max(now, start), end) - start) // (end - start)


def priced(subtotal: int, rate: Fraction, exempt: bool, coupon_pct: int, grant: int) -> tuple[int, int, int]:
    """(tax, coupons, credits) of a subtotal: coupons take their percentage of it, and credits
    apply up to the grant without taking the total below zero."""
    tax = 0 if exempt else round_half_up(subtotal * rate)
    coupons = subtotal * coupon_pct // 100
    credits = min(subtotal + tax - coupons, grant) if grant else 0
    return tax, coupons, credits


def draw_payment(
    rng: random.Random, profile: Profile, status: str, total: int, pinned: str | None
) -> tuple[str, int]:
    """(payment status, amount paid) of an invoice, drawn from the customer's payment profile."""
    if status in ("draft", "void"):
        return pinned or "unpaid", 0
    if status == "uncollectible":
        return pinned or "errored", 0
    choice = pinned or ("paid" if total == 0 else weighted(rng, profile.payments))
    if choice == "paid":
        return choice, total
    if choice == "partially_paid":
        return choice, total * rng.randrange(20, 81) // 100 if total > 1 else 0
    return choice, 0
