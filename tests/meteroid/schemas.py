"""JSON Schemas (draft 2020-12) for the Meteroid-style API responses of the mock.

Written from ``reference/meteroid.md`` (the seed's documented variant) and checked
against the upstream OpenAPI 3.1 document and the ``meteroid`` 0.30.1 SDK models.
Each schema is built for one of two dialects:

* ``documented``: PascalCase enum values (``PartiallyPaid``) and RFC 3339 datetimes
  ending in ``Z`` (``2023-11-07T05:31:56Z``), as the seed shows;
* ``upstream``: SCREAMING_SNAKE_CASE enum values (``PARTIALLY_PAID``) and zone-less
  datetimes (``2026-01-01T10:00:00``), as the open-source server emits them.

Both dialects share the rest: ids are ``<prefix>_`` + 1..22 base62 characters, amounts
are integers in minor units, quantities, unit prices and rates are decimal strings,
dates are ``YYYY-MM-DD``. Every key the mock emits is ``required`` (optional values
are emitted as ``null``) except in addresses, where null keys are omitted. Objects are
closed (``additionalProperties: false``); the extra fields the SDK requires are
allowed and required: invoice ``tax_inclusive`` and ``custom_properties``, transaction
``amount_refunded`` and ``amount_reversed``, customer ``custom_properties`` and
``preferred_locales``.

Customer (``GET /api/v1/customers/{id_or_alias}``; the reference does not detail it):
the upstream ``Customer`` schema's properties plus the two keys the SDK requires.

====================  ==============================  ========  ========
key                   type                            required  nullable
====================  ==============================  ========  ========
id                    ``cus_`` id                     yes       no
name                  string                          yes       no
alias                 string                          yes       yes
billing_email         string (email)                  yes       yes
invoicing_emails      array of string (email)         yes       no
phone                 string                          yes       yes
currency              ISO 4217 code                   yes       no
invoicing_entity_id   ``ive_`` id                     yes       no
billing_address       Address                         yes       yes
shipping_address      {same_as_billing: bool,         yes       yes
                      address?: Address | null}
vat_number            string                          yes       yes
connected_account_id  string                          yes       yes
custom_taxes          array of {tax_code, name,       yes       no
                      rate (decimal string)}
custom_properties     object (SDK-required)           yes       no
preferred_locales     array of BCP 47 tags            yes       no
                      (SDK-required)
====================  ==============================  ========  ========

The upstream Customer has no enum and no datetime field. The SDK's ``customer_type``
(``COMPANY``/``INDIVIDUAL``), ``first_name``, ``last_name``, ``legal_number``,
``buyer_reference`` and ``invoicing_language`` are not in the upstream document: the
documented dialect rejects them, the upstream dialect (the SDK's) requires them.

Use :func:`validate` rather than a bare validator: it also rejects floats such as
``12.0`` where the schema says ``integer`` (JSON Schema accepts them; the SDK does not).
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

__all__ = [
    "DIALECTS",
    "customer_list_schema",
    "customer_schema",
    "error_schema",
    "invoice_list_schema",
    "invoice_schema",
    "validate",
    "validator",
]

DIALECTS = ("documented", "upstream")

_DRAFT = "https://json-schema.org/draft/2020-12/schema"

# ---------------------------------------------------------------------------
# Enums, written in the documented (PascalCase) spelling. The upstream spelling
# is derived: "PartiallyPaid" -> "PARTIALLY_PAID".
# ---------------------------------------------------------------------------
_ENUMS: dict[str, tuple[str, ...]] = {
    "invoice_status": ("Draft", "Finalized", "Uncollectible", "Void"),
    "invoice_payment_status": ("Unpaid", "PartiallyPaid", "Paid", "Errored", "Processing"),
    "invoice_type": ("Recurring", "OneOff", "Adjustment", "UsageThreshold"),
    "tax_exemption_type": ("ReverseCharge", "TaxExempt", "NotRegistered"),
    "transaction_status": ("Ready", "Pending", "Settled", "Cancelled", "Failed", "Refunded"),
    "payment_type": ("Payment", "Refund"),
    "payment_method_type": ("Card", "BankTransfer", "Wallet", "Other"),
}

ERROR_CODES = (
    "BAD_REQUEST",
    "NOT_FOUND",
    "CONFLICT",
    "FORBIDDEN",
    "UNAUTHORIZED",
    "TOO_MANY_REQUESTS",
    "INTERNAL_SERVER_ERROR",
)


def _screaming_snake(value: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", value).upper()


def enum_values(name: str, dialect: str) -> list[str]:
    """The values of enum ``name`` (a key of ``_ENUMS``) in ``dialect``'s spelling."""
    _check_dialect(dialect)
    values = _ENUMS[name]
    if dialect == "upstream":
        return [_screaming_snake(v) for v in values]
    return list(values)


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {DIALECTS}")


# ---------------------------------------------------------------------------
# String patterns
# ---------------------------------------------------------------------------
_DATE = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
# Upstream writes chrono's form: no fraction when it is zero, otherwise the shortest of
# 3, 6 or 9 digits (".5 s" is ".500", 123 ms is ".123" never ".123000"). The documented
# dialect gets the same fraction rule, with a trailing "Z".
_FRACTION = r"(?:\.(?:[0-9]{3}|[0-9]{6}|[0-9]{9})(?<!000))?"

DATE_PATTERN = rf"^{_DATE}$"
DATETIME_PATTERNS = {
    "documented": rf"^{_DATE}T{_TIME}{_FRACTION}Z$",
    "upstream": rf"^{_DATE}T{_TIME}{_FRACTION}$",
}
DECIMAL_PATTERN = r"^-?[0-9]+(?:\.[0-9]+)?$"
UNSIGNED_DECIMAL_PATTERN = r"^[0-9]+(?:\.[0-9]+)?$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"  # ISO 4217 alphabetic code
COUNTRY_PATTERN = r"^[A-Z]{2}$"  # ISO 3166-1 alpha-2
LOCALE_PATTERN = r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$"  # BCP 47, loosely


def id_pattern(prefix: str) -> str:
    """``prefix_`` followed by 1..22 base62 characters (a 128-bit integer in base62)."""
    return rf"^{prefix}_[0-9A-Za-z]{{1,22}}$"


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------
def _string(pattern: str | None = None, *, nullable: bool = False, **extra: Any) -> dict:
    schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string"}
    if pattern is not None:
        schema["pattern"] = pattern
    schema.update(extra)
    return schema


def _integer(*, minimum: int | None = None, maximum: int | None = None) -> dict:
    schema: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def _id(prefix: str, *, nullable: bool = False) -> dict:
    return _string(id_pattern(prefix), nullable=nullable)


def _date(*, nullable: bool = False) -> dict:
    return _string(DATE_PATTERN, nullable=nullable, format="date")


def _datetime(dialect: str, *, nullable: bool = False) -> dict:
    # No "format": "date-time" on purpose: it means RFC 3339 with an offset, which the
    # zone-less upstream form is not. The pattern carries the dialect difference.
    return _string(DATETIME_PATTERNS[dialect], nullable=nullable)


def _enum(name: str, dialect: str, *, nullable: bool = False) -> dict:
    values: list[Any] = enum_values(name, dialect)
    if nullable:
        return {"type": ["string", "null"], "enum": [*values, None]}
    return {"type": "string", "enum": values}


def _nullable(schema: dict) -> dict:
    """``schema`` or null. Object keywords ignore non-objects, so widening ``type`` is
    enough, and gives clearer errors than an ``anyOf``."""
    assert schema["type"] == "object"
    return {**schema, "type": ["object", "null"]}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


def _closed(properties: dict[str, dict], *, required: list[str] | None = None) -> dict:
    """An object with exactly ``properties``; all of them required unless told."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _root(title: str, body: dict) -> dict:
    return {"$schema": _DRAFT, "title": title, **body}


# ---------------------------------------------------------------------------
# Shared objects
# ---------------------------------------------------------------------------
def _address() -> dict:
    # The upstream Address has no required property (every key, country included, is
    # optional there), and the mock omits null keys instead of writing null: so nothing
    # is required here and a present key always holds a string.
    return _closed(
        {
            "line1": _string(),
            "line2": _string(),
            "city": _string(),
            "country": _string(COUNTRY_PATTERN),
            "state": _string(),
            "zip_code": _string(),
        },
        required=[],
    )


def _pagination_meta() -> dict:
    # Upstream only says per_page >= 0; the request range is 1..100 and the mock echoes
    # the page size in effect, so 1..100 is what a response can hold.
    return _closed(
        {
            "page": _integer(minimum=0),
            "per_page": _integer(minimum=1, maximum=100),
            "total_items": _integer(minimum=0),
            "total_pages": _integer(minimum=0),
        }
    )


def _list_envelope(item: dict) -> dict:
    return _closed({"data": _array(item), "pagination_meta": _pagination_meta()})


# ---------------------------------------------------------------------------
# Invoice
# ---------------------------------------------------------------------------
def _sub_line_item() -> dict:
    return _closed(
        {
            "id": _string(),
            "name": _string(),
            "total": _integer(),
            "quantity": _string(DECIMAL_PATTERN),
            "unit_price": _string(DECIMAL_PATTERN),
        }
    )


def _line_item() -> dict:
    # Upstream marks description, quantity and unit_price optional; the mock emits them,
    # as null when unset.
    return _closed(
        {
            "name": _string(),
            "description": _string(nullable=True),
            "quantity": _string(DECIMAL_PATTERN, nullable=True),
            "unit_price": _string(DECIMAL_PATTERN, nullable=True),
            "amount_total": _integer(),
            "start_date": _date(),
            "end_date": _date(),
            "tax_rate": _string(UNSIGNED_DECIMAL_PATTERN),
            "sub_line_items": _array(_sub_line_item()),
        }
    )


def _tax_breakdown_item(dialect: str) -> dict:
    return _closed(
        {
            "name": _string(),
            "tax_amount": _integer(minimum=0),
            "tax_rate": _string(UNSIGNED_DECIMAL_PATTERN),
            "taxable_amount": _integer(minimum=0),
            "exemption_type": _enum("tax_exemption_type", dialect, nullable=True),
        }
    )


def _payment_method_info(dialect: str) -> dict:
    return _closed(
        {
            "payment_method_type": _enum("payment_method_type", dialect),
            "card_brand": _string(nullable=True),
            "card_last4": _string(r"^[0-9]{4}$", nullable=True),
            "account_number_hint": _string(nullable=True),
        }
    )


def _transaction(dialect: str) -> dict:
    return _closed(
        {
            "id": _id("pay"),
            "amount": _integer(minimum=0),
            "currency": _string(CURRENCY_PATTERN),
            "status": _enum("transaction_status", dialect),
            "payment_type": _enum("payment_type", dialect),
            "payment_method_id": _id("pm", nullable=True),
            "payment_method_info": _nullable(_payment_method_info(dialect)),
            "processed_at": _datetime(dialect, nullable=True),
            "provider_transaction_id": _string(nullable=True),
            "error": _string(nullable=True),
            # Not in the upstream document; required by the SDK.
            "amount_refunded": _integer(minimum=0),
            "amount_reversed": _integer(minimum=0),
        }
    )


def _customer_details(dialect: str) -> dict:
    return _closed(
        {
            "id": _id("cus"),
            "name": _string(),
            "email": _string(nullable=True),
            "alias": _string(nullable=True),
            "vat_number": _string(nullable=True),
            "billing_address": _nullable(_address()),
            "snapshot_at": _datetime(dialect),
        }
    )


def _coupon() -> dict:
    return _closed({"coupon_id": _id("cou"), "name": _string(), "total": _integer()})


def _invoice(dialect: str) -> dict:
    # Key order is the order upstream emits; the SDK-only keys come last.
    return _closed(
        {
            "id": _id("inv"),
            "invoice_number": _string(minLength=1),
            "status": _enum("invoice_status", dialect),
            "customer_id": _id("cus"),
            "subscription_id": _id("sub", nullable=True),
            "currency": _string(CURRENCY_PATTERN),
            "invoice_date": _date(),
            "due_date": _date(nullable=True),
            "subtotal": _integer(),
            "subtotal_recurring": _integer(),
            "tax_amount": _integer(),
            "total": _integer(),
            "amount_due": _integer(),
            "memo": _string(nullable=True),
            "line_items": _array(_line_item()),
            "paid_at": _datetime(dialect, nullable=True),
            "tax_breakdown": _array(_tax_breakdown_item(dialect)),
            "transactions": _array(_transaction(dialect)),
            "payment_status": _enum("invoice_payment_status", dialect),
            "customer_details": _customer_details(dialect),
            "applied_credits": _integer(minimum=0),
            "coupons": _array(_coupon()),
            "invoice_type": _enum("invoice_type", dialect),
            "net_terms": _integer(minimum=0),
            "reference": _string(nullable=True),
            "purchase_order": _string(nullable=True),
            "created_at": _datetime(dialect),
            "updated_at": _datetime(dialect, nullable=True),
            "finalized_at": _datetime(dialect, nullable=True),
            "voided_at": _datetime(dialect, nullable=True),
            "marked_as_uncollectible_at": _datetime(dialect, nullable=True),
            # Not in the upstream document; required by the SDK.
            "tax_inclusive": {"type": "boolean"},
            "custom_properties": {"type": "object"},
        }
    )


# ---------------------------------------------------------------------------
# Customer
# ---------------------------------------------------------------------------
def _customer(dialect: str) -> dict:
    _check_dialect(dialect)
    sdk_only = {
        "customer_type": {"type": ["string", "null"], "enum": ["COMPANY", "INDIVIDUAL", None]},
        **{
            key: _string(nullable=True)
            for key in ("first_name", "last_name", "legal_number", "buyer_reference")
        },
        "invoicing_language": _string(LOCALE_PATTERN, nullable=True),
    }
    return _closed(
        {
            "id": _id("cus"),
            "name": _string(),
            "alias": _string(nullable=True),
            "billing_email": _string(nullable=True, format="email"),
            "invoicing_emails": _array(_string(format="email")),
            "phone": _string(nullable=True),
            "currency": _string(CURRENCY_PATTERN),
            "invoicing_entity_id": _id("ive"),
            "billing_address": _nullable(_address()),
            "shipping_address": _nullable(
                _closed(
                    {"same_as_billing": {"type": "boolean"}, "address": _nullable(_address())},
                    required=["same_as_billing"],
                )
            ),
            "vat_number": _string(nullable=True),
            "connected_account_id": _string(nullable=True),
            "custom_taxes": _array(
                _closed(
                    {
                        "tax_code": _string(),
                        "name": _string(),
                        "rate": _string(UNSIGNED_DECIMAL_PATTERN),
                    }
                )
            ),
            # Not in the upstream document; required by the SDK.
            "custom_properties": {"type": "object"},
            "preferred_locales": _array(_string(LOCALE_PATTERN)),
            **(sdk_only if dialect == "upstream" else {}),
        }
    )


# ---------------------------------------------------------------------------
# Public schemas
# ---------------------------------------------------------------------------
def invoice_schema(dialect: str) -> dict:
    """``GET /api/v1/invoices/{invoice_id}``: a bare Invoice."""
    _check_dialect(dialect)
    return _root(f"Invoice ({dialect})", _invoice(dialect))


def invoice_list_schema(dialect: str) -> dict:
    """``GET /api/v1/invoices``: ``{"data": [Invoice], "pagination_meta": {...}}``."""
    _check_dialect(dialect)
    return _root(f"InvoiceListResponse ({dialect})", _list_envelope(_invoice(dialect)))


def customer_schema(dialect: str) -> dict:
    """``GET /api/v1/customers/{id_or_alias}``: a bare Customer."""
    return _root(f"Customer ({dialect})", _customer(dialect))


def customer_list_schema(dialect: str) -> dict:
    """``GET /api/v1/customers``: ``{"data": [Customer], "pagination_meta": {...}}``."""
    return _root(f"CustomerListResponse ({dialect})", _list_envelope(_customer(dialect)))


def error_schema() -> dict:
    """A JSON error body, ``{"code": ErrorCode, "message": string}`` (both dialects)."""
    return _root(
        "RestErrorResponse",
        _closed(
            {
                "code": {"type": "string", "enum": list(ERROR_CODES)},
                "message": _string(minLength=1),
            }
        ),
    )


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
def _is_strict_integer(_checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator = jsonschema.validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)


def validator(schema: dict) -> Any:
    """A checked, reusable validator for ``schema``, with the rules of :func:`validate`."""
    Draft202012Validator.check_schema(schema)
    return _Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(instance: Any, schema: dict) -> None:
    """Validate ``instance`` against ``schema``; raise :class:`jsonschema.ValidationError`.

    Draft 2020-12 with format checking (``date``, ``email``), and ``integer`` meaning a
    JSON integer: ``12.0`` is rejected, as the SDK rejects it.
    """
    validator(schema).validate(instance)
