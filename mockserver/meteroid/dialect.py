"""The two spellings of the Meteroid-style API: enum values and datetimes, both ways.

`documented` is the spelling of the published documentation (PascalCase enums, RFC 3339
datetimes with a `Z`); `upstream` is what the open-source server and its SDK speak
(SCREAMING_SNAKE_CASE enums, zone-less datetimes). Everything else is shared.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from mockserver.generation.fixture import KINDS, PAYMENT_METHODS, PAYMENT_STATUSES, STATUSES
from mockserver.world import clock

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
    status_by_name: dict[str, int]  # an input `statuses` value -> neutral status code

    def maybe_datetime(self, ts: int | None) -> str | None:
        return None if ts is None else self.datetime(ts)

    def unknown_status(self, value: str) -> str:
        """The reason upstream's query parser gives for a `statuses` value it does not know."""
        expected = ", ".join(f"`{name}`" for name in self.status)
        return f"unknown variant `{value}`, expected one of {expected}"


def _build(name: str, spell: Callable[[str], str], datetime: Callable[[int], str]) -> Dialect:
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
        status_by_name={value: code for code, value in enumerate(status)},
    )


DIALECTS: dict[str, Dialect] = {
    "documented": _build("documented", lambda pascal: pascal, clock.format_z),
    "upstream": _build("upstream", screaming_snake, clock.format_naive),
}


def dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(
            f"unknown Meteroid dialect {name!r}; expected one of {', '.join(DIALECTS)}"
        ) from None
