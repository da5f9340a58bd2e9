"""The scalar readers the fixture's validator is built of: a mapping of known keys, an integer
in range, a share, a text, a choice, a UUID, a timestamp, a decimal, weights; each failing with
the file, the path inside it, its line and what was expected."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from mockserver.world import clock
from mockserver.world.spec import FixtureError, line_of

CURRENCY = re.compile(r"^[A-Z]{3}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
PRICE_KEYS = "'price' (per unit, in major units) or 'prices' (per currency)"


class Fields:
    """Reads one value of a fixture at a path, or fails naming the path (and its line)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.root: Any = None  # the YAML read, whose keys know their lines

    def fail(self, path: str, message: str) -> FixtureError:
        return FixtureError(self.source, path, message, line_of(self.root, path))

    # scalars

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping, got {kind_of(value)}")
        for key in value:
            if key not in allowed:
                hint = ", ".join(allowed)
                raise self.fail(join(path, str(key)), f"unknown key; expected one of: {hint}")
        return value

    def integer(self, value: Any, path: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"expected an integer from {low} to {high}, got {kind_of(value)}")
        if not low <= value <= high:
            raise self.fail(path, f"expected an integer from {low} to {high}, got {value}")
        return value

    def share(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"expected a share from 0 to 1, got {kind_of(value)}")
        if not 0 <= value <= 1:
            raise self.fail(path, f"expected a share from 0 to 1, got {value}")
        return float(value)

    def text(self, value: Any, path: str, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"expected a non-empty string, got {kind_of(value)}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(path, f"expected a string matching {pattern.pattern}, got {value!r}")
        return value

    def optional_text(self, value: Any, path: str) -> str | None:
        return None if value is None else self.text(value, path)

    def choice(self, value: Any, path: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(path, f"expected one of {', '.join(allowed)}, got {value!r}")
        return value

    def uuid(self, value: Any, path: str) -> str:
        try:
            return str(uuid.UUID(self.text(value, path)))
        except ValueError:
            raise self.fail(path, f"expected a UUID, got {value!r}") from None

    def timestamp(self, value: Any, path: str) -> int:
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            return int(moment.timestamp())
        if isinstance(value, date):
            return clock.from_date(value)
        if isinstance(value, str):
            try:
                return clock.parse_timestamp(value).floor
            except ValueError as exc:
                raise self.fail(path, f"expected an RFC 3339 timestamp or a date: {exc}") from None
        raise self.fail(path, f"expected an RFC 3339 timestamp or a date, got {value!r}")

    def decimal(self, value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(path, f"expected a non-negative decimal number, got {kind_of(value)}")
        text = str(value)
        if not re.fullmatch(r"\d+(\.\d+)?", text):
            raise self.fail(path, f"expected a non-negative decimal number, got {value!r}")
        return text

    def weights(self, value: Any, path: str, allowed: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
        items = self.mapping(value, path, allowed)
        result = []
        for key, weight in items.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
                raise self.fail(join(path, key), f"expected a non-negative weight, got {weight!r}")
            result.append((key, float(weight)))
        if not result or sum(w for _, w in result) <= 0:
            raise self.fail(path, "expected at least one positive weight")
        return tuple(result)

    def currency_weights(self, value: Any, path: str) -> tuple[tuple[str, float], ...]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping of currency code to weight, got {kind_of(value)}")
        for key in value:
            self.text(key, join(path, str(key)), CURRENCY)
        return self.weights(value, path, tuple(value))

    def string_map(self, value: Any, path: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping of string to string, got {kind_of(value)}")
        result = []
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str | int | float) or isinstance(item, bool):
                raise self.fail(join(path, str(key)), "expected a string key with a string value")
            result.append((key, str(item)))
        return tuple(sorted(result))

    def sequence(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {kind_of(value)}")
        return value

    # structure


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def kind_of(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }
    kind = next((kind for kind in type(value).__mro__ if kind in names), type(value))
    return names.get(kind, kind.__name__)
