"""Query strings as the Metronome SDK writes them -> validated, neutral requests.

Every refusal is a 400 naming the parameter, what was sent and what is allowed. Values are
canonicalised before they are bound into a cursor, so `2024-01-01` and
`2024-01-01T00:00:00.000Z` continue the same walk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from mockserver.metronome.catalog import (
    SORT_VALUES,
    STATUS_CODES,
    STATUS_VALUES,
    TYPE_CODES,
    TYPE_VALUES,
    CreditTypes,
)
from mockserver.metronome.errors import bad_request
from mockserver.shell.cursor import CursorCodec
from mockserver.shell.openapi import BOOLEAN, STRING, UUID, Param, array, enum, names, padded
from mockserver.shell.querystring import Pairs
from mockserver.world import clock
from mockserver.world.query import InvoiceQuery, Plan
from mockserver.world.state import World

# A UUID as the document's `format: uuid` states it: hyphenated, hex digits of either case
# (`uuid.UUID` would take more: braces, a URN, hyphens anywhere or none).
UUID_TEXT = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID = re.compile(UUID_TEXT)

MIN_LIMIT, MAX_LIMIT, DEFAULT_LIMIT = 1, 100, 25
MAX_LIST_IDS = 100

# The parameters each endpoint reads, as its OpenAPI document states them: every range, enum
# and default below is one the parsers in this module enforce.
LIMIT = Param(
    "limit",
    {"type": "integer", "minimum": MIN_LIMIT, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "Page size.",
)
NEXT_PAGE = Param(
    "next_page",
    STRING,
    "The cursor of the previous page's `next_page`; absent or empty for the first page. Bound to "
    "the other filters: resend them unchanged (`limit` may change).",
)
SKIP_ZERO = Param(
    "skip_zero_qty_line_items",
    {**BOOLEAN, "default": False},
    "Leave out line items whose quantity is 0.",
)
INVOICE_FILTERS = (
    Param("status", enum(STATUS_VALUES), "Only invoices in this status."),
    Param("type", enum(TYPE_VALUES), "Only invoices of this type."),
    Param("sort", enum(SORT_VALUES), "By `issued_at`, ties by id."),
    Param("credit_type_id", UUID, "Only invoices in this credit type (one per currency)."),
    Param("contract_id", UUID, "Only invoices of this contract."),
    Param(
        "starting_on",
        {**STRING, "format": "date-time"},
        "Billing periods starting at or after this RFC 3339 time (a bare date is fine).",
    ),
    Param(
        "ending_before",
        {**STRING, "format": "date-time"},
        "Billing periods ending at or before this RFC 3339 time (a bare date is fine).",
    ),
    SKIP_ZERO,
    Param("include_historical_commit_invoices", {**BOOLEAN, "default": False}, "Accepted; no such invoices."),
    Param("webhook_notification_id", STRING, "Accepted and ignored."),
)


def invoice_list_query(default_sort: str) -> tuple[Param, ...]:
    """The list-invoices parameters; `sort` defaults to the server's setting."""
    return (
        LIMIT,
        NEXT_PAGE,
        *(p.with_default(default_sort) if p.name == "sort" else p for p in INVOICE_FILTERS),
    )


INVOICE_GET_QUERY = (SKIP_ZERO,)
CUSTOMER_LIST_QUERY = (
    LIMIT,
    NEXT_PAGE,
    Param("ingest_alias", {**STRING, "minLength": 1}, "Only the customer with this ingest alias."),
    Param(
        "customer_ids",
        array(padded(UUID_TEXT), maxItems=MAX_LIST_IDS),
        f"Only these customers (comma-joined, at most {MAX_LIST_IDS}; blank ones are skipped).",
        explode=False,
    ),
    Param("only_archived", {**BOOLEAN, "default": False}, "Archived customers instead of active ones."),
    Param(
        "salesforce_account_ids",
        array(STRING, maxItems=MAX_LIST_IDS),
        f"Only customers with these Salesforce account ids (comma-joined, at most {MAX_LIST_IDS}).",
        explode=False,
    ),
)

INVOICE_LIST_PARAMS = names(invoice_list_query(SORT_VALUES[0]))
INVOICE_GET_PARAMS = names(INVOICE_GET_QUERY)
CUSTOMER_LIST_PARAMS = names(CUSTOMER_LIST_QUERY)

_LIMIT = re.compile(r"[0-9]{1,9}")
# A `+` offset sent unencoded reaches us as a space once the query string is decoded.
_SPACED_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


# --- single values ------------------------------------------------------------------------------


def once(pairs: Pairs) -> dict[str, str]:
    """The known parameters (see `known_pairs`) by name: the API takes each at most once."""
    given = dict(pairs)
    if len(given) < len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise bad_request(f"{name} was given more than once; give it at most once")
            seen.add(name)
    return given


def parse_limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not _LIMIT.fullmatch(text) or not MIN_LIMIT <= int(text) <= MAX_LIMIT:
        raise bad_request(
            f"limit must be an integer from {MIN_LIMIT} to {MAX_LIMIT}, got {clock.shown(text)}"
        )
    return int(text)


def parse_bool(name: str, text: str | None) -> bool:
    if text is None:
        return False
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise bad_request(f"{name} must be true or false, got {text!r}")


def parse_uuid(name: str, text: str) -> str:
    """The canonical lowercase spelling of a UUID, or a 400 naming the parameter."""
    if not _UUID.fullmatch(text):
        raise bad_request(f"{name} must be a UUID, got {text!r}")
    return text.lower()


@lru_cache(maxsize=4096)
def parse_time(name: str, text: str) -> clock.Instant:
    """Cached: a walk re-sends the same window on every page."""
    spaced = _SPACED_OFFSET.match(text)
    if spaced:
        text = f"{spaced.group(1)}+{spaced.group(2)}"
    try:
        return clock.parse_timestamp(text)
    except (ValueError, OverflowError):
        raise bad_request(
            f"{name} must be an RFC 3339 timestamp such as 2024-01-01T00:00:00Z "
            f"(an offset, fractional seconds or a bare date are fine), got {text!r}"
        ) from None


def parse_choice(name: str, text: str, allowed: tuple[str, ...]) -> str:
    if text not in allowed:
        raise bad_request(f"{name} must be one of {', '.join(allowed)}, got {text!r}")
    return text


def parse_id_list(name: str, text: str | None) -> tuple[str, ...] | None:
    """A comma-joined list as the SDK writes arrays; blank means no filter."""
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) > MAX_LIST_IDS:  # blank ones count: the document bounds the array as sent
        raise bad_request(f"{name} takes at most {MAX_LIST_IDS} values, got {len(parts)}")
    return tuple(part.strip() for part in parts if part.strip()) or None


def cursor_text(text: str | None) -> str | None:
    """An empty `next_page` asks for the first page, like an absent one."""
    return text or None


# --- list invoices ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceListRequest:
    """Everything of a list request but its cursor: a walk sends the same on every page."""

    plan: Plan  # `plan.query` is the neutral query
    limit: int
    skip_zero: bool
    filters: bytes  # checksum a cursor is bound to
    matches_nothing: bool = False


def split_invoice_list(pairs: Pairs) -> tuple[str | None, Pairs]:
    """The cursor, and the other known parameters as they came (the key a parse is cached by)."""
    given = once(pairs)
    return cursor_text(given.pop("next_page", None)), tuple(given.items())


def parse_invoice_filters(
    pairs: Pairs,
    world: World,
    customer: int,
    credit_types: CreditTypes,
    default_sort: str,
) -> InvoiceListRequest:
    """Known parameters, each once, without `next_page` (see `split_invoice_list`)."""
    given = dict(pairs)
    limit = parse_limit(given.get("limit"))
    skip_zero = parse_bool("skip_zero_qty_line_items", given.get("skip_zero_qty_line_items"))
    historical = parse_bool(
        "include_historical_commit_invoices", given.get("include_historical_commit_invoices")
    )
    bound: list[tuple[str, str]] = [
        ("endpoint", "invoices"),
        ("customer", world.customers[customer].id),
        ("historical", str(historical)),
    ]
    fields: dict = {"customer": customer}
    nothing = False

    status = given.get("status")
    if status is not None:
        fields["statuses"] = STATUS_CODES[parse_choice("status", status, STATUS_VALUES)]
        bound.append(("status", status))
    kind = given.get("type")
    if kind is not None:
        fields["kinds"] = TYPE_CODES[parse_choice("type", kind, TYPE_VALUES)]
        bound.append(("type", kind))
    sort = given.get("sort")
    sort = default_sort if sort is None else parse_choice("sort", sort, SORT_VALUES)
    fields["descending"] = sort == "date_desc"
    bound.append(("sort", sort))

    credit_type = given.get("credit_type_id")
    if credit_type is not None:
        credit_type = parse_uuid("credit_type_id", credit_type)
        fields["currencies"] = credit_types.codes_by_id.get(credit_type, frozenset())
        bound.append(("credit_type_id", credit_type))
    contract = given.get("contract_id")
    if contract is not None:
        contract = parse_uuid("contract_id", contract)
        ordinal = world.contract_by_id.get(contract)
        if ordinal is None or world.contracts[ordinal].customer != customer:
            nothing = True
        else:
            fields["contract"] = ordinal
        bound.append(("contract_id", contract))

    starting_on = given.get("starting_on")
    if starting_on is not None:
        fields["period_start_from"] = parse_time("starting_on", starting_on).ceil
        bound.append(("starting_on", str(fields["period_start_from"])))
    ending_before = given.get("ending_before")
    if ending_before is not None:
        fields["period_end_until"] = parse_time("ending_before", ending_before).floor
        bound.append(("ending_before", str(fields["period_end_until"])))

    return InvoiceListRequest(
        plan=Plan(world, InvoiceQuery(**fields)),
        limit=limit,
        skip_zero=skip_zero,
        filters=CursorCodec.filters_digest(bound),
        matches_nothing=nothing,
    )


def parse_invoice_get(pairs: Pairs) -> bool:
    """Whether zero-quantity line items are left out."""
    given = once(pairs)
    return parse_bool("skip_zero_qty_line_items", given.get("skip_zero_qty_line_items"))


# --- list customers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerListRequest:
    limit: int
    cursor: str | None
    archived: bool
    only: frozenset[int] | None  # customer ordinals the id/alias filters allow; None = no such filter
    salesforce_ids: frozenset[str] | None
    filters: bytes


def parse_customer_list(pairs: Pairs, world: World) -> CustomerListRequest:
    given = once(pairs)
    limit = parse_limit(given.get("limit"))
    archived = parse_bool("only_archived", given.get("only_archived"))
    bound: list[tuple[str, str]] = [("endpoint", "customers"), ("only_archived", str(archived))]
    only: frozenset[int] | None = None

    ids = parse_id_list("customer_ids", given.get("customer_ids"))
    if ids is not None:
        canonical = sorted({parse_uuid("customer_ids", item) for item in ids})
        only = frozenset(world.customer_by_id[i] for i in canonical if i in world.customer_by_id)
        bound.append(("customer_ids", ",".join(canonical)))
    alias = given.get("ingest_alias")
    if alias is not None:
        if not alias:
            raise bad_request("ingest_alias must not be empty")
        ordinal = world.customer_by_alias.get(alias)
        allowed = frozenset() if ordinal is None else frozenset((ordinal,))
        only = allowed if only is None else only & allowed
        bound.append(("ingest_alias", quote(alias, safe="")))
    salesforce = parse_id_list("salesforce_account_ids", given.get("salesforce_account_ids"))
    salesforce_ids = None
    if salesforce is not None:
        salesforce_ids = frozenset(salesforce)
        bound.append(("salesforce_account_ids", ",".join(quote(i, safe="") for i in sorted(salesforce_ids))))

    return CustomerListRequest(
        limit=limit,
        cursor=cursor_text(given.get("next_page")),
        archived=archived,
        only=only,
        salesforce_ids=salesforce_ids,
        filters=CursorCodec.filters_digest(bound),
    )
