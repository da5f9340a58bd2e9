"""Changes as values: what each kind of change takes, how it is checked, and how it is applied.

A change is accepted only once its arguments are checked against the world as it stands, and
is logged in its resolved form (a clock advance by `P1M` is logged as the time it moved to),
so that applying the log again, in any process, reaches the same world byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson

from mockserver.world import accounts, clock, ingest, lifecycle, webhooks
from mockserver.world.errors import Args, ChangeError, Unchanged
from mockserver.world.faults import RuleError, parse_rules
from mockserver.world.state import World

__all__ = [
    "FIXTURE",
    "KINDS",
    "Args",
    "Build",
    "Change",
    "ChangeError",
    "Unchanged",
    "apply",
    "replaced",
    "resolve",
]

FIXTURE = "fixture"  # a change that replaces the world with a new fixture's: see `replaced`
# The world of a fixture's text, generated; ChangeError (check's one line) if the text is no
# fixture. Given by whoever reads fixtures (the shell): the world does not.
Build = Callable[[str], World]
# What a fixture sets about how the server serves, fixed when it starts: (field, its path).
SERVING = (
    ("tokens", "auth.tokens"),
    ("control_token", "auth.control_token"),
    ("isolation", "isolation"),
    ("dialect", "meteroid.dialect"),
    ("default_sort", "metronome.default_sort"),
)


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    kind: str
    args: Args

    def line(self) -> bytes:
        """The change as one JSON line (keys sorted, so the same change is the same bytes)."""
        return orjson.dumps({"seq": self.seq, "kind": self.kind, **self.args}, option=orjson.OPT_SORT_KEYS)

    @classmethod
    def from_line(cls, line: bytes) -> Change:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ChangeError(f"not JSON ({exc})") from None
        if not isinstance(value, dict):
            raise ChangeError("a change is a JSON object")
        seq, kind = value.pop("seq", None), value.pop("kind", None)
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ChangeError("seq must be a positive integer")
        if kind not in KINDS and kind != FIXTURE:
            raise ChangeError(f"kind must be one of {', '.join(sorted([*KINDS, FIXTURE]))}, got {kind!r}")
        return cls(seq, kind, value)


def _only(args: Args, allowed: set[str], what: str) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "nothing"
        raise ChangeError(f"{what}: unknown field {unknown[0]!r}; expected {expected}")


def _clock(world: World, args: Args) -> Args:
    """`{"advance": "<ISO 8601 duration>"}` or `{"to": "<RFC 3339>"}` -> `{"to": <RFC 3339 Z>}`.

    A well-formed move the clock cannot make where it stands (not later, past the horizon) is
    a `conflict` with the world, not a malformed request."""
    _only(args, {"advance", "to"}, "clock")
    if len(args) != 1:
        raise ChangeError(
            'clock: give exactly one of "advance" (an ISO 8601 duration) or "to" (an RFC 3339 time)'
        )
    ((name, value),) = args.items()
    if not isinstance(value, str):
        raise ChangeError(f"clock: {name} must be a string, got {orjson.dumps(value).decode()}")
    try:
        to = clock.add_duration(world.now, value) if name == "advance" else clock.parse_timestamp(value).floor
    except clock.OutOfRange as exc:
        raise ChangeError(f"clock: {name}: {exc}", "conflict") from None
    except (ValueError, OverflowError) as exc:
        raise ChangeError(f"clock: {name}: {exc}") from None
    if to <= world.now:
        raise ChangeError(
            f"clock: the clock only moves forward; it is {clock.format_z(world.now)} and "
            f"{clock.shown(value)} is not later",
            "conflict",
        )
    if to > clock.LATEST:
        raise ChangeError(f"clock: {name}: {clock.shown(value)} is past the year 9999", "conflict")
    start = world.fixture.now
    if to > (limit := clock.horizon(start)):
        raise ChangeError(
            f"clock: {name}: {clock.shown(value)} moves the clock to {clock.format_z(to)}, past its "
            f"horizon {clock.format_z(limit)} ({clock.HORIZON_YEARS} years after the fixture's "
            f"{clock.format_z(start)}); POST /_mock/reset starts again",
            "conflict",
        )
    return {"to": clock.format_z(to)}


def _apply_clock(world: World, args: Args) -> Args:
    previous = world.now
    counts = lifecycle.advance(world, clock.parse_timestamp(args["to"]).floor)
    world.pending.forget(world.now)
    return {"previous": clock.format_z(previous), "now": clock.format_z(world.now), "changed": counts}


def _reset(world: World, args: Args) -> Args:
    _only(args, set(), "reset")
    return {}


def _apply_reset(world: World, args: Args) -> Args:
    world.reset()
    world.faults_since = world.seq + 1  # the fixture's rules again, counted from zero
    return {"now": clock.format_z(world.now)}


def _faults(world: World, args: Args) -> Args:
    """`{"rules": <a rule or a list of rules>}` -> `{"rules": [<rule>, ...]}`, each checked."""
    _only(args, {"rules"}, "faults")
    try:
        rules = parse_rules(args.get("rules"))
    except RuleError as exc:
        raise ChangeError(str(exc)) from None
    return {"rules": [rule.spec for rule in rules]}


def _apply_faults(world: World, args: Args) -> Args:
    # A new list, never one changed in place: a process's counters follow the list's identity.
    world.faults = [*world.faults, *parse_rules(args["rules"])]
    world.faults_since = world.seq + 1
    return {"added": len(args["rules"]), "rules": len(world.faults)}


def _clear_faults(world: World, args: Args) -> Args:
    _only(args, set(), "clear_faults")
    return {}


def _apply_clear_faults(world: World, args: Args) -> Args:
    world.faults = []
    world.faults_since = world.seq + 1
    return {"rules": 0}


# kind -> (check the arguments against the world and resolve them, apply them)
KINDS: dict[str, tuple[Callable[[World, Args], Args | Unchanged], Callable[[World, Args], Args]]] = {
    "clock": (_clock, _apply_clock),
    "reset": (_reset, _apply_reset),
    "faults": (_faults, _apply_faults),
    "clear_faults": (_clear_faults, _apply_clear_faults),
    "ingest": (ingest.resolve, ingest.apply),
    **accounts.KINDS,
    **webhooks.KINDS,
}


def resolve(world: World, kind: str, args: Args) -> Args | Unchanged:
    """The arguments of a change of `kind` as they will be logged; ChangeError if refused,
    Unchanged if accepted but changing nothing (nothing is logged). A `fixture` change is only
    checked for its shape here: its text is read by `replaced`."""
    if kind == FIXTURE:
        _only(args, {"text"}, FIXTURE)
        if not isinstance(args.get("text"), str):
            raise ChangeError('fixture: "text" must be the fixture (YAML or JSON) as a string')
        return {"text": args["text"]}
    return KINDS[kind][0](world, args)


def replaced(world: World, change: Change, build: Build) -> World:
    """The world a `fixture` change of `text` makes in place of `world`: the new fixture's, as
    a server started on it would serve it (its clock, customers, invoices, fault rules and
    webhook endpoints), numbered on from `world`'s changes. ChangeError, and nothing made, if
    the text is no fixture or would change how the server serves (its tokens, isolation,
    spellings: set when it starts). Its webhook events start from none, as at a start."""
    built = build(change.args["text"])
    for name, path in SERVING:
        if getattr(built.fixture, name) != getattr(world.fixture, name):
            raise ChangeError(
                f"fixture: {path}: differs from the running server's; it is set when the server "
                "starts: restart it with this fixture to change it"
            )
    built.seq = built.faults_since = change.seq  # its fault rules counted from zero
    return built


def reread(world: World, kind: str, args: Args) -> Args | Unchanged:
    """A logged change's arguments, checked before they are applied again: resolved anew,
    except a usage batch, whose shape alone is checked (it resolves to itself)."""
    if kind == "ingest":
        return ingest.as_logged(world, args)
    return resolve(world, kind, args)


def apply(world: World, change: Change) -> Args:
    """Apply a change already resolved; returns what it did."""
    result = KINDS[change.kind][1](world, change.args)
    world.seq = change.seq
    if world.hooks.endpoints:
        webhooks.give_birth(world, change.kind, change.args)
    return result
