"""The fixture's data model: immutable specs of a world, read from a file by `generation`.

A spec remembers the YAML it was read from (`raw`), whose mappings and lists know the line of
each key and item, so a mistake found later (a pinned invoice's dates, while the world is built)
still points at its line in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mockserver.world.endpoints import Endpoint
from mockserver.world.faults import Rule

STATUSES = ("draft", "finalized", "uncollectible", "void")
PAST_STATUSES = ("finalized", "uncollectible")
KINDS = ("usage", "usage_consolidated", "scheduled", "one_off", "adjustment", "usage_threshold")
PAYMENT_STATUSES = ("unpaid", "partially_paid", "paid", "errored", "processing")
PAYMENT_METHODS = ("card", "bank_transfer", "wallet", "other")
PROVIDERS = (
    "aws_marketplace",
    "stripe",
    "netsuite",
    "custom",
    "azure_marketplace",
    "quickbooks_online",
    "workday",
    "gcp_marketplace",
    "metronome",
)
EXTERNAL_STATUSES = (
    "DRAFT",
    "FINALIZED",
    "PAID",
    "PARTIALLY_PAID",
    "UNCOLLECTIBLE",
    "VOID",
    "DELETED",
    "PAYMENT_FAILED",
    "INVALID_REQUEST_ERROR",
    "SKIPPED",
    "SENT",
    "QUEUED",
)
SORTS = ("date_asc", "date_desc")
AGGREGATIONS = ("count", "sum", "max", "unique")
DIALECTS = ("documented", "upstream")
ISOLATIONS = ("none", "token")  # one world for every client, or one per bearer token
DEFAULT_NOW = "2026-06-15T12:00:00Z"


class FixtureError(Exception):
    """A fixture that cannot be served, with where (file, line when known, field) and why, in
    one line: `world.yaml:3: now: ...`."""

    def __init__(self, source: str, path: str, message: str, line: int | None = None) -> None:
        self.source, self.path, self.message, self.line = source, path, message, line
        where = source + (f":{line}" if line else "") + (f": {path}" if path else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class BillingProvider:
    type: str
    statuses: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Profile:
    """How a customer's invoice history is generated; the world's defaults, overridable per customer."""

    months: int = 12
    contracts: int = 1
    currencies: tuple[tuple[str, float], ...] = (("USD", 0.7), ("EUR", 0.2), ("GBP", 0.1))
    status_mix: tuple[tuple[str, float], ...] = (("finalized", 0.95), ("uncollectible", 0.05))
    void_share: float = 0.05
    type_mix: tuple[tuple[str, float], ...] = (
        ("usage", 0.7),
        ("scheduled", 0.15),
        ("usage_consolidated", 0.05),
        ("one_off", 0.05),
        ("adjustment", 0.03),
        ("usage_threshold", 0.02),
    )
    zero_qty_share: float = 0.1
    credits_share: float = 0.2
    coupons_share: float = 0.1
    tax_exempt_share: float = 0.1
    billing_provider: BillingProvider | None = BillingProvider(
        "stripe", (("FINALIZED", 0.2), ("SENT", 0.6), ("QUEUED", 0.2))
    )
    payments: tuple[tuple[str, float], ...] = (
        ("paid", 0.8),
        ("partially_paid", 0.05),
        ("errored", 0.03),
        ("processing", 0.02),
        ("unpaid", 0.1),
    )
    payment_methods: tuple[tuple[str, float], ...] = (
        ("card", 0.7),
        ("bank_transfer", 0.2),
        ("wallet", 0.08),
        ("other", 0.02),
    )
    net_terms: int = 30


@dataclass(frozen=True)
class Address:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class LineSpec:
    name: str
    quantity: str
    unit_price: str
    description: str | None = None


@dataclass(frozen=True)
class InvoiceSpec:
    """A pinned invoice: every field left None is generated as usual."""

    path: str
    id: str | None = None
    number: str | None = None
    contract_id: str | None = None
    status: str | None = None
    type: str | None = None
    currency: str | None = None
    period_start: int | None = None
    period_end: int | None = None
    issued_at: int | None = None
    payment_status: str | None = None
    external_status: str | None = None
    memo: str | None = None
    purchase_order: str | None = None
    reference: str | None = None
    net_terms: int | None = None
    tax_rate: str | None = None
    credits: int | None = None
    coupons: int | None = None
    line_items: tuple[LineSpec, ...] | None = None
    custom_fields: tuple[tuple[str, str], ...] | None = None


def _price_in(price: str | None, prices: tuple[tuple[str, str], ...], currency: str) -> str | None:
    """A unit price in major units: `prices` for the currency, else `price`; None: not priced."""
    return dict(prices).get(currency, price)


@dataclass(frozen=True)
class TierSpec:
    """One band of a graduated price: the units above the previous tier's bound (0 for the
    first) up to `up_to` (None: every unit beyond, the last tier), each at this tier's price."""

    up_to: str | None
    price: str | None = None
    prices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MetricSpec:
    """A billable metric: which events it counts, how it aggregates them and what a unit costs.

    `code` is the event type (Metronome) or event code (Meteroid) it matches; several metrics
    may match one code. Prices are per unit in major units: `prices` per currency, else `price`;
    a metric with `tiers` prices each tier that way instead, and has no price of its own.
    """

    name: str
    code: str
    aggregation: str = "count"
    property: str | None = None  # the property summed, maxed or counted once per value
    filters: tuple[tuple[str, str], ...] = ()  # properties an event must carry with these values
    price: str | None = None
    prices: tuple[tuple[str, str], ...] = ()
    tiers: tuple[TierSpec, ...] = ()

    def unit_price(self, currency: str) -> str | None:
        """Per unit in major units; None when the metric bills nothing in that currency (and
        for a tiered metric, see `tier_prices`)."""
        return _price_in(self.price, self.prices, currency)

    def tier_prices(self, currency: str) -> tuple[str, ...] | None:
        """Each tier's unit price in major units; None when the tiers bill nothing in that
        currency (validation has every tier price the same currencies)."""
        prices = []
        for tier in self.tiers:
            price = _price_in(tier.price, tier.prices, currency)
            if price is None:
                return None
            prices.append(price)
        return tuple(prices)


@dataclass(frozen=True)
class ContractSpec:
    id: str | None = None
    name: str | None = None
    starts_at: int | None = None
    ends_at: int | None = None
    custom_fields: tuple[tuple[str, str], ...] = ()
    metrics: tuple[str, ...] | None = None  # the names of the metrics it bills; None: every one


@dataclass(frozen=True)
class CustomerSpec:
    """A pinned customer: given fields are kept exactly, the rest generated."""

    path: str
    id: str | None = None
    name: str | None = None
    aliases: tuple[str, ...] | None = None
    external_id: str | None = None
    email: str | None = None
    address: Address | None = None
    currency: str | None = None
    vat_number: str | None = None
    custom_fields: tuple[tuple[str, str], ...] | None = None
    archived_at: int | None = None
    created_at: int | None = None
    contracts: tuple[ContractSpec, ...] | None = None
    profile: Profile = field(default_factory=Profile)
    invoices: tuple[InvoiceSpec, ...] = ()

    @property
    def key(self) -> str:
        """What the customer's randomness hangs off: stable when other customers come and go."""
        return f"pinned/{self.id or self.name or self.path}"


@dataclass(frozen=True)
class Fixture:
    source: str
    name: str
    seed: int
    now: int
    default_sort: str = "date_asc"
    dialect: str = "documented"
    tokens: tuple[str, ...] = ()
    control_token: str | None = None  # what every /_mock write must carry, if set
    isolation: str | None = None  # "token": a world per bearer token
    generated_customers: int = 0
    archived_share: float = 0.05
    profile: Profile = field(default_factory=Profile)
    customers: tuple[CustomerSpec, ...] = ()
    faults: tuple[Rule, ...] = ()
    webhooks: tuple[Endpoint, ...] = ()
    metrics: tuple[MetricSpec, ...] = ()
    text_digest: str = ""
    text: str = field(default="", repr=False, compare=False)  # as written: GET /_mock/fixture
    raw: Any = field(default=None, repr=False, compare=False)  # the YAML read, to find lines in

    def error(self, path: str, message: str) -> FixtureError:
        """A mistake found past validation (a pinned invoice's dates), at its line in the file."""
        return FixtureError(self.source, path, message, line_of(self.raw, path))


class Located(dict):
    """A YAML mapping that keeps the line of each of its keys, for errors to point at."""

    lines: dict[Any, int]


class LocatedList(list):
    """A YAML sequence that keeps the line of each of its items."""

    lines: list[int]


_STEP = re.compile(r"\[(\d+)\]|([^.\[]+)")


def line_of(root: Any, path: str) -> int | None:
    """The line of the deepest key or item along `path` (`customers[2].name`) in the YAML."""
    node, line = root, None
    for index, key in _STEP.findall(path):
        if index and isinstance(node, LocatedList) and int(index) < len(node):
            line, node = node.lines[int(index)], node[int(index)]
            continue
        found = [name for name in node if str(name) == key] if isinstance(node, Located) else []
        if not found:
            break
        line, node = node.lines[found[0]], node[found[0]]
    return line
