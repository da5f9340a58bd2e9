"""Query strings of the list endpoints, parsed the way the upstream server parses them.

Checks run in upstream's order: the values of the filter parameters as they come, then
`page` and `per_page` (parsed as unsigned 32-bit integers), then the page size range, and
last `order_by`. The first failure decides the answer. Unknown parameters are ignored, and
so is an empty value of an optional filter (`customer_id=`), which upstream reads as absent.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from multidict import MultiMapping

from mockserver.meteroid.dialect import DIALECTS, Dialect
from mockserver.meteroid.errors import ApiError, QueryStringError, QueryValidationError
from mockserver.shell.openapi import BOOLEAN, STRING, Param, array, enum, names
from mockserver.world.ids import from_base62_id

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100
_U32_MAX = 2**32 - 1
_UNSIGNED = re.compile(r"\+?[0-9]+")
_HYPHENATED = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# A UUID as upstream's parser takes one: hyphenated, simple, braced or a URN (`uuid.UUID` would
# take more: hyphens anywhere). The document gives the same pattern.
UUID_FORMS = rf"^(?:{_HYPHENATED}|[0-9a-fA-F]{{32}}|\{{{_HYPHENATED}\}}|urn:uuid:{_HYPHENATED})$"
_UUID_FORMS = re.compile(UUID_FORMS)
# An empty optional parameter reads as absent, as upstream's form decoder reads it.
EMPTY = {**STRING, "maxLength": 0}

# order_by column -> the query engine's order key
INVOICE_ORDER = {
    "created_at": "created_at",
    "invoice_number": "number",
    "customer_name": "customer_name",
    "amount": "total",
    "invoice_date": "invoice_date",
    "status": "status",
    "payment_status": "payment_status",
}
CUSTOMER_ORDER = ("name", "email", "alias", "created_at")
DEFAULT_ORDER = "created_at.desc"
DIRECTIONS = ("asc", "desc")

# The parameters each list reads, as its OpenAPI document states them: every range, enum and
# default below is one the parsers in this module enforce.
PAGE = Param(
    "page", {"type": "integer", "minimum": 0, "maximum": _U32_MAX, "default": 0}, "The page, from 0."
)
PER_PAGE = Param(
    "per_page",
    {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
    "Page size.",
)


def _order_by(columns: Iterable[str]) -> Param:
    return Param(
        "order_by",
        enum(
            ["", *(f"{column}.{direction}" for column in columns for direction in DIRECTIONS)],
            default=DEFAULT_ORDER,
        ),
        "`column.direction`; ties by id. Empty: the default.",
    )


INVOICE_LIST_QUERY = (
    PAGE,
    PER_PAGE,
    Param(
        "statuses",
        array(
            {"anyOf": [enum(status for spelling in DIALECTS.values() for status in spelling.status), EMPTY]}
        ),
        "Only invoices in these statuses (repeat the key), spelt as the request's dialect spells them; "
        "an empty one is skipped.",
        explode=True,
    ),
    Param("customer_id", STRING, "A `cus_` id or the customer's alias; an unknown one matches nothing."),
    Param(
        "subscription_id",
        {
            "anyOf": [
                {**STRING, "pattern": "^sub_[0-9A-Za-z]{1,22}$"},
                {**STRING, "pattern": UUID_FORMS},
                EMPTY,
            ]
        },
        "A `sub_` id or the subscription's UUID (hyphenated, simple, braced or `urn:uuid:`); empty: "
        "no filter.",
    ),
    _order_by(INVOICE_ORDER),
)
CUSTOMER_LIST_QUERY = (
    PAGE,
    PER_PAGE,
    _order_by(CUSTOMER_ORDER),
    Param("search", STRING, "Only customers whose name or alias contains this, in any letter case."),
    Param(
        "archived",
        {"anyOf": [BOOLEAN, EMPTY], "default": False},
        "Archived customers instead of active ones; empty: the default.",
    ),
)
# Every parameter `invoice_list` reads; the rest are ignored, as upstream ignores them.
INVOICE_LIST_PARAMS = names(INVOICE_LIST_QUERY)


@dataclass(frozen=True, slots=True)
class Paging:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return self.page * self.per_page

    def meta(self, total: int) -> dict[str, int]:
        return {
            "page": self.page,
            "per_page": self.per_page,
            "total_items": total,
            "total_pages": -(-total // self.per_page),
        }


@dataclass(frozen=True, slots=True)
class InvoiceList:
    paging: Paging
    customer: str | None  # an id (`cus_...`) or an alias, resolved by the caller
    subscription: str | None  # the subscription's UUID
    statuses: frozenset[int] | None
    order: str  # a query engine order key
    descending: bool


@dataclass(frozen=True, slots=True)
class CustomerList:
    paging: Paging
    search: str | None
    archived: bool
    order: str  # one of CUSTOMER_ORDER
    descending: bool


def _last(query: MultiMapping[str], name: str) -> str | None:
    """The value of an optional scalar parameter; empty reads as absent."""
    values = query.getall(name, ())
    value = values[-1] if values else None
    return value or None


def _u32(text: str) -> int:
    if text == "":
        raise QueryStringError("cannot parse integer from empty string")
    if not _UNSIGNED.fullmatch(text):
        raise QueryStringError("invalid digit found in string")
    digits = text.lstrip("+").lstrip("0")
    if len(digits) > 10 or int(digits or "0") > _U32_MAX:
        raise QueryStringError("number too large to fit in target type")
    return int(digits or "0")


def paging(query: MultiMapping[str]) -> Paging:
    """`page` and `per_page` parsed, not yet range-checked (see `checked`)."""
    page_values, size_values = query.getall("page", ()), query.getall("per_page", ())
    page = _u32(page_values[-1]) if page_values else 0
    per_page = _u32(size_values[-1]) if size_values else DEFAULT_PER_PAGE
    return Paging(page, per_page)


def checked(pages: Paging) -> Paging:
    if not 1 <= pages.per_page <= MAX_PER_PAGE:
        raise QueryValidationError(
            "pagination.per_page: Validation error: range "
            f'[{{"min": Number(1), "max": Number({MAX_PER_PAGE}), "value": Number({pages.per_page})}}]'
        )
    return pages


def order_by(value: str | None, columns: tuple[str, ...] | dict[str, str]) -> tuple[str, bool]:
    """`column.direction` -> (column, descending); a 400 JSON error names the allowed columns."""
    text = value or DEFAULT_ORDER
    column, dot, direction = text.partition(".")
    if column in columns and dot and direction in DIRECTIONS:
        return column, direction == "desc"
    allowed = ", ".join(columns)
    raise ApiError(
        400,
        f"Invalid order_by '{text}': expected column.direction with a column among {allowed} "
        "and a direction of asc or desc",
    )


def subscription_uuid(text: str) -> str:
    """`sub_<base62>` or a bare UUID, as the subscription's UUID."""
    if text.startswith("sub_"):
        decoded = from_base62_id("sub_", text)
        if decoded is not None:
            return decoded
    elif _UUID_FORMS.match(text):
        return str(uuid.UUID(text))
    raise QueryStringError(f"invalid SubscriptionId `{text}`: expected sub_ followed by base62, or a UUID")


def _statuses(values: list[str], dialect: Dialect) -> frozenset[int] | None:
    codes = set()
    for value in values:
        if value == "":
            continue
        code = dialect.status_by_name.get(value)
        if code is None:
            raise QueryStringError(dialect.unknown_status(value))
        codes.add(code)
    return frozenset(codes) if codes else None


def invoice_list(query: MultiMapping[str], dialect: Dialect) -> InvoiceList:
    subscription = codes = None
    for name in dict.fromkeys(query):  # each key once, in order of first appearance
        if name == "subscription_id":
            text = _last(query, name)
            subscription = subscription_uuid(text) if text else None
        elif name == "statuses":
            codes = _statuses(query.getall(name), dialect)
    pages = checked(paging(query))
    column, descending = order_by(_last(query, "order_by"), INVOICE_ORDER)
    return InvoiceList(
        paging=pages,
        customer=_last(query, "customer_id"),
        subscription=subscription,
        statuses=codes,
        order=INVOICE_ORDER[column],
        descending=descending,
    )


def customer_list(query: MultiMapping[str]) -> CustomerList:
    pages = paging(query)
    archived = _last(query, "archived")
    if archived not in (None, "true", "false"):
        raise QueryStringError("provided string was not `true` or `false`")
    checked(pages)
    column, descending = order_by(_last(query, "order_by"), CUSTOMER_ORDER)
    return CustomerList(
        paging=pages,
        search=_last(query, "search"),
        archived=archived == "true",
        order=column,
        descending=descending,
    )
