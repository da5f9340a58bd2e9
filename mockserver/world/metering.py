"""Billable metrics: which events a metric counts, how counted values add up on an invoice,
and the usage line that bills them.

An invoice's usage is kept per metric as one aggregate (a count, a sum, a maximum or the set
of distinct values), so an event costs a dictionary update however many came before it, and
the line is priced again from the aggregate alone: at the metric's unit price, or, for a
tiered metric, band by band (graduated), each band with units in it a tier of the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import orjson

from mockserver.world.ids import derive_uuid
from mockserver.world.model import Line, Tier
from mockserver.world.money import decimal_text, round_half_up
from mockserver.world.spec import MetricSpec

Aggregate = int | Fraction | set[str]
Bands = tuple[tuple[Fraction | None, Fraction], ...]  # (upper bound or None, unit price in minor units)
# A quantity and a line's total (in minor units) stop at this, so that every amount fits in the
# 64-bit integers both APIs carry amounts in; a value read is at most 15 digits before the point.
LIMIT = 10**15
_NUMBER = re.compile(r"[0-9]{1,15}(\.[0-9]{1,15})?")


def value_text(value: Any) -> str:
    """A property value as text: strings as they are, anything else as its JSON spelling."""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def number(text: str) -> Fraction | None:
    """A non-negative decimal of at most 15 digits each side of the point, or None: a value a
    sum or a maximum cannot read is not counted."""
    return Fraction(text) if _NUMBER.fullmatch(text) else None


def graduated(quantity: Fraction, bands: Bands) -> tuple[Tier, ...]:
    """The tiers of a quantity priced by graduated bands of (upper bound or None for the last,
    unit price in minor units): each band bills the units above the previous bound up to its
    own. Each tier's subtotal is rounded half up as a plain line's total is, so the tiers add
    up to the line's total exactly; they stop at LIMIT together, as a plain line does."""
    return tuple(
        Tier(
            level,
            start.numerator if start.denominator == 1 else decimal_text(start),
            decimal_text(units),
            decimal_text(unit),
            subtotal,
        )
        for level, start, units, unit, subtotal in _banded(quantity, bands)
    )


def _banded(quantity: Fraction, bands: Bands) -> Iterator[tuple[int, Fraction, Fraction, Fraction, int]]:
    """(level, start, units, unit price, subtotal) of each band with units in it."""
    start, billed = Fraction(0), 0
    for level, (bound, unit) in enumerate(bands, 1):
        units = (quantity if bound is None else min(quantity, bound)) - start
        if units <= 0:
            return
        subtotal = min(round_half_up(units * unit), LIMIT - billed)
        billed += subtotal
        yield level, start, units, unit, subtotal
        if bound is None:
            return
        start = bound


def copied(usage: dict[int, Aggregate]) -> dict[int, Aggregate]:
    """An invoice's usage to change apart from the original (its sets are copied too)."""
    return {metric: set(value) if isinstance(value, set) else value for metric, value in usage.items()}


class Metering:
    """The fixture's metrics, indexed by the event code they match."""

    def __init__(self, metrics: tuple[MetricSpec, ...]) -> None:
        self.metrics = metrics
        # code -> (metric, aggregation, property, filters) of each metric matching it
        self.by_code: dict[str, list[tuple[int, str, str, tuple[tuple[str, str], ...]]]] = {}
        for index, metric in enumerate(metrics):
            entry = (index, metric.aggregation, metric.property or "", metric.filters)
            self.by_code.setdefault(metric.code, []).append(entry)
        self.index = {metric.name: index for index, metric in enumerate(metrics)}
        self._prices: dict[tuple[int, str], Fraction | Bands | None] = {}  # `price`, as read

    def matches(self, code: str, properties: dict[str, Any]) -> list[tuple[int, Fraction | str | None]]:
        """(metric, value) for each metric an event counts in: None for a count, the number of
        a sum or a maximum, the text of a unique count."""
        found: list[tuple[int, Fraction | str | None]] = []
        for index, aggregation, name, filters in self.by_code.get(code, ()):
            if filters and any(
                key not in properties or value_text(properties[key]) != wanted for key, wanted in filters
            ):
                continue
            if aggregation == "count":
                found.append((index, None))
                continue
            raw = properties.get(name)
            if raw is None:
                continue
            text = raw if type(raw) is str else value_text(raw)
            if aggregation == "unique":
                found.append((index, text))
            else:
                value = number(text)
                if value is not None:
                    found.append((index, value))
        return found

    def add(
        self, usage: dict[int, Aggregate], index: int, value: Fraction | str | None, times: int = 1
    ) -> None:
        """Count a matched event (`times` alike) into an invoice's usage. Every aggregation is
        indifferent to order, so alike events count at once as one after another would."""
        aggregation = self.metrics[index].aggregation
        if aggregation == "count":
            usage[index] = usage.get(index, 0) + times  # type: ignore[operator]
        elif aggregation == "sum":
            usage[index] = min(usage.get(index, 0) + value * times, LIMIT)  # type: ignore[operator]
        elif aggregation == "max":
            current = usage.get(index)
            usage[index] = value if current is None or value > current else current  # type: ignore[operator]
        else:
            usage.setdefault(index, set()).add(value)  # type: ignore[union-attr,arg-type]

    @staticmethod
    def quantity(aggregate: Aggregate) -> Fraction:
        return Fraction(len(aggregate)) if isinstance(aggregate, set) else Fraction(aggregate)

    def price(self, index: int, currency: str) -> Fraction | Bands | None:
        """`_price`, read once a metric and currency: a draft is priced again with every batch
        of usage. (A dictionary, not a cache decorator: the world is pickled into snapshots.)"""
        key = (index, currency)
        if key not in self._prices:
            self._prices[key] = self._price(index, currency)
        return self._prices[key]

    def _price(self, index: int, currency: str) -> Fraction | Bands | None:
        """What a metric bills per unit in `currency`, in minor units: a unit price, or a
        tiered metric's bands; None if it bills nothing in that currency."""
        metric = self.metrics[index]
        if not metric.tiers:
            price = metric.unit_price(currency)
            return None if price is None else Fraction(price) * 100
        prices = metric.tier_prices(currency)
        if prices is None:
            return None
        return tuple(
            (None if tier.up_to is None else Fraction(tier.up_to), Fraction(price) * 100)
            for tier, price in zip(metric.tiers, prices, strict=True)
        )

    def total(self, usage: dict[int, Aggregate], currency: str) -> int:
        """What the usage lines of `usage` add up to, without the lines themselves."""
        total = 0
        for index, aggregate in usage.items():
            price = self.price(index, currency)
            if type(price) is tuple:
                total += sum(band[4] for band in _banded(self.quantity(aggregate), price))
            elif price is not None:
                total += _plain_total(aggregate, price)  # type: ignore[arg-type]
        return total

    def lines(
        self, seed: int, uid: str, usage: dict[int, Aggregate], currency: str, start: int, end: int
    ) -> tuple[Line, ...]:
        """One usage line per metric with usage on the invoice and a price in its currency, in
        the fixture's order of metrics; a tiered metric's line has tiers and no unit price."""
        lines = []
        for index in sorted(usage):
            price = self.price(index, currency)
            if price is None:
                continue
            metric = self.metrics[index]
            quantity = self.quantity(usage[index])
            if type(price) is tuple:
                tiers = graduated(quantity, price)
                unit_price, total = None, sum(tier.subtotal for tier in tiers)
            else:
                tiers, unit_price, total = (), decimal_text(price), _plain_total(usage[index], price)  # type: ignore[arg-type]
            lines.append(
                Line(
                    id=derive_uuid(seed, uid, "usage", metric.name),
                    kind="usage",
                    name=metric.name,
                    description=f"{metric.aggregation} of {metric.code} events",
                    product_id=derive_uuid(seed, "metric", metric.name),
                    quantity=decimal_text(quantity),
                    unit_price=unit_price,
                    total=total,
                    starts_at=start,
                    ends_at=end,
                    recurring=False,
                    tiers=tiers,
                )
            )
        return tuple(lines)


def _plain_total(aggregate: Aggregate, unit: Fraction) -> int:
    """A line at one unit price: its quantity times the price, rounded half up, at most LIMIT."""
    quantity = len(aggregate) if isinstance(aggregate, set) else aggregate
    return min(round_half_up(quantity * unit), LIMIT)
