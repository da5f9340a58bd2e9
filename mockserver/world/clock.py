"""Time as integer UTC epoch seconds: parsing what clients send and rendering what APIs emit."""

import calendar
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import NamedTuple, TypeVar

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$")

T = TypeVar("T")
DAY = 86_400
# The first and the last second an RFC 3339 time can name: what is rendered must parse again.
EARLIEST = calendar.timegm((1, 1, 1, 0, 0, 0))
LATEST = calendar.timegm((9999, 12, 31, 23, 59, 59))


class OutOfRange(ValueError):
    """A well-formed time, or move, that falls outside the years 0001 to 9999."""


class Instant(NamedTuple):
    """A parsed client timestamp: whole seconds, and whether a non-zero fraction was cut off."""

    floor: int
    has_fraction: bool

    @property
    def ceil(self) -> int:
        return self.floor + 1 if self.has_fraction else self.floor


def shown(text: str, limit: int = 40) -> str:
    """`text` quoted for an error message, cut short: a client may send megabytes."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


@lru_cache(maxsize=65_536)
def parse_timestamp(text: str) -> Instant:
    """RFC 3339 and the forms SDKs send (fractions, `Z`, offsets, naive = UTC, bare dates).

    Raises ValueError with a reason a client can act on. Cached: ingested events arrive by
    the thousand with few distinct timestamps, and a batch checked is read again as it applies.
    """
    text = text.strip()
    if _DATE_ONLY.match(text):
        return Instant(calendar.timegm(_impossible_checked(date.fromisoformat, text).timetuple()), False)
    match = _DATETIME.match(text)
    if not match:
        raise ValueError(f"{shown(text)} is not an RFC 3339 timestamp")
    fraction = match.group(2) or ""
    whole = text.replace(fraction, "", 1).replace("z", "Z").replace("t", "T")
    parsed = _impossible_checked(datetime.fromisoformat, whole)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    seconds = int(parsed.timestamp())
    if not EARLIEST <= seconds <= LATEST:  # an offset can carry year 1 or 9999 past the range
        raise OutOfRange(f"{text!r} lies outside the years 0001 to 9999 in UTC")
    return Instant(seconds, fraction.strip(".0") != "")


def _impossible_checked(parse: Callable[[str], T], text: str) -> T:
    """`parse(text)` of a text of the right form; ValueError in our words if it names no such
    day or time (`2026-02-30`, month 13, hour 25)."""
    try:
        return parse(text)
    except ValueError:
        raise ValueError(f"{shown(text)} names no such date or time") from None


def to_datetime(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@lru_cache(maxsize=16_384)
def format_z(ts: int) -> str:
    """RFC 3339 with a `Z`, seconds precision: `2026-01-01T00:00:00Z`.

    The formatters are cached: rendering spells the same period boundaries and issue dates
    for invoice after invoice.
    """
    return format_naive(ts) + "Z"


@lru_cache(maxsize=16_384)
def format_naive(ts: int) -> str:
    """Zone-less ISO datetime as the upstream Meteroid server writes it (years of four digits:
    strftime's `%Y` writes year 1 as `1`, which no parser reads back)."""
    return to_datetime(ts).replace(tzinfo=None).isoformat(timespec="seconds")


@lru_cache(maxsize=16_384)
def format_date(ts: int) -> str:
    return to_datetime(ts).date().isoformat()


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


DURATION_PATTERN = (
    r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
)
_DURATION = re.compile(DURATION_PATTERN)
MAX_DURATION_DIGITS = 9  # per number: more would move past any horizon, and costs to convert
# The pattern the control plane's OpenAPI document gives for a clock advance: the same, with
# numbers of at most MAX_DURATION_DIGITS (longer ones are refused with their own reason).
DOCUMENTED_DURATION = DURATION_PATTERN.replace(r"\d+", rf"\d{{1,{MAX_DURATION_DIGITS}}}")

# How far the clock may go past the fixture's `now`: every move runs the billing lifecycle on
# the event loop, so the furthest move on the default world stays a few tenths of a second.
HORIZON_YEARS = 5


def horizon(start: int) -> int:
    """The latest time the clock of a world that starts at `start` may reach."""
    try:
        return add_duration(start, f"P{HORIZON_YEARS}Y")
    except ValueError:  # a world starting within the horizon of the year 9999
        return LATEST


def add_duration(ts: int, text: str) -> int:
    """`ts` moved forward by an ISO 8601 duration such as `P1M`, `P2W`, `P1DT12H` or `PT90S`.

    Years and months are calendar steps (31 January plus one month is the last day of
    February), the rest exact seconds. Raises ValueError naming what is wrong.
    """
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{shown(text)} is not an ISO 8601 duration such as P1M, P7D or PT1H")
    if any(part is not None and len(part) > MAX_DURATION_DIGITS for part in match.groups()):
        raise ValueError(f"{shown(text)} has a number of more than {MAX_DURATION_DIGITS} digits")
    years, months, weeks, days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    moment = to_datetime(ts)
    index = moment.year * 12 + moment.month - 1 + years * 12 + months
    year, month = divmod(index, 12)
    if year > 9999:
        raise OutOfRange(f"{shown(text)} moves the clock past the year 9999")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    stepped = calendar.timegm((year, month + 1, day, moment.hour, moment.minute, moment.second))
    return stepped + (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds
