"""The fixture's billable metrics read and validated: what each counts, how it aggregates and
what a unit costs, per currency or per tier."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from mockserver.generation.fields import CURRENCY, PRICE_KEYS, Fields
from mockserver.world.spec import AGGREGATIONS, MetricSpec, TierSpec


class MetricFields(Fields):
    """The metrics part of the fixture's validator."""

    def metrics(self, raw: Any, path: str) -> tuple[MetricSpec, ...]:
        result: list[MetricSpec] = []
        names: dict[str, str] = {}
        for i, item in enumerate(self.sequence(raw, path)):
            metric = self.metric(item, f"{path}[{i}]")
            if metric.name in names:
                raise self.fail(f"{path}[{i}].name", f"duplicate metric name (also {names[metric.name]})")
            names[metric.name] = f"{path}[{i}]"
            result.append(metric)
        return tuple(result)

    def metric(self, raw: Any, path: str) -> MetricSpec:
        keys = ("name", "code", "aggregation", "property", "filters", "price", "prices", "tiers")
        section = self.mapping(raw, path, keys)
        if "code" not in section:
            raise self.fail(path, "missing key 'code' (the event type or code the metric counts)")
        code = self.text(section["code"], f"{path}.code")
        spec: dict[str, Any] = {"code": code, "name": code}
        if "name" in section:
            spec["name"] = self.text(section["name"], f"{path}.name")
        aggregation = spec["aggregation"] = self.choice(
            section.get("aggregation", "count"), f"{path}.aggregation", AGGREGATIONS
        )
        if "property" in section:
            if aggregation == "count":
                raise self.fail(f"{path}.property", "a count takes no property; sum, max and unique do")
            spec["property"] = self.text(section["property"], f"{path}.property")
        elif aggregation != "count":
            raise self.fail(path, f"missing key 'property' (the property a {aggregation} reads)")
        if "filters" in section:
            spec["filters"] = self.string_map(section["filters"], f"{path}.filters")
        if "tiers" in section:
            if "price" in section or "prices" in section:
                raise self.fail(f"{path}.tiers", "give either 'price'/'prices' or 'tiers', not both")
            spec["tiers"] = self.tiers(section["tiers"], f"{path}.tiers")
        else:
            spec.update(self.priced(section, path))
            if not ("price" in spec or "prices" in spec):
                raise self.fail(path, f"missing key {PRICE_KEYS}, or 'tiers' (graduated prices)")
        return MetricSpec(**spec)

    def priced(self, section: Mapping[str, Any], path: str) -> dict[str, Any]:
        """A metric's or a tier's `price` and `prices`, those given."""
        spec: dict[str, Any] = {}
        if "price" in section:
            spec["price"] = self.decimal(section["price"], f"{path}.price")
        if "prices" in section:
            prices = section["prices"]
            if not isinstance(prices, Mapping) or not prices:
                raise self.fail(f"{path}.prices", "expected a mapping of currency code to unit price")
            spec["prices"] = tuple(
                sorted(
                    (
                        self.text(currency, f"{path}.prices.{currency}", CURRENCY),
                        self.decimal(price, f"{path}.prices.{currency}"),
                    )
                    for currency, price in prices.items()
                )
            )
        return spec

    def tiers(self, raw: Any, path: str) -> tuple[TierSpec, ...]:
        """Graduated tiers: bounds strictly increasing from 0, only the last open-ended, and every
        tier pricing the same currencies (so that a currency is billed whole or not at all)."""
        items = self.sequence(raw, path)
        if not items:
            raise self.fail(path, "expected at least one tier")
        tiers: list[TierSpec] = []
        below = "0"
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            section = self.mapping(item, where, ("up_to", "price", "prices"))
            up_to = None
            if i == len(items) - 1:
                if "up_to" in section:
                    raise self.fail(f"{where}.up_to", "the last tier is open-ended; leave out 'up_to'")
            else:
                if "up_to" not in section:
                    raise self.fail(where, "missing key 'up_to' (only the last tier is open-ended)")
                up_to = self.decimal(section["up_to"], f"{where}.up_to")
                if Fraction(up_to) <= Fraction(below):
                    raise self.fail(
                        f"{where}.up_to",
                        f"expected a bound above {below} (bounds start above 0 and strictly increase), "
                        f"got {up_to}",
                    )
                below = up_to
            prices = self.priced(section, where)
            if not prices:
                raise self.fail(where, f"missing key {PRICE_KEYS}")
            tiers.append(TierSpec(up_to, **prices))
        self.check_tier_currencies(tiers, path)
        return tuple(tiers)

    def check_tier_currencies(self, tiers: list[TierSpec], path: str) -> None:
        """A currency some tier prices and another does not would bill part of a quantity only."""
        fallback = next((i for i, tier in enumerate(tiers) if tier.price is not None), None)
        for i, tier in enumerate(tiers):
            if tier.price is not None:
                continue
            if fallback is not None:
                raise self.fail(
                    f"{path}[{i}]",
                    f"missing key 'price': {path}[{fallback}].price prices every currency, "
                    "so every tier needs one",
                )
            own = dict(tier.prices)
            for j, other in enumerate(tiers):
                missing = sorted(set(dict(other.prices)) - set(own))
                if missing:
                    raise self.fail(
                        f"{path}[{i}].prices",
                        f"no price for {missing[0]}, which {path}[{j}] prices; "
                        "every tier prices the same currencies",
                    )
