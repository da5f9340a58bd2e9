"""How the neutral world's vocabulary reads in Metronome's spelling, and back again for filters."""

from __future__ import annotations

from collections.abc import Sequence

from mockserver.world.ids import derive_uuid
from mockserver.world.spec import KINDS, STATUSES

# An uncollectible invoice is a finalized one whose collection failed: its external invoice says so.
STATUS_NAME = {"draft": "DRAFT", "finalized": "FINALIZED", "uncollectible": "FINALIZED", "void": "VOID"}
TYPE_NAME = {
    "usage": "USAGE",
    "usage_consolidated": "USAGE_CONSOLIDATED",
    "scheduled": "SCHEDULED",
    "one_off": "SCHEDULED",
    "adjustment": "SCHEDULED",
    "usage_threshold": "USAGE",
}
LINE_TYPE = {"usage": "usage", "scheduled": "scheduled", "subscription": "subscription"}
PRODUCT_TYPE = {
    "usage": "UsageProductListItem",
    "scheduled": "FixedProductListItem",
    "subscription": "SubscriptionProductListItem",
}
COMMIT_TYPE = {"PREPAID": "PrepaidCommit", "CREDIT": "PrepaidCommit"}
APPLIED_LINE_TYPE = "applied_commit_or_credit"  # the line item of an applied commit or credit
BILLABLE_STATUSES = BILLABLE, UNBILLABLE = ("billable", "unbillable")  # an archived customer is unbillable

STATUS_VALUES = ("DRAFT", "FINALIZED", "VOID")
TYPE_VALUES = ("USAGE", "USAGE_CONSOLIDATED", "SCHEDULED")
SORT_VALUES = ("date_asc", "date_desc")


def _codes(names: Sequence[str], spelling: dict[str, str]) -> dict[str, frozenset[int]]:
    """Each Metronome value -> the neutral codes it stands for."""
    result: dict[str, set[int]] = {}
    for code, name in enumerate(names):
        result.setdefault(spelling[name], set()).add(code)
    return {value: frozenset(codes) for value, codes in result.items()}


STATUS_CODES = _codes(STATUSES, STATUS_NAME)
TYPE_CODES = _codes(KINDS, TYPE_NAME)


def credit_type_id(currency: str) -> str:
    """Stable across fixtures and seeds, like a real account's fiat credit type."""
    return derive_uuid(0, "credit_type", currency)


class CreditTypes:
    """The credit type of each world currency, and the reverse index `credit_type_id` filters use."""

    def __init__(self, currencies: Sequence[str]) -> None:
        self.by_code = [{"id": credit_type_id(code), "name": f"{code} (cents)"} for code in currencies]
        by_id: dict[str, set[int]] = {}
        for code, credit_type in enumerate(self.by_code):
            by_id.setdefault(credit_type["id"], set()).add(code)
        self.codes_by_id = {key: frozenset(codes) for key, codes in by_id.items()}
