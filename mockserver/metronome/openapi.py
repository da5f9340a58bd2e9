"""The Metronome-style API's OpenAPI 3.1 document: its operations, parameters and bodies.

`operations` is the API's route table: `MetronomeApi.routes` serves exactly these, in this
order. To add a route, add its `Operation` here (parameters from `params`, a request body and
replies built from the schemas below) and its handler in `MetronomeApi.routes` (a write's in
`MetronomeWrites.handlers`) under the same id. The answers follow `render` key for key, with
the spellings `catalog` gives it; the request bodies are what `writes` reads.
"""

from __future__ import annotations

from mockserver.metronome import params
from mockserver.metronome.catalog import (
    APPLIED_LINE_TYPE,
    BILLABLE_STATUSES,
    COMMIT_TYPE,
    LINE_TYPE,
    PRODUCT_TYPE,
    STATUS_VALUES,
    TYPE_VALUES,
)
from mockserver.metronome.writes import MAX_EVENTS, MAX_NAME, MODES
from mockserver.shell.body import MAX_BODY
from mockserver.shell.openapi import (
    BOOLEAN,
    FILLED,
    INTEGER,
    NUMBER,
    OBJECT,
    STRING,
    STRING_MAP,
    TEXT,
    UUID,
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
from mockserver.world.clock import DAY
from mockserver.world.ingest import HOUR, POLICIES, WINDOW
from mockserver.world.spec import EXTERNAL_STATUSES, PROVIDERS

DATETIME: Schema = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
}
CREDIT_TYPE = ref("CreditType")
_POLICY = POLICIES["metronome"]
TIMESTAMP: Schema = {"type": "string", "format": "date-time", "description": "RFC 3339."}
ID_BODY = accepted({"id": {**UUID, "description": "Any letter case."}})

SCHEMAS: dict[str, Schema] = {
    "CreditType": closed({"id": UUID, "name": {**STRING, "examples": ["USD (cents)"]}}),
    "Tier": closed(
        {"starting_at": NUMBER, "quantity": NUMBER, "price": NUMBER, "subtotal": INTEGER},
        description="A price band with units in it: `quantity` units from `starting_at` on, at `price` each.",
    ),
    "SubLineItem": closed(
        {
            "name": STRING,
            "quantity": NUMBER,
            "subtotal": INTEGER,
            "custom_fields": STRING_MAP,
            "start_date": DATETIME,
            "end_date": DATETIME,
            "tiers": array(ref("Tier")),
        },
        description="A tiered line's charge: its `tiers` add up to its `quantity` and `subtotal`.",
    ),
    "ProductLineItem": closed(
        {
            "credit_type": CREDIT_TYPE,
            "name": STRING,
            "type": enum(LINE_TYPE.values()),
            "total": INTEGER,
            "quantity": NUMBER,
            "starting_at": DATETIME,
            "ending_before": DATETIME,
            "product_id": STRING,
            "product_type": enum(PRODUCT_TYPE.values()),
        },
        {"unit_price": NUMBER, "sub_line_items": array(ref("SubLineItem"))},
        description="A charge for a product; tiered lines have `sub_line_items` and no `unit_price`.",
    ),
    "AppliedCreditLineItem": closed(
        {
            "credit_type": CREDIT_TYPE,
            "name": STRING,
            "type": enum([APPLIED_LINE_TYPE]),
            "total": INTEGER,
            "applied_commit_or_credit": closed({"id": STRING, "type": enum(COMMIT_TYPE)}),
            "commit_id": STRING,
            "commit_type": enum(COMMIT_TYPE.values()),
            "starting_at": DATETIME,
            "ending_before": DATETIME,
        },
        description="A commit or credit drawn down on the invoice (a negative total).",
    ),
    "InvoiceAdjustment": closed(
        {"credit_type": CREDIT_TYPE, "name": STRING, "total": INTEGER},
        {"credit_grant_id": STRING},
        description="An applied credit (with its grant) or a coupon.",
    ),
    "ExternalInvoice": closed(
        {
            "billing_provider_type": enum(PROVIDERS),
            "external_status": enum(EXTERNAL_STATUSES),
            "invoice_id": STRING,
            "invoiced_sub_total": INTEGER,
            "invoiced_total": INTEGER,
            "tax": closed({"total_tax_amount": INTEGER, "total_taxable_amount": INTEGER}),
        },
        {"issued_at_timestamp": DATETIME, "external_payment_id": STRING},
    ),
    "Invoice": closed(
        {
            "id": UUID,
            "customer_id": UUID,
            "type": enum(TYPE_VALUES),
            "status": enum(STATUS_VALUES),
            "credit_type": CREDIT_TYPE,
            "start_timestamp": DATETIME,
            "end_timestamp": DATETIME,
            "issued_at": DATETIME,
            "line_items": array({"oneOf": [ref("ProductLineItem"), ref("AppliedCreditLineItem")]}),
            "subtotal": INTEGER,
            "total": INTEGER,
            "net_payment_terms_days": INTEGER,
            "billable_status": enum(BILLABLE_STATUSES),
            "custom_fields": STRING_MAP,
            "customer_custom_fields": STRING_MAP,
        },
        {
            "contract_id": UUID,
            "invoice_adjustments": array(ref("InvoiceAdjustment")),
            "constituent_invoices": array(
                closed({"contract_id": UUID, "customer_id": UUID, "invoice_id": UUID})
            ),
            "external_invoice": ref("ExternalInvoice"),
            "contract_custom_fields": STRING_MAP,
            "regenerated_from_invoice_id": UUID,
        },
        description="Amounts are integers in the credit type's unit (cents); `total` is what is owed.",
    ),
    "Customer": closed(
        {
            "id": UUID,
            "name": STRING,
            "external_id": STRING,
            "ingest_aliases": array(STRING),
            "custom_fields": STRING_MAP,
            "customer_config": closed({}, {"salesforce_account_id": STRING}),
            "created_at": DATETIME,
            "updated_at": DATETIME,
            "archived_at": nullable(DATETIME),
            "current_billable_status": closed({"value": enum(BILLABLE_STATUSES), "effective_at": DATETIME}),
        }
    ),
    "InvoiceList": closed({"data": array(ref("Invoice")), "next_page": nullable(STRING)}),
    "InvoiceItem": closed({"data": ref("Invoice")}),
    "CustomerList": closed({"data": array(ref("Customer")), "next_page": nullable(STRING)}),
    "CustomerItem": closed({"data": ref("Customer")}),
    # A request that is not valid HTTP is answered before any route knows its API: its error
    # also carries Meteroid's `code` (mockserver/shell/protocol.py).
    "Error": closed({"message": STRING}, {"code": enum(["BAD_REQUEST"])}),
    # request bodies of the write endpoints, as metronome-sdk sends them (types/v1/*_params.py)
    "UsageEvent": accepted(
        {
            "transaction_id": {
                **TEXT,
                "description": f"Remembered {WINDOW // DAY} days, across customers: a duplicate is dropped.",
            },
            "customer_id": {
                **TEXT,
                "description": "The customer's id or one of its ingest aliases. Usage for an id or alias "
                f"no customer has yet is kept {_POLICY.max_age // DAY} days (by its timestamp) and billed "
                "once a customer gets it (created, or `setIngestAliases`).",
            },
            "event_type": TEXT,
        },
        {
            "timestamp": {
                **TIMESTAMP,
                "description": f"RFC 3339, {_POLICY.max_age // DAY} days old at most and "
                f"{_POLICY.max_ahead // HOUR} hours ahead of the clock at most; the clock's time if "
                "left out.",
            },
            "properties": OBJECT,
        },
    ),
    "PreviewEvent": accepted(
        {"event_type": TEXT},
        {
            "timestamp": {**TIMESTAMP, "description": "RFC 3339; the clock's time if left out."},
            "transaction_id": {**TEXT, "description": "Once per request; an ingested one is left out."},
            "properties": OBJECT,
        },
    ),
    "Preview": accepted(
        {"events": array(ref("PreviewEvent"), description="At least one in `merge` mode.")},
        {
            "mode": enum(
                MODES, default=MODES[0], description="Instead of the customer's usage, or on top of it."
            ),
            "skip_zero_qty_line_items": {**BOOLEAN, "default": False},
        },
        allOf=[
            {
                "if": {"properties": {"mode": {"const": "merge"}}, "required": ["mode"]},
                "then": {"properties": {"events": {"minItems": 1}}},
            }
        ],
    ),
    "IngestAliases": accepted(
        {"ingest_aliases": array(FILLED, description="The customer's aliases, whole.")}
    ),
    "CustomerCreate": accepted(
        {"name": {**FILLED, "description": f"Cut to {MAX_NAME} characters."}},
        {
            "ingest_aliases": array(FILLED),
            "external_id": {
                **nullable(FILLED),
                "description": "Deprecated; an ingest alias too; null: none.",
            },
            "custom_fields": STRING_MAP,
        },
    ),
    # answers of the write endpoints
    "Previewed": closed({"data": array(ref("Invoice"))}),
    "Id": closed({"data": closed({"id": UUID})}),
    "CreatedCustomer": closed(
        {
            "data": closed(
                {
                    "id": UUID,
                    "external_id": STRING,
                    "ingest_aliases": array(STRING),
                    "name": STRING,
                    "custom_fields": STRING_MAP,
                }
            )
        }
    ),
}

CUSTOMER_ID = Param("customer_id", UUID, "The customer's id (any letter case).", where="path")
INVOICE_ID = Param("invoice_id", UUID, "The invoice's id (any letter case).", where="path")


def _error(status: int, when: str) -> Reply:
    return json_reply(status, when, ref("Error"))


BAD_REQUEST = _error(400, "A parameter is malformed, out of range or repeated; the message names it.")
UNAUTHORIZED = _error(401, "No bearer token, or one the fixture does not list.")
TOO_LARGE = _error(413, f"The body is over {MAX_BODY // 1024} KiB.")


def _refused(why: str) -> Reply:
    """A write's 400: what the world refuses it for, or a body it cannot read."""
    return _error(400, f"{why}; or the body is not JSON, not declared as JSON, or not of this shape.")


def _write(
    tag: str, op_id: str, path: str, summary: str, description: str, body: Schema, *replies: Reply
) -> Operation:
    """A write endpoint: a POST of a JSON body, submitted to the world as a change (the
    customer id its path may hold is its one parameter); any may be refused 401 or 413."""
    return Operation(
        op_id,
        "POST",
        path,
        summary,
        description,
        params=(CUSTOMER_ID,) if "{customer_id}" in path else (),
        body=body,
        replies=(*replies, UNAUTHORIZED, TOO_LARGE),
        tag=tag,
    )


# The write endpoints (`writes`): their bodies are read as metronome-sdk sends them.
WRITES = (
    _write(
        "usage",
        "ingest",
        "/v1/ingest",
        "Ingest usage events",
        f"1 to {MAX_EVENTS} events. Each lands on the customer's open draft whose period holds it and "
        "whose contract bills a metric it matches; the draft is priced again at once. One refused event "
        "refuses the batch.",
        array(ref("UsageEvent"), minItems=1, maxItems=MAX_EVENTS),
        Reply(200, "Accepted (duplicates dropped); no body."),
        _refused(
            "An empty batch or one over the bound, or an event refused (`usage[3].timestamp`: a field "
            "missing or malformed, a timestamp out of the window)"
        ),
    ),
    _write(
        "usage",
        "previewEvents",
        "/v1/customers/{customer_id}/previewEvents",
        "The customer's drafts as they would be with these events",
        "Nothing is saved.",
        ref("Preview"),
        json_reply(200, "The customer's open drafts, priced with the events.", ref("Previewed")),
        _refused("A malformed event, mode or customer id"),
        _error(404, "No such customer."),
    ),
    _write(
        "invoices",
        "voidInvoice",
        "/v1/invoices/void",
        "Void a finalized invoice",
        "",
        ID_BODY,
        json_reply(200, "The voided invoice's id.", ref("Id")),
        _refused("A draft, an invoice void already, or an id that is no UUID"),
        _error(404, "No such invoice."),
    ),
    _write(
        "invoices",
        "regenerateInvoice",
        "/v1/invoices/regenerate",
        "Regenerate a voided invoice",
        "A new finalized invoice for the same period, priced again, issued now and unpaid, carrying "
        "`regenerated_from_invoice_id`. Once per voided invoice.",
        ID_BODY,
        json_reply(200, "The new invoice's id.", ref("Id")),
        _refused("An invoice that is not void or was regenerated already, or an id that is no UUID"),
        _error(404, "No such invoice."),
    ),
    _write(
        "customers",
        "createCustomer",
        "/v1/customers",
        "Create a customer",
        "With no contract and no invoices. Other fields of the SDK's body are accepted and ignored.",
        ref("CustomerCreate"),
        json_reply(200, "The customer.", ref("CreatedCustomer")),
        _refused("A field of the wrong type, or a name that is blank"),
        _error(409, "An ingest alias another customer holds."),
    ),
    _write(
        "customers",
        "archiveCustomer",
        "/v1/customers/archive",
        "Archive a customer",
        "Its contracts end now, its draft invoices are voided, and no billing period opens for it "
        "again; its invoices stay listed. Its ingest aliases stay its own.",
        ID_BODY,
        json_reply(200, "The archived customer's id.", ref("Id")),
        _refused("A customer archived already, or an id that is no UUID"),
        _error(404, "No such customer."),
    ),
    _write(
        "customers",
        "setIngestAliases",
        "/v1/customers/{customer_id}/setIngestAliases",
        "Replace a customer's ingest aliases",
        "Usage kept for a new alias (sent before any customer had it) is billed at once.",
        ref("IngestAliases"),
        Reply(200, "Set; no body."),
        _refused("Aliases that are not an array of non-empty strings, or a customer id that is no UUID"),
        _error(404, "No such customer."),
        _error(409, "An ingest alias another customer holds."),
    ),
)


def operations(default_sort: str) -> tuple[Operation, ...]:
    """The routes in the order the router tries them: the busiest first, and the literal
    `breakdowns` before the invoice route, so that it is never taken for an invoice id."""
    unknown_customer = _error(404, "No such customer.")
    return (
        Operation(
            "listInvoices",
            "GET",
            "/v1/customers/{customer_id}/invoices",
            "A customer's invoices, a page at a time",
            "Cursor pagination: follow `next_page` until it is null.",
            (CUSTOMER_ID, *params.invoice_list_query(default_sort)),
            replies=(
                json_reply(200, "A page of invoices.", ref("InvoiceList")),
                BAD_REQUEST,
                UNAUTHORIZED,
                unknown_customer,
            ),
            tag="invoices",
        ),
        Operation(
            "listCustomers",
            "GET",
            "/v1/customers",
            "Customers, a page at a time",
            "Active customers unless `only_archived`; cursor pagination as for invoices.",
            params.CUSTOMER_LIST_QUERY,
            replies=(json_reply(200, "A page of customers.", ref("CustomerList")), BAD_REQUEST, UNAUTHORIZED),
            tag="customers",
        ),
        Operation(
            "getCustomer",
            "GET",
            "/v1/customers/{customer_id}",
            "One customer",
            params=(CUSTOMER_ID,),
            replies=(
                json_reply(200, "The customer.", ref("CustomerItem")),
                BAD_REQUEST,
                UNAUTHORIZED,
                unknown_customer,
            ),
            tag="customers",
        ),
        Operation(
            "invoiceBreakdowns",
            "GET",
            "/v1/customers/{customer_id}/invoices/breakdowns",
            "Not emulated",
            "Always 404 for a known customer: this server does not emulate breakdowns.",
            (CUSTOMER_ID,),
            replies=(BAD_REQUEST, UNAUTHORIZED, _error(404, "Not emulated, or no such customer.")),
            tag="invoices",
        ),
        Operation(
            "getInvoice",
            "GET",
            "/v1/customers/{customer_id}/invoices/{invoice_id}",
            "One of a customer's invoices",
            params=(CUSTOMER_ID, INVOICE_ID, *params.INVOICE_GET_QUERY),
            replies=(
                json_reply(200, "The invoice.", ref("InvoiceItem")),
                BAD_REQUEST,
                UNAUTHORIZED,
                _error(404, "No such customer, or no such invoice of this customer."),
            ),
            tag="invoices",
        ),
        *WRITES,
    )


def document(default_sort: str) -> Schema:
    """The document served at /_mock/openapi/metronome.json."""
    return build_document(
        "mockserver: Metronome-style API",
        "Customers and their invoices as the official `metronome-sdk` reads them. Errors are "
        '`{"message": ...}`.',
        operations(default_sort),
        SCHEMAS,
    )
