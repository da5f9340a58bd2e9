"""The two spellings of the Meteroid-style API: enum values and datetimes, both ways.

`documented` is the spelling of the published documentation (PascalCase enums, RFC 3339
datetimes with a `Z`); `upstream` is what the open-source server and its SDK speak
(SCREAMING_SNAKE_CASE enums, zone-less datetimes). Everything else is shared.

One server speaks both, chosen per request (see `chooser`): clients written against the
documentation and the official SDK then work against the same server, with no setting.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import hdrs
from multidict import CIMultiDictProxy, istr

from mockserver.meteroid.errors import ApiError
from mockserver.world import clock
from mockserver.world.spec import KINDS, PAYMENT_METHODS, PAYMENT_STATUSES, STATUSES

# Neutral value -> the documented (PascalCase) spelling; the upstream one is derived from it.
_STATUS = {"draft": "Draft", "finalized": "Finalized", "uncollectible": "Uncollectible", "void": "Void"}
_PAYMENT_STATUS = {
    "unpaid": "Unpaid",
    "partially_paid": "PartiallyPaid",
    "paid": "Paid",
    "errored": "Errored",
    "processing": "Processing",
}
_INVOICE_TYPE = {
    "usage": "Recurring",
    "usage_consolidated": "Recurring",
    "scheduled": "Recurring",
    "one_off": "OneOff",
    "adjustment": "Adjustment",
    "usage_threshold": "UsageThreshold",
}
_EXEMPTION = {"reverse_charge": "ReverseCharge", "tax_exempt": "TaxExempt", "not_registered": "NotRegistered"}
_TRANSACTION_STATUS = {"settled": "Settled", "pending": "Pending", "failed": "Failed"}
_PAYMENT_METHOD = {"card": "Card", "bank_transfer": "BankTransfer", "wallet": "Wallet", "other": "Other"}
_PAYMENT_TYPE = "Payment"

# A request names its dialect with this header; without it, the official Python SDK, which
# sends `User-Agent: meteroid-python/<version>` (see its `api/common.py`), gets the upstream one.
DIALECT_HEADER = istr("Meteroid-Dialect")
SDK_USER_AGENT = "meteroid-python/"
SDK_DIALECT = "upstream"

T = TypeVar("T")


def screaming_snake(pascal: str) -> str:
    """`PartiallyPaid` -> `PARTIALLY_PAID`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", pascal).upper()


@dataclass(frozen=True)
class Dialect:
    name: str
    status: tuple[str, ...]  # by neutral status code (fixture.STATUSES order)
    payment_status: tuple[str, ...]  # by neutral payment status code
    invoice_type: dict[str, str]
    exemption: dict[str, str]
    transaction_status: dict[str, str]
    payment_method: dict[str, str]
    payment_type: str
    datetime: Callable[[int], str]
    datetime_pattern: str  # what `datetime` writes, as a regular expression
    status_by_name: dict[str, int]  # an input `statuses` value -> neutral status code

    def maybe_datetime(self, ts: int | None) -> str | None:
        return None if ts is None else self.datetime(ts)

    def unknown_status(self, value: str) -> str:
        """The reason upstream's query parser gives for a `statuses` value it does not know,
        plus, for a value of another dialect, how to ask for that dialect."""
        expected = ", ".join(f"`{name}`" for name in self.status)
        reason = f"unknown variant `{value}`, expected one of {expected}"
        other = next((d.name for d in DIALECTS.values() if value in d.status_by_name), None)
        if other is None:
            return reason
        return f"{reason}; `{value}` is the {other} spelling: send `{DIALECT_HEADER}: {other}` to use it"


def _build(
    name: str, spell: Callable[[str], str], datetime: Callable[[int], str], datetime_pattern: str
) -> Dialect:
    def table(mapping: dict[str, str]) -> dict[str, str]:
        return {key: spell(value) for key, value in mapping.items()}

    status = tuple(spell(_STATUS[s]) for s in STATUSES)
    assert set(_INVOICE_TYPE) == set(KINDS) and set(_PAYMENT_METHOD) == set(PAYMENT_METHODS)
    return Dialect(
        name=name,
        status=status,
        payment_status=tuple(spell(_PAYMENT_STATUS[s]) for s in PAYMENT_STATUSES),
        invoice_type=table(_INVOICE_TYPE),
        exemption=table(_EXEMPTION),
        transaction_status=table(_TRANSACTION_STATUS),
        payment_method=table(_PAYMENT_METHOD),
        payment_type=spell(_PAYMENT_TYPE),
        datetime=datetime,
        datetime_pattern=datetime_pattern,
        status_by_name={value: code for code, value in enumerate(status)},
    )


_SECONDS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"
DIALECTS: dict[str, Dialect] = {
    "documented": _build("documented", lambda pascal: pascal, clock.format_z, f"^{_SECONDS}Z$"),
    "upstream": _build("upstream", screaming_snake, clock.format_naive, f"^{_SECONDS}$"),
}


def dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(
            f"unknown Meteroid dialect {name!r}; expected one of {', '.join(DIALECTS)}"
        ) from None


def chooser(each: dict[str, T], default: str) -> Callable[[CIMultiDictProxy[str]], T]:
    """What picks, from a request's headers, the entry of `each` for the dialect it is served
    in: the one its `Meteroid-Dialect` header names, else upstream's for the official SDK, else
    the server's `default`. It runs on every request: two header lookups and a prefix test."""
    fallback, sdk = each[default], each[SDK_DIALECT]
    expected = " or ".join(each)

    def choose(headers: CIMultiDictProxy[str]) -> T:
        named = headers.get(DIALECT_HEADER)
        if named is None:
            return sdk if headers.get(hdrs.USER_AGENT, "").startswith(SDK_USER_AGENT) else fallback
        found = each.get(named)
        if found is None:
            raise ApiError(400, f"Invalid {DIALECT_HEADER} header '{named}': expected {expected}")
        return found

    return choose
