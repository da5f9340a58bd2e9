"""Fault rules as values: what a rule may say, checked once, kept in the world.

A rule is part of the world (the fixture may list some, `POST /_mock/faults` adds more through
the log of changes), so every process serving the world holds the same rules. Checking is
strict and names the offending place (`[0].respond.status`), because a rule that silently
never matches is the worst kind of test failure. What a rule does to a request (counting,
drawing, answering) is the control plane's (`mockserver.control.faults`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from mockserver.world.depth import MAX_DEPTH, too_deep
from mockserver.world.glob import Glob, GlobError
from mockserver.world.operations import OPERATIONS

RULE_KEYS = ("match", "respond", "times", "after", "nth", "probability", "seed")
MATCH_KEYS = ("api", "operation", "method", "path", "query", "token")
RESPOND_KEYS = ("status", "headers", "body", "delay_ms", "jitter_ms", "seed", "drop")
MAX_DELAY_MS = 60_000  # a delay longer than any client's timeout tests nothing more


class RuleError(ValueError):
    """A rule that cannot be accepted; `path` names the offending place in what was sent."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path, self.message = path, message


@dataclass(frozen=True, slots=True)
class Rule:
    """One checked rule; `spec` is what was sent, as it is logged and listed."""

    spec: Mapping[str, Any]
    api: str | None
    operation: str | None
    method: str | None
    path: Glob | None
    query: tuple[tuple[str, str], ...]
    token: str | None
    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: Any
    has_body: bool
    delay_ms: int
    jitter_ms: int
    jitter_seed: int
    drop: bool
    times: int | None
    after: int
    nth: int
    probability: float | None
    seed: int


def glob(pattern: str, where: str) -> Glob:
    """A path glob (see `Glob`), which starts with `/`; RuleError naming `where` if malformed."""
    if not pattern.startswith("/"):
        raise RuleError(where, f"a path glob starts with '/', got {pattern!r}")
    try:
        return Glob(pattern)
    except GlobError as exc:
        raise RuleError(where, str(exc)) from None


@cache
def catalog() -> dict[str, dict[str, str]]:
    """Each emulated API's operations, `<api>.<operationId>` -> its method: what a rule may name."""
    return {api: {f"{api}.{name}": method for name, method in named} for api, named in OPERATIONS.items()}


def methods_of(methods: Iterable[str]) -> list[str]:
    """The methods requests to routes of `methods` come with: HEAD too, as GET routes serve it."""
    named = set(methods)
    return sorted(named | {"HEAD"} if "GET" in named else named)


def _known(texts: Mapping[str, str], where: str) -> None:
    """A rule's `api`, `operation` and `method` name what exists, and together (a rule that
    can never match would let a test pass for the wrong reason); RuleError listing what is
    allowed."""
    apis = catalog()
    api = texts.get("api")
    if api is not None and api not in apis:
        raise RuleError(_join(where, "api"), f"expected one of {', '.join(apis)}, got {api!r}")
    operations = {
        name: method for known, ops in apis.items() if api in (None, known) for name, method in ops.items()
    }
    operation = texts.get("operation")
    if operation is not None:
        named = {name: m for name, m in operations.items() if operation in (name, name.partition(".")[2])}
        if not named:
            raise RuleError(
                _join(where, "operation"),
                f"expected one of {', '.join(operations)} (or the part after the dot), got {operation!r}",
            )
        operations = named
    methods = methods_of(operations.values())
    method = texts.get("method")
    if method is not None and method not in methods:  # methods are case-sensitive
        raise RuleError(_join(where, "method"), f"expected one of {', '.join(methods)}, got {method!r}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _mapping(value: Any, path: str, allowed: tuple[str, ...], nullable: str = "") -> Mapping[str, Any]:
    """An object of `allowed` keys, none null but `nullable` (null is no way to leave one out)."""
    if not isinstance(value, Mapping):
        raise RuleError(path, "expected an object")
    for key, item in value.items():
        if key not in allowed:
            raise RuleError(_join(path, str(key)), f"unknown key; expected one of: {', '.join(allowed)}")
        if item is None and key != nullable:
            raise RuleError(_join(path, key), "expected a value, got null; leave the key out instead")
    return value


def _integer(value: Any, path: str, low: int, high: int | None = None) -> int:
    """An integer within bounds; `2.0` is one, as JSON counts numbers."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError(path, f"expected an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise RuleError(path, f"expected an integer {allowed}, got {value}")
    return value


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise RuleError(path, f"expected a non-empty string, got {value!r}")
    return value


def _strings(value: Any, path: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise RuleError(path, "expected an object of strings")
    for key, item in value.items():
        if not isinstance(item, str):
            raise RuleError(_join(path, str(key)), f"expected a string, got {item!r}")
    return tuple(value.items())


def parse_rule(value: Any, path: str = "") -> Rule:
    """One rule, checked; RuleError naming the first thing wrong."""
    spec = _mapping(value, path, RULE_KEYS)
    if "respond" not in spec:
        raise RuleError(_join(path, "respond"), "required: what to answer")
    matching = _join(path, "match")
    match = _mapping(spec.get("match", {}), matching, MATCH_KEYS)
    texts = {
        key: _text(match[key], _join(matching, key))
        for key in ("api", "operation", "method", "path", "token")
        if key in match
    }
    _known(texts, matching)
    where = _join(path, "respond")
    respond = _mapping(spec["respond"], where, RESPOND_KEYS, nullable="body")
    if not {"status", "drop", "delay_ms", "jitter_ms"} & set(respond):
        raise RuleError(where, "give a status, drop, or a delay (delay_ms, jitter_ms)")
    status = respond.get("status")
    if status is not None:
        status = _integer(status, _join(where, "status"), 100, 599)
    drop = respond.get("drop", False)
    if not isinstance(drop, bool):
        raise RuleError(_join(where, "drop"), f"expected true or false, got {drop!r}")
    if drop and status is not None:
        raise RuleError(_join(where, "drop"), "a dropped connection has no status")
    for key in ("headers", "body"):
        if key in respond and status is None:
            raise RuleError(_join(where, key), "only with a status")
    if too_deep(respond.get("body")):
        raise RuleError(_join(where, "body"), f"nests deeper than {MAX_DEPTH} levels, the most accepted")
    probability = spec.get("probability")
    if probability is not None and (
        isinstance(probability, bool) or not isinstance(probability, int | float) or not 0 <= probability <= 1
    ):
        raise RuleError(_join(path, "probability"), f"expected a number from 0 to 1, got {probability!r}")
    times = spec.get("times")
    return Rule(
        spec=spec,
        api=texts.get("api"),
        operation=texts.get("operation"),
        method=texts.get("method"),
        path=glob(texts["path"], _join(matching, "path")) if "path" in texts else None,
        query=_strings(match.get("query", {}), _join(matching, "query")),
        token=texts.get("token"),
        status=status,
        headers=_strings(respond.get("headers", {}), _join(where, "headers")),
        body=respond.get("body"),
        has_body="body" in respond,
        delay_ms=_integer(respond.get("delay_ms", 0), _join(where, "delay_ms"), 0, MAX_DELAY_MS),
        jitter_ms=_integer(respond.get("jitter_ms", 0), _join(where, "jitter_ms"), 0, MAX_DELAY_MS),
        jitter_seed=_integer(respond.get("seed", 0), _join(where, "seed"), 0),
        drop=drop,
        times=None if times is None else _integer(times, _join(path, "times"), 1),
        after=_integer(spec.get("after", 0), _join(path, "after"), 0),
        nth=_integer(spec.get("nth", 1), _join(path, "nth"), 1),
        probability=None if probability is None else float(probability),
        seed=_integer(spec.get("seed", 0), _join(path, "seed"), 0),
    )


def parse_rules(value: Any, path: str = "") -> tuple[Rule, ...]:
    """A rule or a list of rules, each checked; list items are named `[i]`."""
    if isinstance(value, list):
        return tuple(parse_rule(item, f"{path}[{index}]") for index, item in enumerate(value))
    return (parse_rule(value, path),)
