"""The Meteroid-style API's OpenAPI 3.1 document: its operations, parameters and bodies.

`operations` is the API's route table: `routes.build_routes` serves exactly these, in this
order. To add a route, add its `Operation` here (parameters from `params`, a request body and
replies built from the schemas below) and its handler in `build_routes` (a write's in
`MeteroidWrites.handlers`) under the same id. The request bodies are what `writes` reads.

The schemas follow `render` key for key. Each request is served in one of two spellings (see
`dialect`), so every document that holds an enum or a datetime has one schema per dialect,
built from that dialect's own tables, and a 200 is one or the other: `Documented...` or
`Upstream...`, as the `Meteroid-Dialect` response header says.
"""

from __future__ import annotations

from mockserver.meteroid import params
from mockserver.meteroid.dialect import DIALECT_HEADER, DIALECTS, SDK_DIALECT, SDK_USER_AGENT, Dialect
from mockserver.meteroid.errors import ERROR_CODES
from mockserver.meteroid.render import ADDRESS_KEYS
from mockserver.meteroid.writes import CUSTOMER_TYPES, MAX_EVENTS, RATE, REPLACED, TAX_KEYS
from mockserver.shell.body import MAX_BODY
from mockserver.shell.openapi import (
    BOOLEAN,
    DATE,
    FILLED,
    INTEGER,
    OBJECT,
    STRING,
    STRING_MAP,
    Operation,
    Param,
    Reply,
    Schema,
    accepted,
    array,
    closed,
    enum,
    json_reply,
    nullable,
    ref,
)
from mockserver.shell.openapi import document as build_document
from mockserver.world.accounts import CURRENCY_PATTERN
from mockserver.world.ingest import HOUR, POLICIES

DECIMAL: Schema = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "An exact decimal."}
CURRENCY: Schema = {"type": "string", "pattern": CURRENCY_PATTERN}
OPTIONAL_TEXT = nullable(STRING)


def public_id(prefix: str) -> Schema:
    """A Meteroid id: the prefix and the entity's UUID in base62."""
    return {"type": "string", "pattern": f"^{prefix}_[0-9A-Za-z]{{1,22}}$"}


def _name(dialect: Dialect, what: str) -> str:
    return f"{dialect.name.capitalize()}{what}"


def _dialect_schemas(dialect: Dialect) -> dict[str, Schema]:
    """The documents whose enums or datetimes this dialect spells."""
    moment: Schema = {"type": "string", "pattern": dialect.datetime_pattern}
    maybe = nullable(moment)
    transaction = closed(
        {
            "id": public_id("pay"),
            "provider_transaction_id": OPTIONAL_TEXT,
            "payment_method_id": nullable(public_id("pm")),
            "amount": INTEGER,
            "currency": CURRENCY,
            "error": OPTIONAL_TEXT,
            "status": enum(dialect.transaction_status.values()),
            "payment_type": enum([dialect.payment_type]),
            "processed_at": maybe,
            "payment_method_info": closed(
                {
                    "payment_method_type": enum(dialect.payment_method.values()),
                    "card_brand": OPTIONAL_TEXT,
                    "card_last4": OPTIONAL_TEXT,
                    "account_number_hint": OPTIONAL_TEXT,
                }
            ),
            "amount_refunded": INTEGER,
            "amount_reversed": INTEGER,
        }
    )
    invoice = closed(
        {
            "id": public_id("inv"),
            "invoice_number": STRING,
            "status": enum(dialect.status),
            "customer_id": public_id("cus"),
            "subscription_id": nullable(public_id("sub")),
            "currency": CURRENCY,
            "invoice_date": DATE,
            "due_date": nullable(DATE),
            "subtotal": INTEGER,
            "subtotal_recurring": INTEGER,
            "tax_amount": INTEGER,
            "total": INTEGER,
            "amount_due": INTEGER,
            "memo": OPTIONAL_TEXT,
            "line_items": array(ref("LineItem")),
            "paid_at": maybe,
            "tax_breakdown": array(
                closed(
                    {
                        "taxable_amount": INTEGER,
                        "tax_amount": INTEGER,
                        "tax_rate": DECIMAL,
                        "name": STRING,
                        "exemption_type": nullable(enum(dialect.exemption.values())),
                    }
                )
            ),
            "transactions": array(ref(_name(dialect, "Transaction"))),
            "payment_status": enum(dialect.payment_status),
            "customer_details": closed(
                {
                    "id": public_id("cus"),
                    "name": STRING,
                    "email": OPTIONAL_TEXT,
                    "alias": OPTIONAL_TEXT,
                    "vat_number": OPTIONAL_TEXT,
                    "billing_address": nullable(ref("Address")),
                    "snapshot_at": moment,
                }
            ),
            "applied_credits": INTEGER,
            "coupons": array(closed({"coupon_id": public_id("cou"), "name": STRING, "total": INTEGER})),
            "invoice_type": enum(dialect.invoice_type.values()),
            "net_terms": INTEGER,
            "reference": OPTIONAL_TEXT,
            "purchase_order": OPTIONAL_TEXT,
            "created_at": moment,
            "updated_at": maybe,
            "finalized_at": maybe,
            "voided_at": maybe,
            "marked_as_uncollectible_at": maybe,
            "tax_inclusive": BOOLEAN,
            "custom_properties": STRING_MAP,
        },
        description=f"An invoice in the {dialect.name} spelling. Amounts are integers in minor units.",
    )
    return {
        _name(dialect, "Transaction"): transaction,
        _name(dialect, "Invoice"): invoice,
        _name(dialect, "InvoiceList"): closed(
            {"data": array(ref(_name(dialect, "Invoice"))), "pagination_meta": ref("PaginationMeta")}
        ),
    }


SHARED: dict[str, Schema] = {
    "Address": closed(
        {}, dict.fromkeys(ADDRESS_KEYS, STRING), description="Keys without a value are left out."
    ),
    "LineItem": closed(
        {
            "name": STRING,
            "description": OPTIONAL_TEXT,
            "quantity": DECIMAL,
            "unit_price": nullable(DECIMAL),
            "amount_total": INTEGER,
            "start_date": DATE,
            "end_date": DATE,
            "tax_rate": DECIMAL,
            "sub_line_items": array(
                closed(
                    {
                        "id": STRING,
                        "name": STRING,
                        "total": INTEGER,
                        "quantity": DECIMAL,
                        "unit_price": DECIMAL,
                    }
                ),
                description="A tiered line's price bands with units in it (their totals add up to "
                "`amount_total`); empty for any other line.",
            ),
        },
        description="Prices are in major units; `amount_total` in minor units.",
    ),
    "PaginationMeta": closed(
        {
            "page": {"type": "integer", "minimum": 0},
            "per_page": {"type": "integer", "minimum": 1},
            "total_items": {"type": "integer", "minimum": 0},
            "total_pages": {"type": "integer", "minimum": 0},
        }
    ),
    "Customer": closed(
        {
            "id": public_id("cus"),
            "name": STRING,
            "alias": OPTIONAL_TEXT,
            "billing_email": OPTIONAL_TEXT,
            "invoicing_emails": array(STRING),
            "phone": OPTIONAL_TEXT,
            "billing_address": nullable(ref("Address")),
            "shipping_address": nullable(
                closed({"same_as_billing": BOOLEAN}, {"address": nullable(ref("Address"))})
            ),
            "currency": CURRENCY,
            "invoicing_entity_id": public_id("ive"),
            "connected_account_id": OPTIONAL_TEXT,
            "vat_number": OPTIONAL_TEXT,
            "custom_taxes": array(ref("CustomTaxRate")),
            "custom_properties": STRING_MAP,
            "preferred_locales": array(STRING),
        },
        {
            "customer_type": nullable(enum(CUSTOMER_TYPES)),
            "first_name": OPTIONAL_TEXT,
            "last_name": OPTIONAL_TEXT,
            "legal_number": OPTIONAL_TEXT,
            "buyer_reference": OPTIONAL_TEXT,
            "invoicing_language": {**OPTIONAL_TEXT, "description": "Deprecated: the first preferred locale."},
        },
        description="Every field a write sent, as it was sent. The optional ones are the SDK's, "
        "which the upstream spelling has and the documented one has not.",
    ),
    "CustomTaxRate": closed({"name": STRING, "rate": STRING, "tax_code": STRING}),
    "CustomerList": closed({"data": array(ref("Customer")), "pagination_meta": ref("PaginationMeta")}),
    "Error": closed({"code": enum(ERROR_CODES), "message": STRING}),
    "IngestResult": closed(
        {},
        {"failures": array(closed({"event_id": STRING, "reason": STRING}))},
        description="Empty unless events were refused with `allow_partial_failures`.",
    ),
}

# Request bodies of the write endpoints, as the meteroid SDK sends them (its `models/`).
_GIVEN = nullable(FILLED)  # a text the server keeps: null, or more than white space
_ADDRESS = accepted({}, dict.fromkeys(ADDRESS_KEYS, _GIVEN))
_TAX = accepted({**dict.fromkeys(TAX_KEYS, FILLED), "rate": {**STRING, "pattern": f"^{RATE.pattern}$"}})
_POLICY = POLICIES["meteroid"]


def _refused_if_empty(description: str) -> Schema:
    """A text an event must not leave empty: the check is the event's, so that with
    `allow_partial_failures` the event alone is refused (upstream validates each event)."""
    return {
        **STRING,
        "description": f"{description} Empty: the batch is refused, or with "
        "`allow_partial_failures` this event alone (listed in `failures`).",
    }


_CUSTOMER_FIELDS: dict[str, Schema] = {
    "name": {
        **OPTIONAL_TEXT,
        "description": "Required, unless an individual is named by first and last name (which win).",
    },
    "customer_type": nullable(enum(CUSTOMER_TYPES)),
    "first_name": {**_GIVEN, "description": "A PUT that leaves it out keeps it."},
    "last_name": {**_GIVEN, "description": "A PUT that leaves it out keeps it."},
    "alias": {
        **nullable({**STRING, "pattern": r"^$|\S"}),
        "description": "The customer's first ingest alias; the others are kept. Empty: none.",
    },
    "billing_email": _GIVEN,
    "phone": _GIVEN,
    "vat_number": _GIVEN,
    "legal_number": _GIVEN,
    "buyer_reference": _GIVEN,
    "is_tax_exempt": {**nullable(BOOLEAN), "description": "Kept; no read answers it."},
    "exemption_reason": {**_GIVEN, "description": "Kept; no read answers it."},
    "billing_address": nullable(_ADDRESS),
    "shipping_address": nullable(accepted({"same_as_billing": BOOLEAN}, {"address": nullable(_ADDRESS)})),
    "preferred_locales": nullable(array(FILLED)),
    "invoicing_language": {
        **OPTIONAL_TEXT,
        "description": "Deprecated: the locale when `preferred_locales` is absent.",
    },
    "invoicing_emails": nullable(array(FILLED)),
    "custom_taxes": nullable(array(_TAX)),
    "invoicing_entity_id": nullable(public_id("ive")),
    "custom_properties": nullable(OBJECT),
}
# A customer has a name: its own, or an individual's first and last name (with a country),
# which win over a name given.
_INDIVIDUAL: Schema = {
    "properties": {"customer_type": {"const": CUSTOMER_TYPES[1]}},
    "required": ["customer_type"],
}
_RENAMED: Schema = {"if": _INDIVIDUAL, "else": {"properties": {"name": _GIVEN}}}
_NAMED: Schema = {
    "if": _INDIVIDUAL,
    "then": {
        "properties": {
            "first_name": FILLED,
            "last_name": FILLED,
            "billing_address": {"type": "object", "properties": {"country": FILLED}, "required": ["country"]},
        },
        "required": ["first_name", "last_name", "billing_address"],
    },
    "else": {"properties": {"name": FILLED}, "required": ["name"]},
}
# The language is the locale only when no locales are given: then it cannot be blank.
_LANGUAGE: Schema = {
    "if": {"not": {"required": ["preferred_locales"]}},
    "then": {"properties": {"invoicing_language": _GIVEN}},
}
# What a PUT requires besides its currency, as the SDK types them.
_REPLACED: dict[str, Schema] = {
    "custom_taxes": array(_TAX),
    "invoicing_emails": array(FILLED),
    "invoicing_entity_id": public_id("ive"),
}
REQUESTS: dict[str, Schema] = {
    "Event": accepted(
        {
            "event_id": _refused_if_empty("Remembered 34 days per customer: a duplicate is dropped."),
            "code": _refused_if_empty("A metric's code."),
            "customer_id": _refused_if_empty("A `cus_` id or the customer's alias."),
        },
        {
            "timestamp": nullable(
                {
                    "type": "string",
                    "format": "date-time",
                    "description": f"From {_POLICY.max_age // HOUR} hours before the clock (any time "
                    f"with `allow_backfilling`) to {_POLICY.max_ahead // HOUR} hour after it; the "
                    "clock's time if left out.",
                }
            ),
            "properties": nullable(STRING_MAP),
        },
    ),
    "IngestRequest": accepted(
        {"events": array(ref("Event"), minItems=1, maxItems=MAX_EVENTS)},
        {
            "allow_backfilling": nullable(BOOLEAN),
            "allow_partial_failures": {
                **nullable(BOOLEAN),
                "description": "Refused events are listed in the answer instead of refusing the batch.",
            },
        },
    ),
    "CustomerCreate": accepted(
        {"currency": CURRENCY},
        {**_CUSTOMER_FIELDS, "connected_account_id": _GIVEN},
        allOf=[_NAMED, _LANGUAGE],
    ),
    "CustomerUpdate": accepted(
        {"currency": CURRENCY, **{name: _REPLACED[name] for name in REPLACED}},
        _CUSTOMER_FIELDS,
        allOf=[_RENAMED, _LANGUAGE],
        description="A full replacement: a field left out is cleared.",
    ),
    "CustomerPatch": accepted(
        {},
        {
            "currency": nullable(CURRENCY),
            **_CUSTOMER_FIELDS,
            "custom_properties": {
                **nullable(OBJECT),
                "description": "Merged into the customer's; a key set to null is removed.",
            },
        },
        allOf=[_RENAMED, _LANGUAGE],
        description="Only the fields to change.",
    ),
}
SCHEMAS: dict[str, Schema] = {
    **SHARED,
    **REQUESTS,
    **{name: schema for dialect in DIALECTS.values() for name, schema in _dialect_schemas(dialect).items()},
}


def _either(what: str) -> Schema:
    """A document in whichever dialect the request was served (an empty page is in both)."""
    return {"anyOf": [ref(_name(dialect, what)) for dialect in DIALECTS.values()]}


HEADER = str(DIALECT_HEADER)
SERVED_IN = {HEADER: {**enum(DIALECTS), "description": "The spelling the response is in."}}
UNAUTHORIZED = json_reply(401, "No bearer token, or one the fixture does not list.", ref("Error"))
BAD_DIALECT = json_reply(400, f"An unknown `{DIALECT_HEADER}` header.", ref("Error"))
BAD_QUERY = Reply(
    400,
    "A query value the parser refuses, as `text/plain` (`Failed to deserialize query string: ...`), "
    f"or, as JSON, a bad `order_by` or `{DIALECT_HEADER}` header.",
    {"text/plain": STRING, "application/json": ref("Error")},
)
CUSTOMER = Param("id_or_alias", STRING, "A `cus_` id or the customer's alias.", where="path")
NO_CUSTOMER = json_reply(404, "No such customer.", ref("Error"))
ALIAS_TAKEN = json_reply(409, "An alias another customer holds.", ref("Error"))
# How a body is refused before anything is asked of the world, as axum's JSON extractor does.
BODY_REFUSALS = (
    Reply(413, f"The body is over {MAX_BODY // 1024} KiB.", {"text/plain": STRING}),
    Reply(415, "The body is not declared as `application/json`.", {"text/plain": STRING}),
)


def _refused(why: str) -> Reply:
    """A write's 400: a body that does not deserialize (`text/plain`, in axum's words), or, as
    JSON, what the world refuses or an unknown dialect header."""
    return Reply(
        400,
        "A body that is not JSON or does not deserialize into the request type, as `text/plain` "
        f"(`Failed to deserialize the JSON body into the target type: ...`); or, as JSON, {why} or an "
        f"unknown `{DIALECT_HEADER}` header.",
        {"text/plain": STRING, "application/json": ref("Error")},
    )


def _dialect_param(default: str) -> Param:
    """The header that picks the spelling, on every operation: each answers in either."""
    return Param(
        HEADER,
        enum(DIALECTS, default=default),
        f"The spelling of enum values and datetimes, in filters and answers. Without it, a client "
        f"whose User-Agent starts with `{SDK_USER_AGENT}` (the official SDK) gets `{SDK_DIALECT}`, "
        f"any other the server's default.",
        where="header",
    )


def operations(default_dialect: str) -> tuple[Operation, ...]:
    """The routes, in the order the router tries them; the dialect header defaults to the server's."""
    dialect = _dialect_param(default_dialect)
    return (
        Operation(
            "listInvoices",
            "GET",
            "/api/v1/invoices",
            "Invoices across customers, a page at a time",
            "Page pagination: `pagination_meta` gives the totals; a page past the end is empty.",
            (*params.INVOICE_LIST_QUERY, dialect),
            replies=(
                json_reply(200, "A page of invoices.", _either("InvoiceList"), **SERVED_IN),
                BAD_QUERY,
                UNAUTHORIZED,
            ),
            tag="invoices",
        ),
        Operation(
            "getInvoice",
            "GET",
            "/api/v1/invoices/{invoice_id}",
            "One invoice",
            params=(
                Param("invoice_id", STRING, "An `inv_` id or the invoice's UUID.", where="path"),
                dialect,
            ),
            replies=(
                json_reply(200, "The invoice.", _either("Invoice"), **SERVED_IN),
                BAD_DIALECT,
                UNAUTHORIZED,
                json_reply(404, "No such invoice.", ref("Error")),
            ),
            tag="invoices",
        ),
        Operation(
            "listCustomers",
            "GET",
            "/api/v1/customers",
            "Customers, a page at a time",
            params=(*params.CUSTOMER_LIST_QUERY, dialect),
            replies=(
                json_reply(200, "A page of customers.", ref("CustomerList"), **SERVED_IN),
                BAD_QUERY,
                UNAUTHORIZED,
            ),
            tag="customers",
        ),
        Operation(
            "getCustomer",
            "GET",
            "/api/v1/customers/{id_or_alias}",
            "One customer, by id or alias",
            params=(CUSTOMER, dialect),
            replies=(
                json_reply(200, "The customer.", ref("Customer"), **SERVED_IN),
                BAD_DIALECT,
                UNAUTHORIZED,
                NO_CUSTOMER,
            ),
            tag="customers",
        ),
        *_writes(dialect),
    )


def _writes(dialect: Param) -> tuple[Operation, ...]:
    """The write endpoints (`writes`): bodies as the SDK sends them, answers in the request's
    dialect (a customer is the same in both)."""
    changed = (  # what a PUT or a PATCH of a customer answers
        json_reply(200, "The customer as it is now.", ref("Customer"), **SERVED_IN),
        _refused("a blank name or a bad currency"),
        UNAUTHORIZED,
        NO_CUSTOMER,
        ALIAS_TAKEN,
        *BODY_REFUSALS,
    )
    return (
        Operation(
            "ingestEvents",
            "POST",
            "/api/v1/events/ingest",
            "Ingest usage events",
            f"1 to {MAX_EVENTS} events. Each lands on the customer's open draft whose period holds it "
            "and whose subscription bills a metric it matches; the draft is priced again at once.",
            (dialect,),
            body=ref("IngestRequest"),
            replies=(
                json_reply(200, "Accepted (duplicates dropped).", ref("IngestResult"), **SERVED_IN),
                _refused("a batch of the wrong size or an event refused (`events[3].timestamp`)"),
                UNAUTHORIZED,
                *BODY_REFUSALS,
            ),
            tag="usage",
        ),
        Operation(
            "createCustomer",
            "POST",
            "/api/v1/customers",
            "Create a customer",
            "With no subscription and no invoices.",
            (dialect,),
            body=ref("CustomerCreate"),
            replies=(
                json_reply(201, "The customer.", ref("Customer"), **SERVED_IN),
                _refused("a blank name or a bad currency"),
                UNAUTHORIZED,
                ALIAS_TAKEN,
                *BODY_REFUSALS,
            ),
            tag="customers",
        ),
        Operation(
            "replaceCustomer",
            "PUT",
            "/api/v1/customers/{id_or_alias}",
            "Replace a customer's fields",
            params=(CUSTOMER, dialect),
            body=ref("CustomerUpdate"),
            replies=changed,
            tag="customers",
        ),
        Operation(
            "patchCustomer",
            "PATCH",
            "/api/v1/customers/{id_or_alias}",
            "Change some of a customer's fields",
            params=(CUSTOMER, dialect),
            body=ref("CustomerPatch"),
            replies=changed,
            tag="customers",
        ),
        Operation(
            "archiveCustomer",
            "DELETE",
            "/api/v1/customers/{id_or_alias}",
            "Archive a customer",
            "Refused while one of its subscriptions runs (as upstream: they are to be ended first). No "
            "new billing period opens for it; its invoices stay as they are.",
            (CUSTOMER, dialect),
            replies=(
                Reply(204, "Archived."),
                json_reply(
                    400,
                    "A subscription of its runs (`Invalid input: Cannot archive customer with active "
                    f"subscriptions...`), archived already, or an unknown `{DIALECT_HEADER}` header.",
                    ref("Error"),
                ),
                UNAUTHORIZED,
                NO_CUSTOMER,
            ),
            tag="customers",
        ),
        Operation(
            "unarchiveCustomer",
            "POST",
            "/api/v1/customers/{id_or_alias}/unarchive",
            "Unarchive a customer",
            "Billing does not resume: a subscription whose next period did not open while the "
            "customer was archived opens none.",
            (CUSTOMER, dialect),
            replies=(
                Reply(204, "Active again."),
                json_reply(400, f"Not archived, or an unknown `{DIALECT_HEADER}` header.", ref("Error")),
                UNAUTHORIZED,
                NO_CUSTOMER,
            ),
            tag="customers",
        ),
    )


def document(default_dialect: str) -> Schema:
    """The document served at /_mock/openapi/meteroid.json."""
    return build_document(
        "mockserver: Meteroid-style API",
        "Invoices and customers as the Meteroid API documents them and as the official `meteroid` "
        f"SDK reads them, in two spellings chosen per request (`{DIALECT_HEADER}`). JSON errors are "
        '`{"code": ..., "message": ...}`.',
        operations(default_dialect),
        SCHEMAS,
    )
