"""Graduated pricing: which units each tier bills, how its subtotal rounds, and the usage line a
tiered metric makes beside a plain one."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.world.ids import derive_uuid
from mockserver.world.metering import LIMIT, Metering, graduated
from mockserver.world.model import Tier

TIERS = Path(__file__).parent / "fixtures" / "tiers.yaml"
# Up to 10 units at 4 cents, up to 50 at 2.5 cents, any more at 0.125 cents.
BANDS = ((Fraction(10), Fraction(4)), (Fraction(50), Fraction(5, 2)), (None, Fraction(1, 8)))


def test_a_quantity_spanning_three_tiers_bills_each_band_at_its_price() -> None:
    assert graduated(Fraction(62), BANDS) == (
        Tier(1, 0, "10", "4", 40),
        Tier(2, 10, "40", "2.5", 100),
        Tier(3, 50, "12", "0.125", 2),  # 1.5 cents, rounded half up
    )


def test_a_quantity_exactly_at_a_bound_fills_that_tier_and_no_more() -> None:
    assert graduated(Fraction(10), BANDS) == (Tier(1, 0, "10", "4", 40),)
    assert graduated(Fraction(50), BANDS) == (Tier(1, 0, "10", "4", 40), Tier(2, 10, "40", "2.5", 100))


def test_a_zero_quantity_has_no_tiers() -> None:
    assert graduated(Fraction(0), BANDS) == ()


def test_the_open_last_tier_bills_every_unit_beyond_the_last_bound() -> None:
    *_, last = graduated(Fraction(10**9), BANDS)
    assert last == Tier(3, 50, str(10**9 - 50), "0.125", 124_999_994)  # 124,999,993.75 rounded
    assert graduated(Fraction(7), ((None, Fraction(3)),)) == (Tier(1, 0, "7", "3", 21),)


def test_fractional_bounds_and_quantities_stay_exact() -> None:
    bands = ((Fraction(3, 2), Fraction(200)), (None, Fraction(333, 10)))
    assert graduated(Fraction(9, 4), bands) == (
        Tier(1, 0, "1.5", "200", 300),
        Tier(2, "1.5", "0.75", "33.3", 25),  # 24.975 rounded half up
    )


def test_each_tier_rounds_on_its_own_so_the_tiers_add_up_to_the_line() -> None:
    halves = ((Fraction(1), Fraction(1, 2)), (None, Fraction(1, 2)))
    assert [tier.subtotal for tier in graduated(Fraction(2), halves)] == [1, 1]


def test_tiers_stop_at_the_limit_together() -> None:
    tiers = graduated(Fraction(LIMIT), ((Fraction(LIMIT - 1), Fraction(1)), (None, Fraction(5))))
    assert [tier.subtotal for tier in tiers] == [LIMIT - 1, 1]


@pytest.fixture(scope="module")
def metering() -> Metering:
    return Metering(load_fixture(TIERS).metrics)


def lines(metering: Metering, usage: dict, currency: str = "USD") -> dict:
    return {line.name: line for line in metering.lines(5, "invoice-1", usage, currency, 0, 100)}


def test_a_tiered_metric_bills_one_line_whose_tiers_make_its_total(metering) -> None:
    requests, storage, calls = (metering.index[name] for name in ("Requests", "Storage GB", "Calls"))
    shown = lines(metering, {requests: 7, storage: Fraction(9, 4), calls: 7})
    line = shown["Requests"]
    assert (line.quantity, line.unit_price, line.total) == ("7", None, 425)
    assert line.tiers == (
        Tier(1, 0, "3", "100", 300),
        Tier(2, 3, "2", "50", 100),
        Tier(3, 5, "2", "12.5", 25),
    )
    assert line.id == derive_uuid(5, "invoice-1", "usage", "Requests")
    assert [tier.subtotal for tier in shown["Storage GB"].tiers] == [300, 25]
    plain = shown["Calls"]
    assert (plain.quantity, plain.unit_price, plain.total, plain.tiers) == ("7", "1", 7, ())


def test_tier_prices_follow_the_invoice_currency(metering) -> None:
    requests, storage = metering.index["Requests"], metering.index["Storage GB"]
    shown = lines(metering, {requests: 7, storage: Fraction(2)}, "EUR")
    assert [(tier.price, tier.subtotal) for tier in shown["Requests"].tiers] == [
        ("100", 300),
        ("40", 80),
        ("10", 20),
    ]
    assert "Storage GB" not in shown  # its tiers price USD only


def test_a_tiered_line_with_no_units_has_no_tiers(metering) -> None:
    line = lines(metering, {metering.index["Storage GB"]: Fraction(0)})["Storage GB"]
    assert (line.quantity, line.unit_price, line.total, line.tiers) == ("0", None, 0, ())
