"""The Metronome-style API's OpenAPI 3.1 document: its operations, parameters and bodies.

`operations` is the API's route table: `MetronomeApi.routes` serves exactly these, in this
order. To add a route, add its `Operation` here (parameters from `params`, replies built from
the schemas below) and its handler in `MetronomeApi.routes` under the same id. The schemas
follow `render` key for key, with the spellings `catalog` gives it.
"""

from __future__ import annotations

from mockserver.generation.fixture import EXTERNAL_STATUSES, PROVIDERS
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
from mockserver.shell.openapi import (
    INTEGER,
    NUMBER,
    STRING,
    STRING_MAP,
    UUID,
    Operation,
    Param,
    Reply,
    Schema,
    array,
    closed,
    enum,
    json_reply,
    nullable,
    ref,
)
from mockserver.shell.openapi import document as build_document

DATETIME: Schema = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
}
CREDIT_TYPE = ref("CreditType")

SCHEMAS: dict[str, Schema] = {
    "CreditType": closed({"id": UUID, "name": {**STRING, "examples": ["USD (cents)"]}}),
    "Tier": closed({"starting_at": INTEGER, "quantity": NUMBER, "price": NUMBER, "subtotal": INTEGER}),
    "SubLineItem": closed(
        {
            "name": STRING,
            "quantity": NUMBER,
            "subtotal": INTEGER,
            "custom_fields": STRING_MAP,
            "start_date": DATETIME,
            "end_date": DATETIME,
            "tiers": array(ref("Tier")),
        }
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
    "Error": closed({"message": STRING}),
}

CUSTOMER_ID = Param("customer_id", UUID, "The customer's id (any letter case).", where="path")
INVOICE_ID = Param("invoice_id", UUID, "The invoice's id (any letter case).", where="path")


def _error(status: int, when: str) -> Reply:
    return json_reply(status, when, ref("Error"))


BAD_REQUEST = _error(400, "A parameter is malformed, out of range or repeated; the message names it.")
UNAUTHORIZED = _error(401, "No bearer token, or one the fixture does not list.")


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
