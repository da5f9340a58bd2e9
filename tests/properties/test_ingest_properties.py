"""Random event batches (duplicates, timestamps in and out of each API's window, ids and
aliases, several metrics, two of them tiered) through both ingest endpoints, against an oracle
that checks, aggregates and prices them on its own; the drafts both APIs show must bill exactly
what it says, tier by tier."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.world.ids import to_base62_id
from tests.properties.harness import Api, Servers
from tests.properties.strategies import build_world

NOW = datetime(2026, 5, 15, 12, tzinfo=UTC)
PERIOD = (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
CUSTOMERS = {
    "00000000-0000-4000-8000-0000000000a1": ("ann", "ann-two"),
    "00000000-0000-4000-8000-0000000000b2": ("bob",),
}
FIXTURE = f"""\
seed: 21
now: {NOW.isoformat()}
generate: {{customers: 0}}
invoices: {{months: 2, credits_share: 0, coupons_share: 0, tax_exempt_share: 0}}
metrics:
  - {{code: api_request, name: Requests, price: 0.01}}
  - {{code: api_request, name: Users, aggregation: unique, property: user, price: 2}}
  - {{code: compute, name: Seconds, aggregation: sum, property: seconds, filters: {{tier: std}}, price: 0.5}}
  - {{code: storage, name: Peak GB, aggregation: max, property: gb, price: 0.25}}
  - code: api_request
    name: Tiered requests
    tiers: [{{up_to: 2, price: 0.05}}, {{up_to: 5, price: 0.02}}, {{price: 0.005}}]
  - code: compute
    name: Tiered seconds
    aggregation: sum
    property: seconds
    tiers: [{{up_to: 2.5, price: 0.3}}, {{up_to: 9, price: 0.07}}, {{price: 0.015}}]
customers:
""" + "".join(
    f"  - {{id: {uid}, name: Customer {aliases[0]}, aliases: [{', '.join(aliases)}], currency: USD}}\n"
    for uid, aliases in CUSTOMERS.items()
)


@dataclass(frozen=True)
class Metric:
    """The oracle's own statement of each fixture metric: price in cents per unit, or, tiered,
    (first unit's position, last unit's position or None, cents) of each band."""

    code: str
    aggregation: str
    cents: Fraction = Fraction(0)
    property: str | None = None
    filters: tuple[tuple[str, str], ...] = ()
    bands: tuple[tuple[Fraction, Fraction | None, Fraction], ...] = ()


METRICS = {
    "Requests": Metric("api_request", "count", Fraction(1)),
    "Users": Metric("api_request", "unique", Fraction(200), "user"),
    "Seconds": Metric("compute", "sum", Fraction(50), "seconds", (("tier", "std"),)),
    "Peak GB": Metric("storage", "max", Fraction(25), "gb"),
    "Tiered requests": Metric(
        "api_request",
        "count",
        bands=(
            (Fraction(0), Fraction(2), Fraction(5)),
            (Fraction(2), Fraction(5), Fraction(2)),
            (Fraction(5), None, Fraction(1, 2)),
        ),
    ),
    "Tiered seconds": Metric(
        "compute",
        "sum",
        property="seconds",
        bands=(
            (Fraction(0), Fraction(5, 2), Fraction(30)),
            (Fraction(5, 2), Fraction(9), Fraction(7)),
            (Fraction(9), None, Fraction(3, 2)),
        ),
    ),
}


def half_up(exact: Fraction) -> int:
    return int(exact + Fraction(1, 2))  # all amounts are positive


def tiered(quantity: Fraction, metric: Metric) -> list[tuple[Fraction, Fraction, int]]:
    """(units, cents per unit, subtotal) of each band the quantity reaches: the units of the
    quantity that lie between the band's ends, each band rounded on its own."""
    found = []
    for low, high, cents in metric.bands:
        units = max(Fraction(0), (quantity if high is None else min(quantity, high)) - low)
        if units:
            found.append((units, cents, half_up(units * cents)))
    return found


@dataclass
class Oracle:
    """Both APIs' rules, applied to batches one by one."""

    transactions: set[str] = field(default_factory=set)
    event_keys: set[tuple[str, str]] = field(default_factory=set)
    values: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # (customer, metric) -> values

    @staticmethod
    def customer(reference: str, api: str) -> str | None:
        for uid, aliases in CUSTOMERS.items():
            own = uid if api == "metronome" else to_base62_id("cus_", uid)
            if reference == own or reference in aliases:
                return uid
        return None

    @staticmethod
    def valid(at: datetime, api: str, backfill: bool) -> bool:
        if api == "metronome":
            return NOW - timedelta(days=34) <= at <= NOW + timedelta(hours=24)
        return (backfill or at >= NOW - timedelta(hours=24)) and at <= NOW + timedelta(hours=1)

    def ingest(self, api: str, events: list[dict], partial: bool, backfill: bool) -> tuple[bool, list[str]]:
        """(accepted, ids of the events refused). Metronome keeps an event for a customer no
        one is yet (none becomes one here): its key is remembered, it bills nothing."""
        refused = [
            e["key"]
            for e in events
            if (api == "meteroid" and self.customer(e["customer"], api) is None)
            or not self.valid(e["at"], api, backfill)
        ]
        if refused and not partial:
            return False, refused
        for e in events:
            uid = self.customer(e["customer"], api)
            if not self.valid(e["at"], api, backfill):
                continue
            if api == "metronome":
                if e["key"] in self.transactions:
                    continue
                self.transactions.add(e["key"])
                if uid is None:
                    continue
            elif uid is None:
                continue
            else:
                if (e["key"], uid) in self.event_keys:
                    continue
                self.event_keys.add((e["key"], uid))
            if not PERIOD[0] <= e["at"] < PERIOD[1]:
                continue  # no open draft holds it
            for name, metric in METRICS.items():
                if e["code"] != metric.code or any(e["props"].get(k) != v for k, v in metric.filters):
                    continue
                value = e["props"].get(metric.property) if metric.property else 1
                if value is None or (
                    metric.aggregation in ("sum", "max") and not value.replace(".", "", 1).isdigit()
                ):
                    continue
                self.values.setdefault((uid, name), []).append(value)
        return True, refused

    def lines(self, uid: str) -> dict[str, tuple[Fraction, int, list[tuple[Fraction, Fraction, int]]]]:
        """Metric name -> (quantity, total in cents, tiers as `tiered` gives them) of the
        customer's draft."""
        found = {}
        for (customer, name), values in self.values.items():
            if customer != uid:
                continue
            aggregation = METRICS[name].aggregation
            quantity = {
                "count": lambda v: Fraction(len(v)),
                "unique": lambda v: Fraction(len(set(v))),
                "sum": lambda v: sum(map(Fraction, v), Fraction(0)),
                "max": lambda v: max(map(Fraction, v)),
            }[aggregation](values)
            metric = METRICS[name]
            if metric.bands:
                tiers = tiered(quantity, metric)
                found[name] = (quantity, sum(subtotal for *_, subtotal in tiers), tiers)
            else:
                found[name] = (quantity, half_up(quantity * metric.cents), [])
        return found


OFFSETS = [
    timedelta(days=-40),  # past Metronome's 34 days
    timedelta(days=-20),  # in the finalized April period: accepted, bills nothing
    timedelta(hours=-30),  # past Meteroid's 24 hours
    timedelta(hours=-2),
    timedelta(0),
    timedelta(minutes=50),
    timedelta(hours=3),  # past Meteroid's hour ahead
    timedelta(hours=23),  # inside Metronome's 24 hours ahead: no draft holds it yet
    timedelta(days=20),  # June: past Metronome's 24 hours ahead
]
REFERENCES = {
    "metronome": [*CUSTOMERS, "ann", "ann-two", "bob", "nobody"],
    "meteroid": [*(to_base62_id("cus_", uid) for uid in CUSTOMERS), "ann", "bob", "nobody"],
}


@st.composite
def batches(draw) -> tuple[str, bool, bool, list[dict]]:
    """One API's batch; half of them hold only events that API accepts (else most would be
    refused whole)."""
    api = draw(st.sampled_from(["metronome", "meteroid"]))
    partial, backfill = (draw(st.booleans()), draw(st.booleans())) if api == "meteroid" else (False, False)
    references, offsets = REFERENCES[api], OFFSETS
    if draw(st.booleans(), label="only valid events"):
        references = [r for r in references if r != "nobody"]
        offsets = [o for o in offsets if Oracle.valid(NOW + o, api, backfill)]
    events = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "key": st.sampled_from([f"k{i}" for i in range(8)]),
                    "customer": st.sampled_from(references),
                    "code": st.sampled_from(["api_request", "compute", "storage", "unmetered"]),
                    "at": st.sampled_from(offsets).map(NOW.__add__),
                    "props": st.dictionaries(
                        st.sampled_from(["user", "seconds", "tier", "gb"]),
                        st.sampled_from(["a", "b", "1", "2.5", "7", "std", "x1"]),
                        max_size=4,
                    ),
                }
            ),
            min_size=1,
            max_size=25,
        )
    )
    return api, partial, backfill, events


def wire(api: str, event: dict) -> dict:
    at = event["at"].isoformat().replace("+00:00", "Z")
    if api == "metronome":
        return {
            "transaction_id": event["key"],
            "customer_id": event["customer"],
            "event_type": event["code"],
            "timestamp": at,
            "properties": event["props"],
        }
    return {
        "event_id": event["key"],
        "customer_id": event["customer"],
        "code": event["code"],
        "timestamp": at,
        "properties": event["props"],
    }


@pytest.fixture(scope="module")
def api(servers: Servers) -> Api:
    return servers.api(build_world(FIXTURE))


def drafts(api: Api, uid: str) -> tuple[dict, dict]:
    """The customer's draft as Metronome and as Meteroid show it."""
    (metronome,) = api.get(f"/v1/customers/{uid}/invoices", [("status", "DRAFT")]).json["data"]
    meteroid = api.get(f"/api/v1/invoices/{to_base62_id('inv_', metronome['id'])}").json
    return metronome, meteroid


def metronome_tiers(line: dict) -> list[tuple[Fraction, Fraction, int]]:
    """(units, cents per unit, subtotal) of each tier of a Metronome line's one sub-line."""
    if "sub_line_items" not in line:
        return []
    (sub,) = line["sub_line_items"]
    return [(Fraction(str(t["quantity"])), Fraction(str(t["price"])), t["subtotal"]) for t in sub["tiers"]]


def meteroid_tiers(line: dict) -> list[tuple[Fraction, Fraction, int]]:
    """The same of a Meteroid line's sub-lines, whose prices are in major units."""
    return [
        (Fraction(sub["quantity"]), Fraction(sub["unit_price"]) * 100, sub["total"])
        for sub in line["sub_line_items"]
    ]


@given(st.lists(batches(), min_size=1, max_size=4))
def test_drafts_bill_what_the_oracle_aggregates(api, sent) -> None:
    assert api.post("/_mock/reset").status == 200
    base = {uid: drafts(api, uid)[0]["subtotal"] for uid in CUSTOMERS}
    oracle = Oracle()
    for name, partial, backfill, events in sent:
        accepted, refused = oracle.ingest(name, events, partial, backfill)
        if name == "metronome":
            reply = api.post("/v1/ingest", [wire(name, e) for e in events])
        else:
            body = {"events": [wire(name, e) for e in events], "allow_partial_failures": partial}
            reply = api.post("/api/v1/events/ingest", {**body, "allow_backfilling": backfill})
        assert reply.status == (200 if accepted else 400), reply
        if accepted and name == "meteroid":
            assert [f["event_id"] for f in reply.json.get("failures", [])] == refused
    for uid in CUSTOMERS:
        metronome, meteroid = drafts(api, uid)
        expected = oracle.lines(uid)
        shown = {
            line["name"]: (Fraction(str(line["quantity"])), line["total"], metronome_tiers(line))
            for line in metronome["line_items"]
            if line["name"] in METRICS
        }
        assert shown == expected
        assert {
            line["name"]: (Fraction(line["quantity"]), line["amount_total"], meteroid_tiers(line))
            for line in meteroid["line_items"]
            if line["name"] in METRICS
        } == expected
        subtotal = base[uid] + sum(total for _, total, _ in expected.values())
        rate = Fraction(meteroid["tax_breakdown"][0]["tax_rate"])
        tax = int(subtotal * rate + Fraction(1, 2))
        assert (metronome["subtotal"], meteroid["subtotal"], meteroid["tax_amount"]) == (subtotal,) * 2 + (
            tax,
        )
        assert metronome["total"] == meteroid["total"] == meteroid["amount_due"] == subtotal + tax
