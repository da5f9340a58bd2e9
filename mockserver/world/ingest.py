"""Usage events reaching the world: checked and de-duplicated as one batch, then metered on
the drafts whose billing periods hold them.

A batch is resolved whole before anything is applied: every event's customer, timestamp and
window is checked and duplicates (against the world and within the batch) are dropped, so a
refused batch changes nothing. The resolved batch, logged, holds each event as it was
accepted (its customer by id, its timestamp in one spelling) and resolves to itself again,
so a replay meters the same events in the same order.

Where an event lands: on each metric it matches, the customer's first open draft (in contract
order) whose billing period holds its timestamp and whose contract bills that metric. An
event no draft holds (backdated into a finalized period, or for a customer with no contract)
is accepted and changes no invoice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, repeat
from operator import itemgetter, methodcaller
from typing import Any

from mockserver.world import clock, lifecycle, pending
from mockserver.world.errors import Args, ChangeError, Reason, Unchanged
from mockserver.world.metering import Aggregate, copied
from mockserver.world.model import Invoice
from mockserver.world.remembered import Remembered, digest, digests
from mockserver.world.state import Changing, World

HOUR = 3_600
WINDOW = 34 * clock.DAY  # how long both APIs remember an event's key (counted back from now)


@dataclass(frozen=True)
class Policy:
    """How an API names, windows and de-duplicates events. Events are read and logged in the
    API's own spelling: `timestamp` and `properties`, and the three fields named here."""

    max_age: int  # seconds an event may lie before now (unless backfilling)
    max_ahead: int | None  # seconds it may lie after now; None: any
    per_customer: bool  # keys are unique per customer (else across the account)
    batch: str  # what the API calls the list of events, for its messages
    key: str
    customer: str
    code: str
    keeps_unknown: bool = False  # an event for no customer yet is kept (`pending`), not refused


POLICIES = {
    # transaction_id, remembered 34 days; from 34 days back to 24 hours ahead; usage for an
    # id or alias no customer has yet is kept until one has it
    "metronome": Policy(
        pending.KEPT_FOR,
        24 * HOUR,
        per_customer=False,
        batch="usage",
        key="transaction_id",
        customer="customer_id",
        code="event_type",
        keeps_unknown=True,
    ),
    # (event_id, customer_id), remembered 34 days; between 24 hours ago and 1 hour ahead
    # unless allow_backfilling
    "meteroid": Policy(
        24 * HOUR,
        HOUR,
        per_customer=True,
        batch="events",
        key="event_id",
        customer="customer_id",
        code="code",
    ),
}


def _duration(seconds: int) -> str:
    if seconds % clock.DAY == 0 and seconds > clock.DAY:
        return f"{seconds // clock.DAY} days"
    return f"{seconds // HOUR} hour" + ("s" if seconds > HOUR else "")


def _outside(at: int, limit: int, side: str, now: int) -> str:
    return f"{clock.format_z(at)} is more than {_duration(limit)} {side} now ({clock.format_z(now)})"


class EventError(ValueError):
    """An event refused: the field at fault and why."""

    def __init__(self, field: str, message: str, reason: Reason = "invalid") -> None:
        super().__init__(message)
        self.field, self.reason = field, reason

    def where(self, policy: Policy, index: int) -> str:
        """`usage[3].customer_id`: the event and the field, as the API names them."""
        return f"{policy.batch}[{index}]" + (f".{self.field}" if self.field else "")


def checker(world: World, policy: Policy, backfill: bool) -> Callable[[Any], Args]:
    """The check of a batch's events: each event as it is logged (its customer by id, its
    timestamp in one spelling), or EventError naming the field at fault. What every event of
    the batch reads is looked up once."""
    key_name, customer_name, code_name = names = (policy.key, policy.customer, policy.code)
    now = world.now
    earliest = None if backfill else now - policy.max_age
    latest = None if policy.max_ahead is None else now + policy.max_ahead
    customer_ordinal, customers = world.customer_ordinal, world.customers
    keeps_unknown = policy.keeps_unknown
    parse, format_z = clock.parse_timestamp, clock.format_z
    ids: dict[str, str] = {}  # customer id or alias -> id
    stamps: dict[Any, str] = {None: format_z(now)}  # timestamp as sent -> as logged

    def check(event: Any) -> Args:
        if type(event) is not dict:
            raise EventError("", "must be an object")
        key, customer, code = event.get(key_name), event.get(customer_name), event.get(code_name)
        if not (
            type(key) is str and key and type(customer) is str and customer and type(code) is str and code
        ):
            name = next(n for n in names if not isinstance(event.get(n), str) or not event[n])
            raise EventError(name, "must be a non-empty string")
        properties = event.get("properties")
        if properties is not None and type(properties) is not dict:
            raise EventError("properties", "must be an object")
        customer_id = ids.get(customer)
        if customer_id is None:
            ordinal = customer_ordinal(customer)
            if ordinal is not None:
                customer_id = ids[customer] = customers[ordinal].id
            elif keeps_unknown:
                customer_id = customer  # kept until a customer has it
            else:
                raise EventError(
                    customer_name, f"{customer!r} matches no customer id or ingest alias", "unknown"
                )
        text = event.get("timestamp")
        stamp = stamps.get(text) if type(text) is str or text is None else None
        if stamp is None:
            stamp = stamps[text] = format_z(timestamp(text))
        logged: Args = {key_name: key, customer_name: customer_id, code_name: code, "timestamp": stamp}
        if properties:
            logged["properties"] = properties
        return logged

    def timestamp(text: Any) -> int:
        try:
            at = parse(text).floor
        except (TypeError, ValueError, AttributeError):
            raise EventError(
                "timestamp", f"{text!r} is not an RFC 3339 timestamp in the years 0001 to 9999"
            ) from None
        if earliest is not None and at < earliest:
            raise EventError("timestamp", _outside(at, policy.max_age, "before", now))
        if latest is not None and at > latest:
            raise EventError("timestamp", _outside(at, policy.max_ahead, "after", now))
        return at

    return check


def resolve(world: World, args: Args) -> Args | Unchanged:
    """`{"policy", "events", "backfill"?, "partial"?, "failures"?}` -> the events accepted.

    Refused events fail the batch, unless `partial`: then they are listed in `failures`.
    Duplicates are dropped without a word, as both APIs do; a batch of which no event is
    accepted changes nothing."""
    unknown = set(args) - {"policy", "events", "backfill", "partial", "failures"}
    if unknown:
        raise ChangeError(f"ingest: unknown field {sorted(unknown)[0]!r}")
    policy = POLICIES.get(args.get("policy"))  # type: ignore[arg-type]
    if policy is None:
        raise ChangeError(f"ingest: policy must be one of {', '.join(POLICIES)}")
    events, backfill, partial = args.get("events"), args.get("backfill", False), args.get("partial", False)
    if not isinstance(events, list) or not isinstance(backfill, bool) or not isinstance(partial, bool):
        raise ChangeError("ingest: events is a list; backfill and partial are booleans")
    failures = list(args.get("failures", []))
    checked: list[Args] = []
    check = checker(world, policy, backfill)
    for index, event in enumerate(events):
        try:
            checked.append(check(event))
        except EventError as exc:
            where = exc.where(policy, index)
            if not partial:
                raise ChangeError(f"{where}: {exc}", exc.reason) from None
            key = event.get(policy.key) if isinstance(event, dict) else None
            failures.append({"id": key if isinstance(key, str) else "", "reason": f"{where}: {exc}"})
    accepted, kept = _new(world, policy, args["policy"], checked)
    if not accepted:
        return Unchanged({"accepted": 0, "failures": failures})
    resolved: Args = {"policy": args["policy"], "events": accepted}
    if backfill:
        resolved["backfill"] = True
    if partial:
        resolved["partial"] = True
    if failures:
        resolved["failures"] = failures
    _resolved.last = (accepted, kept)
    return resolved


def as_logged(world: World, args: Args) -> Args:
    """A batch read from the log, checked for the shape `resolve` logs it in, before it is
    applied again. Its writer resolved it against this very world (the same seq), so resolving
    it again, most of what a process following the log does, would give it back unchanged;
    what apply reads is checked instead (fields, their types, each distinct timestamp and, where
    the API keeps no usage for unknown customers, each distinct customer), so that a batch
    that is not one is refused before any of it is applied."""
    policy = POLICIES.get(args.get("policy"))  # type: ignore[arg-type]
    events = args.get("events")
    if policy is None or type(events) is not list or not events:
        raise ChangeError("ingest: not a batch as it is logged")
    try:
        fields = list(map(itemgetter(policy.key, policy.customer, policy.code, "timestamp"), events))
    except (KeyError, TypeError, IndexError):
        raise ChangeError("ingest: an event lacks a field it is logged with") from None
    values = list(chain.from_iterable(fields))
    properties = list(filter(None, map(methodcaller("get", "properties"), events)))
    if not all(map(isinstance, values, repeat(str))) or not all(map(isinstance, properties, repeat(dict))):
        raise ChangeError("ingest: an event's field is not of the type it is logged with")
    for stamp in {field[3] for field in fields}:
        try:
            logged = clock.format_z(clock.parse_timestamp(stamp).floor) == stamp
        except (TypeError, ValueError, AttributeError):
            logged = False
        if not logged:
            raise ChangeError(f"ingest: {stamp!r} is not a timestamp as it is logged")
    if not policy.keeps_unknown and not {field[1] for field in fields} <= world.customer_by_id.keys():
        raise ChangeError("ingest: an event names a customer this world does not have")
    return args


def _new(world: World, policy: Policy, api: str, events: list[Args]) -> tuple[list[Args], Digested]:
    """The events neither remembered nor met earlier in the batch, with their digests and the
    places the key table found for them."""
    batch = _digests(policy, events)
    keys = world.ingested.get(api)
    places = keys.unseen(batch, world.now) if keys is not None else [0] * len(batch)
    built = -1 if keys is None else keys.built
    if min(places, default=0) >= 0 and len(set(batch)) == len(batch):  # no duplicate: the usual
        return events, Digested(batch, None if keys is None else places, built)
    accepted: list[Args] = []
    kept: list[int] = []
    kept_places: list[int] = []
    met: set[int] = set()
    for event, key, place in zip(events, batch, places, strict=True):
        if place >= 0 and key not in met:
            met.add(key)
            accepted.append(event)
            kept.append(key)
            kept_places.append(place)
    return accepted, Digested(kept, None if keys is None else kept_places, built)


def remembered(world: World, api: str, key: str, customer: str = "") -> bool:
    """Whether an event with this key (and, where keys are per customer, this customer id)
    was ingested less than the window ago."""
    keys = world.ingested.get(api)
    parts = (key, customer) if POLICIES[api].per_customer else (key,)
    return keys is not None and keys.seen(digest(*parts), world.now)


def _digests(policy: Policy, events: list[Args]) -> list[int]:
    """What each event is remembered by: its key, per customer where the API says so."""
    key, customer = policy.key, policy.customer
    if policy.per_customer:
        return digests(f"{event[key]}\x1f{event[customer]}" for event in events)
    return digests(event[key] for event in events)


@dataclass(frozen=True)
class Digested:
    """A batch's digests, and where the key table placed them (None: no table yet) while it
    was built as it was (`Remembered.built`)."""

    keys: list[int]
    places: list[int] | None
    built: int


class _Resolved:
    """The digests of the batch resolved last, so that applying it right after hashes no
    event again and finds its keys' places at once (a batch applied otherwise, from the log,
    is hashed anew)."""

    last: tuple[list[Args], Digested] | None = None

    def digests(self, policy: Policy, events: list[Args]) -> Digested:
        last = self.last
        self.last = None
        if last is not None and last[0] is events:
            return last[1]
        return Digested(_digests(policy, events), None, -1)


_resolved = _Resolved()


def apply(world: World, args: Args) -> Args:
    """Remember every event's key; meter each on the drafts it lands on, or keep it for the
    customer it names if none has that id or alias yet."""
    policy = POLICIES[args["policy"]]
    customer_name = policy.customer
    now = world.now
    events = args["events"]
    keys = world.ingested.get(args["policy"])
    if keys is None:
        keys = world.ingested[args["policy"]] = Remembered(WINDOW)
    keys.forget(now)
    digested = _resolved.digests(policy, events)
    keys.add(digested.keys, now, digested.places, digested.built)
    customer_by_id = world.customer_by_id
    known: list[tuple[int, Args]] = []
    with world.changing(now) as change:
        for event in events:
            customer = customer_by_id.get(event[customer_name])
            if customer is None:
                world.pending.keep(
                    event[customer_name], clock.parse_timestamp(event["timestamp"]).floor, event
                )
            else:
                known.append((customer, event))
        meter(world, change, policy, known)
    return {"accepted": len(events), "failures": args.get("failures", [])}


def meter(world: World, change: Changing, policy: Policy, events: list[tuple[int, Args]]) -> None:
    """Count each (customer, logged event) on the drafts it lands on, then price those again.

    Events alike (the same customer, code, timestamp and properties) are counted together:
    what they match, the drafts they land on and their count are found once."""
    code_name, matches, add = policy.code, world.metering.matches, world.metering.add
    alike: dict[Any, list] = {}  # (customer, code, timestamp, *properties) -> [customer, event, count]
    for customer, event in events:
        properties = event.get("properties")
        try:
            shape: Any = (customer, event[code_name], event["timestamp"], *(properties or {}).items())
            found = alike.get(shape)
        except TypeError:  # a property holds a list or an object: counted on its own
            shape, found = object(), None
        if found is None:
            alike[shape] = [customer, event, 1]
        else:
            found[2] += 1
    usage: dict[int, dict] = {}  # the drafts metered, and their usage
    drafts_of: dict[int, list[int]] = {}
    for customer, event, times in alike.values():
        matched = matches(event[code_name], event.get("properties") or {})
        if not matched:
            continue
        drafts = drafts_of.get(customer)
        if drafts is None:
            drafts = drafts_of[customer] = world.customer_drafts(customer)
        if not drafts:
            continue
        at = clock.parse_timestamp(event["timestamp"]).floor
        for metric, value in matched:
            draft = _landing(world, drafts, metric, at)
            if draft is not None:
                found = usage.get(draft)
                if found is None:
                    found = usage[draft] = change.usage(draft)
                add(found, metric, value, times)
    for draft in sorted(usage):
        lifecycle.repriced(world, change, draft, world.now)


def attribute(world: World, customer: int) -> int:
    """Meter the usage kept for the customer's id and aliases, now that a customer has them;
    how many events that was. Only Metronome keeps such usage (its policy's names)."""
    found = world.customers[customer]
    events = world.pending.claim((found.id, *found.aliases), world.now)
    if events:
        with world.changing(world.now) as change:
            meter(world, change, POLICIES["metronome"], [(customer, event) for event in events])
    return len(events)


def _landing(world: World, drafts: list[int], metric: int, at: int) -> int | None:
    """The first of a customer's drafts whose period holds `at` and whose contract bills `metric`."""
    cols, billed = world.cols, world.billed
    for draft in drafts:
        if cols.period_start[draft] <= at < cols.period_end[draft] and metric in billed[cols.contract[draft]]:
            return draft
    return None


def preview(
    world: World, customer: int, events: list[tuple[str, int, dict[str, Any]]], merge: bool
) -> list[Invoice]:
    """The customer's open drafts as they would be with `events` (code, time, properties)
    metered on them, on top of their usage (`merge`) or instead of it; nothing is saved."""
    usage: dict[int, dict[int, Aggregate]] = {}
    drafts = world.customer_drafts(customer)
    for draft in drafts:
        usage[draft] = copied(world.usage.get(draft, {})) if merge else {}
    for code, at, properties in events:
        for metric, value in world.metering.matches(code, properties):
            draft = _landing(world, drafts, metric, at)
            if draft is not None:
                world.metering.add(usage[draft], metric, value)
    return [
        world.compose(draft, usage[draft], lifecycle.draft_amounts(world, draft, world.now, usage[draft]))
        for draft in drafts
    ]
