"""Self-tests of the Meteroid response schemas: they accept hand-written valid bodies of
both dialects (which the SDK decodes too) and reject what they must."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError
from meteroid import models as sdk

from tests.meteroid import schemas as S

# A finalized, partly paid invoice, everything filled in: the seed's (documented) spelling.
DOCUMENTED_INVOICE: dict[str, Any] = {
    "id": "inv_7n42DGM5Tflk9n8mt7Fhc7",
    "invoice_number": "INV-000042",
    "status": "Finalized",
    "customer_id": "cus_3xT9aQ1",
    "subscription_id": "sub_7n42DGM5Tflk9n8mt7Fhc7",
    "currency": "EUR",
    "invoice_date": "2023-12-25",
    "due_date": "2024-01-24",
    "subtotal": 12500,
    "subtotal_recurring": 10000,
    "tax_amount": 2500,
    "total": 15000,
    "amount_due": 5000,
    "memo": "Thanks!",
    "line_items": [
        {
            "name": "Pro plan",
            "description": "Monthly seats",
            "quantity": "12.5",
            "unit_price": "800",
            "amount_total": 10000,
            "start_date": "2023-12-01",
            "end_date": "2023-12-31",
            "tax_rate": "0.2",
            "sub_line_items": [
                {
                    "id": "tier-1",
                    "name": "First 10 seats",
                    "total": 8000,
                    "quantity": "10",
                    "unit_price": "800.00",
                }
            ],
        },
        {
            "name": "Setup",
            "description": None,
            "quantity": None,
            "unit_price": None,
            "amount_total": 2500,
            "start_date": "2023-12-25",
            "end_date": "2023-12-25",
            "tax_rate": "0",
            "sub_line_items": [],
        },
    ],
    "paid_at": None,
    "tax_breakdown": [
        {
            "name": "VAT 20%",
            "tax_amount": 2500,
            "tax_rate": "0.2",
            "taxable_amount": 12500,
            "exemption_type": None,
        },
        {
            "name": "Reverse charge",
            "tax_amount": 0,
            "tax_rate": "0",
            "taxable_amount": 0,
            "exemption_type": "ReverseCharge",
        },
    ],
    "transactions": [
        {
            "id": "pay_1",
            "amount": 10000,
            "currency": "EUR",
            "status": "Settled",
            "payment_type": "Payment",
            "payment_method_id": "pm_7n42DGM5Tflk9n8mt7Fhc7",
            "payment_method_info": {
                "payment_method_type": "BankTransfer",
                "card_brand": None,
                "card_last4": None,
                "account_number_hint": "FR76 **** 1234",
            },
            "processed_at": "2023-12-26T09:15:00.250Z",
            "provider_transaction_id": "pi_123",
            "error": None,
            "amount_refunded": 0,
            "amount_reversed": 0,
        }
    ],
    "payment_status": "PartiallyPaid",
    "customer_details": {
        "id": "cus_3xT9aQ1",
        "name": "Acme SAS",
        "email": "billing@acme.example",
        "alias": "acme",
        "vat_number": "FR12345678901",
        "billing_address": {"line1": "1 rue de la Paix", "city": "Paris", "country": "FR"},
        "snapshot_at": "2023-12-25T00:00:00Z",
    },
    "applied_credits": 0,
    "coupons": [{"coupon_id": "cou_abc", "name": "WELCOME10", "total": 1000}],
    "invoice_type": "OneOff",
    "net_terms": 30,
    "reference": "REF-1",
    "purchase_order": "PO-9",
    "created_at": "2023-11-07T05:31:56Z",
    "updated_at": "2023-12-26T09:15:00Z",
    "finalized_at": "2023-12-25T10:00:00Z",
    "voided_at": None,
    "marked_as_uncollectible_at": None,
    "tax_inclusive": False,
    "custom_properties": {},
}

# A draft invoice with every optional value null: the upstream spelling.
UPSTREAM_INVOICE: dict[str, Any] = {
    "id": "inv_Zz09",
    "invoice_number": "DRAFT-7",
    "status": "DRAFT",
    "customer_id": "cus_7n42DGM5Tflk9n8mt7Fhc7",
    "subscription_id": None,
    "currency": "USD",
    "invoice_date": "2026-01-01",
    "due_date": None,
    "subtotal": -500,
    "subtotal_recurring": 0,
    "tax_amount": 0,
    "total": -500,
    "amount_due": 0,
    "memo": None,
    "line_items": [
        {
            "name": "Credit",
            "description": None,
            "quantity": "-1",
            "unit_price": "5",
            "amount_total": -500,
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
            "tax_rate": "0",
            "sub_line_items": [],
        }
    ],
    "paid_at": None,
    "tax_breakdown": [
        {
            "name": "Exempt",
            "tax_amount": 0,
            "tax_rate": "0",
            "taxable_amount": 0,
            "exemption_type": "NOT_REGISTERED",
        }
    ],
    "transactions": [
        {
            "id": "pay_42",
            "amount": 500,
            "currency": "USD",
            "status": "FAILED",
            "payment_type": "REFUND",
            "payment_method_id": None,
            "payment_method_info": {
                "payment_method_type": "CARD",
                "card_brand": "visa",
                "card_last4": "4242",
                "account_number_hint": None,
            },
            "processed_at": None,
            "provider_transaction_id": None,
            "error": "card_declined",
            "amount_refunded": 0,
            "amount_reversed": 0,
        }
    ],
    "payment_status": "UNPAID",
    "customer_details": {
        "id": "cus_7n42DGM5Tflk9n8mt7Fhc7",
        "name": "Jane Doe",
        "email": None,
        "alias": None,
        "vat_number": None,
        "billing_address": None,
        "snapshot_at": "2026-01-01T10:00:00.123456",
    },
    "applied_credits": 0,
    "coupons": [],
    "invoice_type": "USAGE_THRESHOLD",
    "net_terms": 0,
    "reference": None,
    "purchase_order": None,
    "created_at": "2026-01-01T10:00:00",
    "updated_at": None,
    "finalized_at": None,
    "voided_at": None,
    "marked_as_uncollectible_at": None,
    "tax_inclusive": True,
    "custom_properties": {"region": "emea"},
}

INVOICES = {"documented": DOCUMENTED_INVOICE, "upstream": UPSTREAM_INVOICE}

CUSTOMER: dict[str, Any] = {
    "id": "cus_3xT9aQ1",
    "name": "Acme SAS",
    "alias": "acme",
    "billing_email": "billing@acme.example",
    "invoicing_emails": ["ap@acme.example"],
    "phone": None,
    "currency": "EUR",
    "invoicing_entity_id": "ive_7n42DGM5Tflk9n8mt7Fhc7",
    "billing_address": {"line1": "1 rue de la Paix", "zip_code": "75002", "country": "FR"},
    "shipping_address": {"same_as_billing": True},
    "vat_number": None,
    "connected_account_id": None,
    "custom_taxes": [{"tax_code": "FR-VAT", "name": "VAT", "rate": "0.20"}],
    "custom_properties": {},
    "preferred_locales": ["fr-FR", "en"],
}

SDK_CUSTOMER_FIELDS: dict[str, Any] = {
    "customer_type": "COMPANY",
    "first_name": None,
    "last_name": None,
    "legal_number": "552 100 554",
    "buyer_reference": None,
    "invoicing_language": "fr-FR",
}
MINIMAL_CUSTOMER: dict[str, Any] = {
    **CUSTOMER,
    "alias": None,
    "billing_email": None,
    "invoicing_emails": [],
    "billing_address": None,
    "shipping_address": None,
    "custom_taxes": [],
    "preferred_locales": [],
}

PAGINATION = {"page": 0, "per_page": 10, "total_items": 1, "total_pages": 1}


def _all_schemas() -> list[dict]:
    schemas = [S.error_schema()]
    for dialect in S.DIALECTS:
        schemas += [
            S.invoice_schema(dialect),
            S.invoice_list_schema(dialect),
            S.customer_schema(dialect),
            S.customer_list_schema(dialect),
        ]
    return schemas


def test_schemas_are_valid_draft_2020_12() -> None:
    for schema in _all_schemas():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError):
        S.invoice_schema("pascal")


@pytest.mark.parametrize("dialect", ["documented", "upstream"])
def test_accepts_valid_invoices_and_lists(dialect: str) -> None:
    invoice = INVOICES[dialect]
    S.validate(invoice, S.invoice_schema(dialect))
    body = {"data": [invoice, invoice], "pagination_meta": PAGINATION}
    S.validate(body, S.invoice_list_schema(dialect))
    S.validate({"data": [], "pagination_meta": {**PAGINATION, "page": 3}}, S.invoice_list_schema(dialect))


def customer_in(dialect: str, customer: dict[str, Any]) -> dict[str, Any]:
    """The customer as the dialect writes it: the upstream one adds the SDK's fields."""
    return {**customer, **SDK_CUSTOMER_FIELDS} if dialect == "upstream" else customer


@pytest.mark.parametrize("dialect", ["documented", "upstream"])
def test_accepts_valid_customers_and_lists(dialect: str) -> None:
    customers = [customer_in(dialect, c) for c in (CUSTOMER, MINIMAL_CUSTOMER)]
    for customer in customers:
        S.validate(customer, S.customer_schema(dialect))
    S.validate({"data": customers, "pagination_meta": PAGINATION}, S.customer_list_schema(dialect))


def test_only_the_upstream_dialect_has_the_sdks_customer_fields() -> None:
    with pytest.raises(ValidationError):
        S.validate(customer_in("upstream", CUSTOMER), S.customer_schema("documented"))
    with pytest.raises(ValidationError):
        S.validate(CUSTOMER, S.customer_schema("upstream"))


def test_accepts_error_bodies() -> None:
    S.validate(
        {"code": "UNAUTHORIZED", "message": "Invalid or missing Authorization header"},
        S.error_schema(),
    )
    S.validate({"code": "NOT_FOUND", "message": "Invoice not found"}, S.error_schema())


@pytest.mark.parametrize("dialect", ["documented", "upstream"])
def test_valid_examples_decode_with_the_sdk(dialect: str) -> None:
    invoice = sdk.Invoice.from_dict(INVOICES[dialect])
    assert invoice.tax_inclusive is INVOICES[dialect]["tax_inclusive"]
    sdk.InvoiceListResponse.from_dict({"data": [INVOICES[dialect]], "pagination_meta": PAGINATION})
    customers = [customer_in(dialect, c) for c in (CUSTOMER, MINIMAL_CUSTOMER)]
    sdk.CustomerListResponse.from_dict({"data": customers, "pagination_meta": PAGINATION})
    sdk.RestErrorResponse.from_dict({"code": "NOT_FOUND", "message": "x"})


def test_upstream_enum_values_are_the_sdks() -> None:
    sdk_enums = {
        "invoice_status": sdk.InvoiceStatus,
        "invoice_payment_status": sdk.InvoicePaymentStatus,
        "invoice_type": sdk.InvoiceType,
        "tax_exemption_type": sdk.TaxExemptionType,
        "transaction_status": sdk.PaymentStatusEnum,
        "payment_type": sdk.PaymentTypeEnum,
        "payment_method_type": sdk.PaymentMethodTypeEnum,
    }
    for name, enum in sdk_enums.items():
        assert set(S.enum_values(name, "upstream")) <= {m.value for m in enum}, name
    assert set(S.ERROR_CODES) <= {m.value for m in sdk.ErrorCode}


def _mutated(example: dict, path: tuple, value: Any = ..., *, delete: bool = False) -> dict:
    body = copy.deepcopy(example)
    target = body
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


INVOICE_REJECTIONS = [
    # (dialect, path, value or "DELETE")
    ("upstream", ("status",), "Draft"),
    ("upstream", ("payment_status",), "PartiallyPaid"),
    ("upstream", ("invoice_type",), "OneOff"),
    ("upstream", ("transactions", 0, "payment_method_info", "payment_method_type"), "Card"),
    ("documented", ("status",), "FINALIZED"),
    ("documented", ("tax_breakdown", 1, "exemption_type"), "REVERSE_CHARGE"),
    (
        "documented",
        ("transactions", 0, "payment_method_info", "payment_method_type"),
        "BANK_TRANSFER",
    ),
    ("upstream", ("created_at",), "2026-01-01T10:00:00Z"),
    ("upstream", ("created_at",), "2026-01-01T10:00:00+00:00"),
    ("upstream", ("created_at",), "2026-01-01T10:00:00.000"),
    ("upstream", ("created_at",), "2026-01-01T10:00:00.123000"),
    ("upstream", ("customer_details", "snapshot_at"), "2026-01-01 10:00:00"),
    ("documented", ("created_at",), "2023-11-07T05:31:56"),
    ("documented", ("finalized_at",), "2023-11-07T05:31:56+00:00"),
    ("documented", ("transactions", 0, "processed_at"), "2023-12-26T09:15:00.25Z"),
    ("documented", ("invoice_date",), "2023-12-25T00:00:00Z"),
    ("documented", ("invoice_date",), "2023-02-30"),
    ("upstream", ("due_date",), "2026-1-5"),
    ("documented", ("memo",), "DELETE"),
    ("documented", ("voided_at",), "DELETE"),
    ("upstream", ("tax_inclusive",), "DELETE"),
    ("upstream", ("custom_properties",), "DELETE"),
    ("documented", ("transactions", 0, "amount_refunded"), "DELETE"),
    ("documented", ("transactions", 0, "amount_reversed"), "DELETE"),
    ("documented", ("line_items", 1, "unit_price"), "DELETE"),
    ("documented", ("total",), 150.5),
    ("documented", ("total",), 15000.0),
    ("upstream", ("line_items", 0, "amount_total"), "-500"),
    ("documented", ("line_items", 0, "quantity"), 12.5),
    ("documented", ("line_items", 0, "sub_line_items", 0, "unit_price"), "8e2"),
    ("documented", ("tax_breakdown", 0, "tax_rate"), 0.2),
    ("documented", ("tax_inclusive",), "false"),
    ("documented", ("id",), "in_7n42DGM5Tflk9n8mt7Fhc7"),
    ("documented", ("id",), "inv_7n42DGM5Tflk9n8mt7Fhc7X"),
    ("documented", ("id",), "inv_"),
    ("documented", ("customer_id",), "inv_3xT9aQ1"),
    ("documented", ("subscription_id",), "sub_7n42-DGM5"),
    ("documented", ("transactions", 0, "payment_method_id"), "card_1"),
    ("documented", ("coupons", 0, "coupon_id"), "WELCOME10"),
    ("documented", ("currency",), "eur"),
    ("documented", ("customer_details", "billing_address", "country"), "FRA"),
    ("documented", ("customer_details", "billing_address", "line2"), None),
    ("documented", ("customer_details", "billing_address", "county"), "x"),
    ("documented", ("extra",), 1),
    ("documented", ("line_items", 0, "extra"), 1),
    ("documented", ("line_items", 0, "sub_line_items", 0, "extra"), 1),
    ("documented", ("tax_breakdown", 0, "exemption_reason"), None),
    ("documented", ("transactions", 0, "refund_mode"), None),
    ("documented", ("coupons", 0, "extra"), 1),
    ("documented", ("customer_details", "extra"), 1),
    ("upstream", ("billing_period_start",), None),
]


@pytest.mark.parametrize(("dialect", "path", "value"), INVOICE_REJECTIONS)
def test_invoice_rejections(dialect: str, path: tuple, value: Any) -> None:
    example = INVOICES[dialect]
    bad = _mutated(example, path, delete=True) if value == "DELETE" else _mutated(example, path, value)
    with pytest.raises(ValidationError):
        S.validate(bad, S.invoice_schema(dialect))
    with pytest.raises(ValidationError):
        S.validate({"data": [example, bad], "pagination_meta": PAGINATION}, S.invoice_list_schema(dialect))


@pytest.mark.parametrize("dialect", ["documented", "upstream"])
def test_a_dialect_rejects_the_other(dialect: str) -> None:
    other = "upstream" if dialect == "documented" else "documented"
    with pytest.raises(ValidationError):
        S.validate(INVOICES[other], S.invoice_schema(dialect))


@pytest.mark.parametrize(
    "meta",
    [
        {"page": 0, "per_page": 10, "total_items": 1},
        {"page": -1, "per_page": 10, "total_items": 1, "total_pages": 1},
        {"page": 0, "per_page": 0, "total_items": 0, "total_pages": 0},
        {"page": 0, "per_page": 101, "total_items": 1, "total_pages": 1},
        {"page": 0, "per_page": 10, "total_items": 1, "total_pages": 1, "next": None},
        {"page": "0", "per_page": 10, "total_items": 1, "total_pages": 1},
    ],
)
def test_pagination_meta_rejections(meta: dict) -> None:
    with pytest.raises(ValidationError):
        S.validate({"data": [], "pagination_meta": meta}, S.invoice_list_schema("upstream"))
    with pytest.raises(ValidationError):
        S.validate({"data": [], "pagination_meta": meta}, S.customer_list_schema("documented"))


def test_list_envelope_rejections() -> None:
    schema = S.invoice_list_schema("documented")
    with pytest.raises(ValidationError):
        S.validate({"data": []}, schema)
    with pytest.raises(ValidationError):
        S.validate([DOCUMENTED_INVOICE], schema)
    with pytest.raises(ValidationError):
        S.validate({"data": [], "pagination_meta": PAGINATION, "has_more": False}, schema)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("id",), "cus_"),
        (("invoicing_entity_id",), "inv_7n42DGM5Tflk9n8mt7Fhc7"),
        (("custom_properties",), "DELETE"),
        (("preferred_locales",), "DELETE"),
        (("phone",), "DELETE"),
        (("invoicing_emails",), None),
        (("billing_email",), "not-an-email"),
        (("currency",), "Euro"),
        (("customer_type",), "company"),
        (("shipping_address",), {"address": None}),
        (("billing_address", "country"), None),
        (("custom_taxes",), [{"tax_code": "X", "name": "X", "rate": 0.2}]),
    ],
)
def test_customer_rejections(path: tuple, value: Any) -> None:
    for dialect in S.DIALECTS:
        good = customer_in(dialect, CUSTOMER)
        bad = _mutated(good, path, delete=True) if value == "DELETE" else _mutated(good, path, value)
        with pytest.raises(ValidationError):
            S.validate(bad, S.customer_schema(dialect))


@pytest.mark.parametrize(
    "body",
    [
        {"code": "NOT_FOUND"},
        {"message": "x"},
        {"code": "TOKEN_EXPIRED", "message": "x"},
        {"code": "not_found", "message": "x"},
        {"code": "NOT_FOUND", "message": None},
        {"code": "NOT_FOUND", "message": "x", "details": []},
    ],
)
def test_error_rejections(body: dict) -> None:
    with pytest.raises(ValidationError):
        S.validate(body, S.error_schema())
