"""Time as integer UTC epoch seconds: parsing what clients send and rendering what APIs emit."""

import calendar
import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import NamedTuple

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$")

DAY = 86_400


class Instant(NamedTuple):
    """A parsed client timestamp: whole seconds, and whether a non-zero fraction was cut off."""

    floor: int
    has_fraction: bool

    @property
    def ceil(self) -> int:
        return self.floor + 1 if self.has_fraction else self.floor


def parse_timestamp(text: str) -> Instant:
    """RFC 3339 and the forms SDKs send (fractions, `Z`, offsets, naive = UTC, bare dates).

    Raises ValueError with a reason a client can act on.
    """
    text = text.strip()
    if _DATE_ONLY.match(text):
        return Instant(calendar.timegm(date.fromisoformat(text).timetuple()), False)
    match = _DATETIME.match(text)
    if not match:
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp")
    fraction = match.group(2) or ""
    whole = text.replace(fraction, "", 1).replace("z", "Z").replace("t", "T")
    parsed = datetime.fromisoformat(whole)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return Instant(int(parsed.timestamp()), fraction.strip(".0") != "")


def to_datetime(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@lru_cache(maxsize=16_384)
def format_z(ts: int) -> str:
    """RFC 3339 with a `Z`, seconds precision: `2026-01-01T00:00:00Z`.

    The formatters are cached: rendering spells the same period boundaries and issue dates
    for invoice after invoice.
    """
    return to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=16_384)
def format_naive(ts: int) -> str:
    """Zone-less ISO datetime as the upstream Meteroid server writes it."""
    return to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%S")


@lru_cache(maxsize=16_384)
def format_date(ts: int) -> str:
    return to_datetime(ts).strftime("%Y-%m-%d")


def date_of(ts: int) -> date:
    return to_datetime(ts).date()


def month_start(ts: int) -> int:
    moment = to_datetime(ts)
    return calendar.timegm((moment.year, moment.month, 1, 0, 0, 0))


@lru_cache(maxsize=4096)
def add_months(ts: int, months: int) -> int:
    """The first of the month `months` after the month of `ts` (negative goes back).

    Cached: a world asks for the same few month boundaries for every invoice.
    """
    moment = to_datetime(ts)
    index = moment.year * 12 + (moment.month - 1) + months
    return calendar.timegm((index // 12, index % 12 + 1, 1, 0, 0, 0))


def add_days(ts: int, days: int) -> int:
    return ts + days * DAY


def from_date(value: date) -> int:
    return calendar.timegm((value.year, value.month, value.day, 0, 0, 0))


def day_floor(ts: int) -> int:
    return ts - ts % DAY
