"""Small generated worlds, written as fixture YAML, and generated requests for both APIs.

Worlds go through the fixture format (YAML text -> `parse_fixture` -> `World.from_fixture`),
so every example exercises the fixture layer too. Each world has pinned and generated
customers, every invoice status and type, archived customers, zero-quantity lines, and many
equal timestamps: all invoices of a month share their period and issue time, and pinned
invoices share identical periods on purpose, so that orderings lean on their tie-breakers.
"""

from __future__ import annotations

import calendar
import copy
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from functools import lru_cache
from typing import Any

import yaml
from hypothesis import strategies as st

from mockserver.generation.fixture import parse_fixture
from mockserver.metronome.catalog import credit_type_id
from mockserver.world.spec import KINDS, STATUSES
from mockserver.world.state import World
from tests.properties import oracle

DAY = 86_400
# `now` exactly on a month start (drafts created at `now` tie), mid-month, and just before one.
NOWS = (
    calendar.timegm((2026, 3, 1, 0, 0, 0)),
    calendar.timegm((2026, 3, 15, 12, 0, 0)),
    calendar.timegm((2026, 2, 28, 23, 59, 59)),
    calendar.timegm((2025, 12, 31, 18, 30, 0)),
)
OFFSETS = tuple(
    timezone(timedelta(minutes=m)) for m in (330, -480, 0, 840, -570, 60, -720, 345)
)  # +05:30 -08:00 +00:00 +14:00 -09:30 +01:00 -12:00 +05:45
NAMES = ("Acme", "Acme", "acme", "Zeta Systems", "Émile & Fils", "Ωmega", "Blue Sky Ltd")
ALIASES = ("acme", "acme-corp", "zeta", "cus_legacy-7", "cus_abc", "émile", "blue sky", "x")
CURRENCIES = ("USD", "EUR", "GBP", "JPY")
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
TEXT = st.characters(exclude_categories=("Cs",))  # anything a URL can carry
SHARED_PREFIX_IDS = tuple(f"e0000000-0000-4000-8000-00000000000{k}" for k in range(1, 8))


# --- time -----------------------------------------------------------------------------------------


def month_start(ts: int) -> int:
    moment = datetime.fromtimestamp(ts, UTC)
    return calendar.timegm((moment.year, moment.month, 1, 0, 0, 0))


def add_months(ts: int, months: int) -> int:
    moment = datetime.fromtimestamp(ts, UTC)
    index = moment.year * 12 + moment.month - 1 + months
    return calendar.timegm((index // 12, index % 12 + 1, 1, 0, 0, 0))


class _Pick:
    """Draws for the world generator without building a strategy per draw: a world takes a few
    hundred draws, and Hypothesis validates every new strategy object it meets."""

    def __init__(self, draw) -> None:
        self.draw = draw

    def one(self, options: Any) -> Any:
        """One of a sequence; shrinks towards the first."""
        return options[self.draw(st.integers(0, len(options) - 1))]

    def number(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))

    def chance(self, one_in: int) -> bool:
        """True one time in `one_in`; shrinks towards False."""
        return self.draw(st.integers(0, one_in - 1)) == one_in - 1

    def permutation(self, items: tuple) -> list:
        pool, result = list(items), []
        while pool:
            result.append(pool.pop(self.number(0, len(pool) - 1)))
        return result


def fixture_time(pick: _Pick, ts: int) -> Any:
    """One instant as a fixture may write it: RFC 3339 text with Z or an offset, a YAML
    timestamp, or a YAML date when it is midnight UTC."""
    moment = datetime.fromtimestamp(ts, UTC)
    form = pick.one(("z", "offset", "yaml", "date") if ts % DAY == 0 else ("z", "offset", "yaml"))
    if form == "z":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if form == "offset":
        return moment.astimezone(pick.one(OFFSETS)).isoformat()
    if form == "yaml":
        return moment.astimezone(pick.one(OFFSETS))
    return moment.date()


# --- worlds ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    """A pinned invoice as the fixture states it, for checking that the world kept it."""

    id: str
    customer_ref: str | None  # how a top-level pinned invoice names its customer
    customer_index: int | None  # the pinned customer it was written under
    status: str | None
    kind: str | None
    period_start: int
    period_end: int
    issued_at: int | None
    currency: str | None
    contract_id: str | None
    quantities: tuple[str, ...] | None


class WorldCase:
    """A generated fixture: its YAML text, the structure it was written from, what it pins,
    and the world built from it."""

    def __init__(self, text: str, spec: dict[str, Any], pins: tuple[Pin, ...]) -> None:
        self.text, self._spec, self.pins = text, spec, pins
        # The Metronome list's order without `sort`, and the Meteroid dialect, as the fixture sets them.
        self.default_sort: str = spec.get("metronome", {}).get("default_sort", "date_asc")
        self.dialect: str = spec.get("meteroid", {}).get("dialect", "documented")

    def __repr__(self) -> str:
        return "WorldCase(fixture YAML:\n" + self.text + ")"

    @property
    def world(self) -> World:
        return world_of(self.text)

    @property
    def spec(self) -> dict[str, Any]:
        """A copy of what the YAML text says, to read or to change."""
        return copy.deepcopy(self._spec)


@lru_cache(maxsize=32)
def world_of(text: str) -> World:
    return build_world(text)


def build_world(text: str) -> World:
    """A new world from fixture text, never cached."""
    return World.from_fixture(parse_fixture(text, "property.yaml"))


class _Ids:
    """Unique UUIDs for one world, so that pinned ids never collide by accident: hashed from one
    drawn salt and a counter, which keeps the example small and quick to shrink while the ids
    still fall in no particular order."""

    def __init__(self, draw) -> None:
        self.salt = draw(st.integers(0, 2**32 - 1))
        self.count = 0

    def uuid(self) -> str:
        self.count += 1
        raw = hashlib.blake2b(f"{self.salt}/{self.count}".encode(), digest_size=16).digest()
        return str(uuid.UUID(bytes=raw, version=4))


def periods(pick: _Pick, now: int, status: str | None) -> tuple[int, int]:
    """A billing period a pinned invoice of `status` may have: open at `now` for a draft,
    ended by `now` otherwise; month-aligned or mid-month."""
    if status == "draft":
        start = pick.one((month_start(now), now, now - 3 * DAY))
        end = pick.one((add_months(month_start(now), 1), now + 1, now + DAY))
        return start, end
    end = add_months(month_start(now), -pick.number(0, 2))  # a month start, never after `now`
    shape = pick.one(("month", "mid-month", "short"))
    if shape == "month":
        return add_months(end, -1), end
    if shape == "mid-month":
        start = add_months(month_start(end), -2) + 9 * DAY + DAY // 2
        return start, min(add_months(start, 1) + 9 * DAY + DAY // 2, now)
    return end - DAY, end


QUANTITIES = (0, "0", "0.0", "0.000", 1, 3, "2.5", 1000)
UNIT_PRICES = (0, "0.25", 12, "49.99", 1500)
PAYMENT_STATUSES = ("unpaid", "partially_paid", "paid", "errored", "processing")


def line_items(pick: _Pick) -> list[dict[str, Any]]:
    """Pinned lines, some with a zero quantity in one of its decimal spellings."""
    return [
        {"name": f"Line {index}", "quantity": pick.one(QUANTITIES), "unit_price": pick.one(UNIT_PRICES)}
        for index in range(pick.number(1, 4))
    ]


def pinned_invoice(
    pick: _Pick,
    ids: _Ids,
    now: int,
    contract_ids: list[str],
    status: str | None = None,
    kind: str | None = None,
    period: tuple[int, int] | None = None,
    issued_at: int | None = None,
) -> tuple[dict[str, Any], Pin]:
    body: dict[str, Any] = {}
    uid = None if pick.chance(4) else ids.uuid()
    if uid is not None:
        body["id"] = uid
    if status is None:
        status = pick.one(STATUSES)
    if kind is None:
        kind = pick.one(KINDS)
    start, end = period or periods(pick, now, status)
    implied = "draft" if end > now else "finalized"
    if status != implied or pick.chance(2):
        body["status"] = status
    if kind != "usage" or pick.chance(2):
        body["type"] = kind
    body["period_start"] = fixture_time(pick, start)
    body["period_end"] = fixture_time(pick, end)
    if issued_at is not None:
        body["issued_at"] = fixture_time(pick, issued_at)
    currency = pick.one((None, *CURRENCIES))
    if currency is not None:
        body["currency"] = currency
    contract = pick.one((None, *contract_ids))
    if contract is not None:
        body["contract_id"] = contract
    quantities = None
    if pick.chance(3):
        body["line_items"] = line_items(pick)
        quantities = tuple(str(item["quantity"]) for item in body["line_items"])
    if status == "finalized" and pick.chance(4):
        body["payment_status"] = pick.one(PAYMENT_STATUSES)
    pin = Pin(
        id=uid or "",
        customer_ref=None,
        customer_index=None,
        status=status,
        kind=kind,
        period_start=start,
        period_end=end,
        issued_at=issued_at,
        currency=currency,
        contract_id=contract,
        quantities=quantities,
    )
    return body, pin


def anchor_invoices(
    pick: _Pick, ids: _Ids, now: int, contract_ids: list[str]
) -> tuple[list[dict], list[Pin]]:
    """Every status and every type at least once, the ended ones all on one period, issued at
    one instant, the drafts all on the period open at `now`."""
    kinds = pick.permutation(KINDS)
    statuses = pick.permutation(STATUSES)
    past = periods(pick, now, "finalized")
    issued = pick.one((past[1], past[0], now))
    current = periods(pick, now, "draft")
    bodies, pins = [], []
    for index, kind in enumerate(kinds):
        status = statuses[index % len(statuses)]
        body, pin = pinned_invoice(
            pick,
            ids,
            now,
            contract_ids,
            status=status,
            kind=kind,
            period=current if status == "draft" else past,
            issued_at=None if status == "draft" else issued,
        )
        bodies.append(body)
        pins.append(pin)
    return bodies, pins


def profiles(pick: _Pick, top_level: bool) -> dict[str, Any]:
    """An `invoices:` section: history length, contracts, and mixes with every status and type."""
    profile: dict[str, Any] = {}
    if top_level or pick.chance(2):
        profile["months"] = pick.number(1, 4 if top_level else 3)
    if pick.chance(2):
        profile["contracts"] = pick.number(1, 2)
    if pick.chance(2):
        profile["zero_qty_share"] = pick.one((0, 0.3, 1))
    if top_level or pick.chance(2):
        profile["void_share"] = pick.one((0, 0.25, 0.6))
        profile["status_mix"] = {"finalized": pick.one((1, 3)), "uncollectible": 1}
        profile["type_mix"] = {kind: pick.one((0, 1, 2)) for kind in KINDS} | {"usage": 1}
    if pick.chance(2):
        chosen = pick.permutation(CURRENCIES[:3])[: pick.number(1, 3)]
        profile["currencies"] = {code: 1 for code in chosen}
    return profile


def pinned_customers(pick: _Pick, ids: _Ids, now: int) -> tuple[list[dict], list[Pin]]:
    count = pick.number(1, 3)
    alias_pool = pick.permutation(ALIASES)
    prefixed = list(SHARED_PREFIX_IDS)
    customers, pins = [], []
    for index in range(count):
        customer: dict[str, Any] = {}
        id_form = pick.one(("random", "shared-prefix", "none", "none")) if index else "random"
        if id_form == "random":
            customer["id"] = ids.uuid()
        elif id_form == "shared-prefix":
            customer["id"] = prefixed.pop(0)
        named = [c["name"] for c in customers if "name" in c]
        anonymous = [c["name"] for c in customers if "name" in c and "id" not in c]
        if anonymous and "id" not in customer and pick.chance(2):
            customer["name"] = pick.one(anonymous)  # the same name, and no id either
        elif named and pick.chance(3):
            customer["name"] = pick.one(named)  # customer_name ties
        elif index == 0 or not pick.chance(4):
            customer["name"] = pick.one(NAMES)
        aliases = [alias_pool.pop() for _ in range(pick.number(0, 2))]
        if len(aliases) == 1 and pick.chance(2):
            customer["alias"] = aliases[0]
        elif aliases or pick.chance(2):
            customer["aliases"] = aliases
        customer["currency"] = pick.one(CURRENCIES)
        if index:
            archived = pick.one(("no", "no", "flag", "date"))
            if archived == "flag":
                customer["archived"] = True
            elif archived == "date":
                customer["archived_at"] = fixture_time(pick, add_months(month_start(now), -1))
        contract_ids: list[str] = []
        if pick.chance(2):
            contract_ids = [ids.uuid() for _ in range(pick.number(1, 2))]
            customer["contracts"] = [
                {"id": cid, "name": f"Plan {k}"}
                | ({"starts_at": fixture_time(pick, add_months(month_start(now), -2))} if k else {})
                for k, cid in enumerate(contract_ids)
            ]
        section = profiles(pick, top_level=False)
        bodies: list[dict] = []
        own: list[Pin] = []
        if index == 0:
            bodies, own = anchor_invoices(pick, ids, now, contract_ids)
        for _ in range(pick.number(0, 3)):
            body, pin = pinned_invoice(pick, ids, now, contract_ids)
            bodies.append(body)
            own.append(pin)
        if bodies:
            section["pinned"] = bodies
        if section:
            customer["invoices"] = section
        customers.append(customer)
        pins += [_with(pin, customer_index=index) for pin in own]
    return customers, pins


def customer_refs(customer: dict[str, Any]) -> list[str]:
    """The names a top-level pinned invoice may use for a pinned customer: id, name, aliases."""
    refs = [customer.get("id"), customer.get("name"), customer.get("alias"), *customer.get("aliases", [])]
    return [ref for ref in refs if ref]


def _with(pin: Pin, **changes: Any) -> Pin:
    return Pin(**{**pin.__dict__, **changes})


@st.composite
def world_cases(draw) -> WorldCase:
    pick, ids = _Pick(draw), _Ids(draw)
    now = pick.one(NOWS)
    spec: dict[str, Any] = {"seed": draw(st.integers(0, 2**63 - 1)), "now": fixture_time(pick, now)}
    if pick.chance(2):
        spec["metronome"] = {"default_sort": pick.one(("date_asc", "date_desc"))}
    if pick.chance(2):
        spec["meteroid"] = {"dialect": pick.one(("documented", "upstream"))}
    if pick.chance(4):
        spec["auth"] = {"tokens": ["ci-token", "dev-token"]}
    spec["generate"] = {"customers": pick.number(0, 3), "archived_share": pick.one((0, 0.5, 1))}
    profile = profiles(pick, top_level=True)
    customers, pins = pinned_customers(pick, ids, now)
    top: list[dict] = []
    owners: dict[str, set[int]] = {}
    for index, customer in enumerate(customers):
        for ref in customer_refs(customer):
            owners.setdefault(ref, set()).add(index)
    for _ in range(pick.number(0, 2)):
        target = pick.number(0, len(customers) - 1)
        refs = [ref for ref in customer_refs(customers[target]) if owners[ref] == {target}]
        if not refs:
            continue
        ref = pick.one(refs)
        contracts = [c["id"] for c in customers[target].get("contracts", [])]
        body, pin = pinned_invoice(pick, ids, now, contracts)
        top.append({"customer": ref, **body})
        pins.append(_with(pin, customer_ref=ref, customer_index=target))
    if top:
        profile["pinned"] = top
    spec["invoices"] = profile
    spec["customers"] = customers
    text = yaml.dump(spec, Dumper=DUMPER, sort_keys=False, allow_unicode=True, width=1000)
    return WorldCase(text, spec, tuple(pins))


def worlds() -> st.SearchStrategy[WorldCase]:
    return world_cases()


# --- spelled instants -------------------------------------------------------------------------------


def spell_instant(micros: int, form: str, offset: timezone) -> str:
    """An instant (epoch microseconds) in one of the forms the Metronome SDK sends."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    spec = "milliseconds" if micros % 1000 == 0 else "microseconds"
    if form == "millis-z":
        return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
    if form == "z":
        return moment.replace(tzinfo=None).isoformat() + "Z"
    if form == "offset":
        return moment.astimezone(offset).isoformat()
    if form == "naive":
        return moment.replace(tzinfo=None).isoformat()
    if form == "date":
        assert micros % (DAY * 10**6) == 0
        return moment.date().isoformat()
    raise AssertionError(form)


@st.composite
def spelled(draw, micros: int) -> str:
    forms = ["millis-z", "z", "offset", "naive"] + (["date"] if micros % (DAY * 10**6) == 0 else [])
    return spell_instant(micros, draw(st.sampled_from(forms)), draw(st.sampled_from(OFFSETS)))


def spell_in_turn(micros: int, turn: int) -> str:
    """The `turn`-th of the spellings an instant has (forms and offsets in rotation)."""
    forms = ["millis-z", "z", "offset", "naive"] + (["date"] if micros % (DAY * 10**6) == 0 else [])
    return spell_instant(micros, forms[turn % len(forms)], OFFSETS[turn // len(forms) % len(OFFSETS)])


@st.composite
def instants(draw, boundaries: Iterable[int]) -> int:
    """Epoch microseconds: mostly on or right next to a period boundary, where off-by-ones live."""
    candidates = sorted(set(boundaries))
    base = draw(st.sampled_from(candidates)) if candidates else NOWS[0]
    nudge = draw(
        st.sampled_from([0] * 8 + [-1_000_000, 1_000_000, 1_000, -1_000, 1, -1, 500_000, DAY * 10**6])
    )
    return base * 10**6 + nudge


def as_fraction(micros: int) -> Fraction:
    return Fraction(micros, 10**6)


encodings = st.sampled_from(["sdk", "readable"])


# --- Metronome requests -------------------------------------------------------------------------------

METRONOME_FILTER_KEYS = ("status", "type", "credit_type_id", "contract_id", "starting_on", "ending_before")


@dataclass(frozen=True)
class MetronomeRequest:
    customer_id: str
    pairs: tuple[tuple[str, str], ...]  # the filters, sort and extras, without limit or cursor
    want: oracle.MetronomeFilters


def boundaries_of(world: World, customer_id: str) -> list[int]:
    return sorted(
        {
            t
            for inv in oracle.invoices(world)
            if inv.customer.id == customer_id
            for t in (inv.period_start, inv.period_end)
        }
    )


def period_bounds(world: World, customer_id: str) -> tuple[list[int], list[int]]:
    """The customer's period starts and period ends."""
    mine = [inv for inv in oracle.invoices(world) if inv.customer.id == customer_id]
    return sorted({inv.period_start for inv in mine}), sorted({inv.period_end for inv in mine})


@st.composite
def metronome_filter_value(draw, world: World, customer_id: str, key: str) -> tuple[str, Any]:
    """(what is sent, what it means) for one filter key."""
    if key == "status":
        value = draw(st.sampled_from(sorted(oracle.METRONOME_STATUS)))
        return value, value
    if key == "type":
        value = draw(st.sampled_from(sorted(oracle.METRONOME_TYPE)))
        return value, value
    if key == "credit_type_id":
        own = sorted({inv.currency for inv in oracle.invoices(world) if inv.customer.id == customer_id})
        choice = draw(st.sampled_from(own * 4 + ["USD", "EUR", "GBP", "JPY", "XXX", "random"]))
        uid = str(draw(st.uuids(version=4))) if choice == "random" else credit_type_id(choice)
        return draw(st.sampled_from([uid, uid, uid.upper()])), uid
    if key == "contract_id":
        own = [c.id for c in world.contracts if world.customers[c.customer].id == customer_id]
        others = [c.id for c in world.contracts if world.customers[c.customer].id != customer_id]
        choices = [st.uuids(version=4).map(str)] + [st.sampled_from(ids) for ids in (own, others) if ids]
        uid = draw(st.one_of(choices))
        return uid, uid
    starts, ends = period_bounds(world, customer_id)
    # Mostly the boundary the filter compares with, sometimes the other kind.
    own, other = (starts, ends) if key == "starting_on" else (ends, starts)
    micros = draw(instants(draw(st.sampled_from([own, own, own, other]))))
    return draw(spelled(micros)), as_fraction(micros)


@st.composite
def metronome_filters(
    draw, world: World, customer_id: str, keys: Iterable[str] | None = None
) -> dict[str, tuple]:
    """Filters over a subset of keys: key -> (sent, meant)."""
    if keys is None:
        # The period filters twice as likely: their boundaries are where off-by-ones live.
        weighted = [*METRONOME_FILTER_KEYS, "starting_on", "ending_before"]
        keys = draw(st.lists(st.sampled_from(weighted), max_size=4, unique=True))
    return {key: draw(metronome_filter_value(world, customer_id, key)) for key in keys}


def metronome_want(filters: dict[str, tuple], sort: str | None) -> oracle.MetronomeFilters:
    return oracle.MetronomeFilters(sort=sort, **{key: meant for key, (_, meant) in filters.items()})


@st.composite
def metronome_customers(draw, world: World) -> str:
    """Any customer, those with invoices more often than those without."""
    billed = {inv.customer.id for inv in oracle.invoices(world)}
    return draw(st.sampled_from([c.id for c in world.customers for _ in range(4 if c.id in billed else 1)]))


@st.composite
def metronome_requests(draw, world: World, customer_id: str | None = None) -> MetronomeRequest:
    if customer_id is None:
        customer_id = draw(metronome_customers(world))
    filters = draw(metronome_filters(world, customer_id))
    sort = draw(st.sampled_from([None, "date_asc", "date_desc"]))
    pairs = [(key, sent) for key, (sent, _) in filters.items()]
    if sort is not None:
        pairs.append(("sort", sort))
    if draw(st.integers(0, 3)) == 0:
        pairs.append(("include_historical_commit_invoices", draw(st.sampled_from(["true", "false"]))))
    if draw(st.integers(0, 3)) == 0:
        pairs.append(("webhook_notification_id", draw(st.text(TEXT, max_size=12))))
    pairs = draw(st.permutations(pairs))
    return MetronomeRequest(customer_id, tuple(pairs), metronome_want(filters, sort))


limits = st.one_of(st.integers(1, 4), st.integers(1, 100), st.none())


# --- Meteroid requests --------------------------------------------------------------------------------

METEROID_FILTER_KEYS = ("customer_id", "subscription_id", "statuses")


@st.composite
def meteroid_customer_ids(draw, world: World) -> str:
    """A customer's id, its (first) alias, one of its other aliases, its raw UUID, or an id or
    alias nobody has."""
    forms = ["id", "raw-uuid", "unknown-id", "unknown-alias"]
    if any(c.aliases for c in world.customers):
        forms.append("alias")
    if any(len(c.aliases) > 1 for c in world.customers):
        forms.append("other-alias")
    form = draw(st.sampled_from(forms))
    if form == "alias":
        return draw(st.sampled_from([c.aliases[0] for c in world.customers if c.aliases]))
    if form == "other-alias":
        return draw(st.sampled_from([a for c in world.customers for a in c.aliases[1:]]))
    if form == "unknown-id":
        return oracle.meteroid_id("cus_", str(draw(st.uuids(version=4))))
    if form == "unknown-alias":
        return draw(st.sampled_from(["nobody", "cus_", "cus_-", "ACME", "acme "]))
    customer = draw(st.sampled_from(world.customers))
    return oracle.meteroid_id("cus_", customer.id) if form == "id" else customer.id


@st.composite
def meteroid_subscription_ids(draw, world: World) -> str:
    known = [c.id for c in world.contracts]
    uid = draw(st.sampled_from(known + known + known + ["unknown"]))
    if uid == "unknown":
        uid = str(draw(st.uuids(version=4)))
    form = draw(st.sampled_from(["sub", "sub", "uuid", "upper-uuid"]))
    if form == "sub":
        return oracle.meteroid_id("sub_", uid)
    return uid if form == "uuid" else uid.upper()


@st.composite
def meteroid_filters(draw, world: World, dialect: str, keys: Iterable[str] | None = None) -> dict[str, Any]:
    """key -> the values sent (a list for the repeated `statuses`)."""
    if keys is None:
        keys = draw(st.lists(st.sampled_from(METEROID_FILTER_KEYS), max_size=3, unique=True))
    found: dict[str, Any] = {}
    for key in keys:
        if key == "customer_id":
            found[key] = draw(meteroid_customer_ids(world))
        elif key == "subscription_id":
            found[key] = draw(meteroid_subscription_ids(world))
        else:
            names = sorted(oracle.METEROID_STATUS[dialect])
            found[key] = draw(st.lists(st.sampled_from(names), min_size=1, max_size=5))
    return found


def meteroid_pairs(filters: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for key, value in filters.items():
        if key == "statuses":
            pairs += [(key, name) for name in value]
        else:
            pairs.append((key, value))
    return pairs


def meteroid_want(filters: dict[str, Any], order_by: str | None) -> oracle.MeteroidFilters:
    return oracle.MeteroidFilters(
        customer_id=filters.get("customer_id"),
        subscription_id=filters.get("subscription_id"),
        statuses=tuple(filters.get("statuses", ())),
        order_by=order_by,
    )


order_bys = st.none() | st.builds(
    "{}.{}".format, st.sampled_from(oracle.METEROID_COLUMNS), st.sampled_from(["asc", "desc"])
)
per_pages = st.one_of(st.integers(1, 4), st.integers(1, 100), st.none())


# --- junk -----------------------------------------------------------------------------------------------

junk_text = st.text(TEXT, max_size=30) | st.sampled_from(
    [
        "",
        " ",
        "-1",
        "0",
        "101",
        "1e2",
        "99999999999999999999999",
        "true",
        "TRUE",
        "null",
        "%",
        "%zz",
        "date_asc ",
        "2024-13-01",
        "2024-02-30T00:00:00Z",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:00:00.1234567890Z",
        "cus_",
        "sub_",
        "sub_zzzzzzzzzzzzzzzzzzzzzzzz",
        "created_at.",
        ".asc",
        "status.ASC",
        str(uuid.UUID(int=0)),
    ]
)
# Raw query strings a client may put on the request line: printable ASCII without space or `#`,
# with stray and malformed percent escapes (`%`, `%zz`) and escapes of bytes that are not UTF-8.
raw_junk = st.lists(
    st.sampled_from(list("abc=&%+;?/09AFz[]~!$'()*,:@.-_"))
    | st.sampled_from(["%FF", "%C3%A9", "%00", "%zz", "%2", "%25"]),
    max_size=20,
).map("".join)


def junk_pairs(known: tuple[str, ...]) -> st.SearchStrategy[list[tuple[str, str]]]:
    keys = st.sampled_from(known) | st.text(TEXT, max_size=8)
    return st.lists(st.tuples(keys, junk_text), min_size=1, max_size=5)
