"""The fixture format as a JSON Schema (draft 2020-12), for editors: completion, descriptions
and a red underline on a misspelt key while a fixture is written, before `mockserver check`.

It is built from the validator's own vocabularies (statuses, kinds, profile fields, fault rule
keys) so the two cannot list different words; the bounds are the validator's, and a test checks
that the schema accepts every shipped fixture and refuses what the validator refuses. The
validator stays the authority: cross-references (a contract id an invoice names, unique ids, a
tier's currencies) are beyond what a schema says.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mockserver.world.endpoints import APIS as WEBHOOK_APIS
from mockserver.world.endpoints import ID_PATTERN, MAX_ENDPOINTS, TYPE_PATTERN
from mockserver.world.faults import MATCH_KEYS, MAX_DELAY_MS, RESPOND_KEYS, RULE_KEYS
from mockserver.world.spec import (
    AGGREGATIONS,
    DIALECTS,
    EXTERNAL_STATUSES,
    ISOLATIONS,
    KINDS,
    PAST_STATUSES,
    PAYMENT_METHODS,
    PAYMENT_STATUSES,
    PROVIDERS,
    SORTS,
    STATUSES,
    Address,
    InvoiceSpec,
    Profile,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
MAX_GENERATED_CUSTOMERS = 1_000_000
MAX_MONTHS = 600
MAX_CONTRACTS = 50
MAX_NET_TERMS = 365
MAX_AMOUNT = 10**12  # credits and coupons, in minor units
MAX_SEED = 2**63 - 1
Schema = dict[str, Any]


def _described(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description}


def _object(properties: dict[str, Schema], description: str, required: tuple[str, ...] = ()) -> Schema:
    """A mapping with exactly these keys: any other is a typo the validator refuses too."""
    schema: Schema = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _integer(low: int, high: int | None = None) -> Schema:
    schema: Schema = {"type": "integer", "minimum": low}
    if high is not None:
        schema["maximum"] = high
    return schema


TEXT: Schema = {"type": "string", "minLength": 1, "pattern": r"\S"}
UUID: Schema = {"type": "string", "format": "uuid"}
CURRENCY: Schema = {"type": "string", "pattern": "^[A-Z]{3}$"}
COUNTRY: Schema = {"type": "string", "pattern": "^[A-Z]{2}$"}
# YAML 1.2 editors read an unquoted timestamp as a string; the validator reads RFC 3339
# timestamps (with `Z`, an offset or none: UTC) and bare dates (midnight UTC).
TIMESTAMP: Schema = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}"}
DECIMAL: Schema = {
    "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\d+(\.\d+)?$"}]
}
SHARE: Schema = {"type": "number", "minimum": 0, "maximum": 1}
STRING_MAP: Schema = {"type": "object", "additionalProperties": {"type": ["string", "number"]}}


def _enum(values: tuple[str, ...]) -> Schema:
    return {"enum": list(values)}


def _weights(keys: tuple[str, ...] | Schema) -> Schema:
    """Relative weights by name (or by currency code); at least one positive."""
    names = _enum(keys) if isinstance(keys, tuple) else keys
    return {
        "type": "object",
        "propertyNames": names,
        "additionalProperties": {"type": "number", "minimum": 0},
        "minProperties": 1,
    }


def _profile_fields() -> dict[str, Schema]:
    """How invoice histories are generated; one entry per field of `Profile`."""
    fields = {
        "months": _described(_integer(1, MAX_MONTHS), "Months of invoice history per contract."),
        "contracts": _described(_integer(1, MAX_CONTRACTS), "Contracts per generated customer."),
        "currencies": _described(_weights(CURRENCY), "Weights of the invoice currencies (ISO 4217)."),
        "status_mix": _described(_weights(PAST_STATUSES), "Weights of the statuses of past invoices."),
        "void_share": _described(SHARE, "Share of past invoices voided."),
        "type_mix": _described(_weights(KINDS), "Weights of the invoice types."),
        "zero_qty_share": _described(SHARE, "Share of line items with a zero quantity."),
        "credits_share": _described(SHARE, "Share of invoices with credits applied."),
        "coupons_share": _described(SHARE, "Share of invoices with coupons applied."),
        "tax_exempt_share": _described(SHARE, "Share of invoices without tax."),
        "billing_provider": {
            "description": "Where invoices are sent (their external status); null: nowhere.",
            "anyOf": [
                {"type": "null"},
                _object(
                    {
                        "type": _described(_enum(PROVIDERS), "The billing provider."),
                        "statuses": _described(
                            _weights(EXTERNAL_STATUSES), "Weights of the external statuses."
                        ),
                    },
                    "A billing provider.",
                    required=("type",),
                ),
            ],
        },
        "payments": _described(_weights(PAYMENT_STATUSES), "Weights of the payment outcomes."),
        "payment_methods": _described(_weights(PAYMENT_METHODS), "Weights of the payment methods."),
        "net_terms": _described(_integer(0, MAX_NET_TERMS), "Days from issue to due date."),
    }
    names = [field.name for field in dataclasses.fields(Profile)]
    return {name: fields[name] for name in names}  # a new Profile field without a schema fails here


def _line_item() -> Schema:
    return _object(
        {
            "name": _described(TEXT, "The line's name."),
            "quantity": _described(DECIMAL, "Units billed."),
            "unit_price": _described(DECIMAL, "Price per unit, in major units."),
            "description": _described(TEXT, "A description of the line."),
        },
        "A line item of a pinned invoice.",
        required=("name", "quantity", "unit_price"),
    )


def _invoice(top_level: bool) -> Schema:
    """A pinned invoice; at the top level it names its customer."""
    fields = {
        "id": _described(UUID, "The invoice id."),
        "number": _described(TEXT, "The invoice number."),
        "contract_id": _described(UUID, "A contract the customer pins."),
        "status": _described(_enum(STATUSES), "The invoice status."),
        "type": _described(_enum(KINDS), "The invoice type."),
        "currency": _described(CURRENCY, "ISO 4217 currency code."),
        "period_start": _described(TIMESTAMP, "Billing period start (with period_end)."),
        "period_end": _described(TIMESTAMP, "Billing period end, after period_start."),
        "issued_at": _described(TIMESTAMP, "When it was issued."),
        "payment_status": _described(_enum(PAYMENT_STATUSES), "The payment outcome."),
        "external_status": _described(_enum(EXTERNAL_STATUSES), "The billing provider's status."),
        "memo": _described(TEXT, "A memo."),
        "purchase_order": _described(TEXT, "A purchase order number."),
        "reference": _described(TEXT, "A reference."),
        "net_terms": _described(_integer(0, MAX_NET_TERMS), "Days from issue to due date."),
        "tax_rate": _described(
            {
                "anyOf": [
                    {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                    {"type": "string", "pattern": r"^0(\.\d+)?$"},
                ]
            },
            "Tax rate below 1 (0.2 is 20%).",
        ),
        "credits": _described(_integer(0, MAX_AMOUNT), "Credits applied, in minor units."),
        "coupons": _described(_integer(0, MAX_AMOUNT), "Coupons applied, in minor units."),
        "line_items": _described(
            {"type": "array", "items": _line_item(), "minItems": 1}, "The invoice's lines."
        ),
        "custom_fields": _described(STRING_MAP, "Custom fields, name to value."),
    }
    names = [field.name for field in dataclasses.fields(InvoiceSpec) if field.name != "path"]
    properties = {name: fields[name] for name in names}
    if not top_level:
        return _object(properties, "A pinned invoice: fields left out are generated.")
    properties["customer"] = _described(TEXT, "The id, alias or name of a pinned customer.")
    return _object(
        properties, "A pinned invoice of a pinned customer: fields left out are generated.", ("customer",)
    )


def _invoices(top_level: bool) -> Schema:
    """A profile (the world's defaults, or a customer's overrides) and pinned invoices."""
    pinned = {"type": "array", "items": _invoice(top_level)}
    return _object(
        {**_profile_fields(), "pinned": _described(pinned, "Invoices with fixed fields.")},
        "How invoice histories are generated, and invoices pinned exactly.",
    )


def _contract() -> Schema:
    return _object(
        {
            "id": _described(UUID, "The contract id."),
            "name": _described(TEXT, "The contract name."),
            "starts_at": _described(TIMESTAMP, "When it starts."),
            "ends_at": _described(TIMESTAMP, "When it ends, after starts_at."),
            "custom_fields": _described(STRING_MAP, "Custom fields, name to value."),
            "metrics": _described(
                {"type": "array", "items": TEXT}, "Names of the metrics it bills (default: every one)."
            ),
        },
        "A contract (a subscription).",
    )


def _customer() -> Schema:
    lines = {
        "line1": "First address line.",
        "line2": "Second address line.",
        "city": "City.",
        "state": "State or region.",
        "zip_code": "Postal code.",
        "country": "ISO 3166-1 alpha-2 country code.",
    }
    address = _object(
        {
            field.name: _described(COUNTRY if field.name == "country" else TEXT, lines[field.name])
            for field in dataclasses.fields(Address)
        },
        "The billing address.",
    )
    return _object(
        {
            "id": _described(UUID, "The customer id (Metronome-style; Meteroid's is derived)."),
            "name": _described(TEXT, "The customer name."),
            "alias": _described(TEXT, "The one alias (or give aliases)."),
            "aliases": _described({"type": "array", "items": TEXT}, "Aliases (or give alias)."),
            "external_id": _described(TEXT, "An external id."),
            "email": _described(TEXT, "The billing email."),
            "address": address,
            "currency": _described(CURRENCY, "ISO 4217 currency code."),
            "vat_number": _described(TEXT, "A VAT number."),
            "custom_fields": _described(STRING_MAP, "Custom fields, name to value."),
            "archived": _described({"type": "boolean"}, "Archived (or give archived_at)."),
            "archived_at": _described(TIMESTAMP, "When it was archived (or give archived)."),
            "created_at": _described(TIMESTAMP, "When it was created."),
            "contracts": _described({"type": "array", "items": _contract(), "minItems": 1}, "Its contracts."),
            "invoices": _invoices(top_level=False),
        },
        "A pinned customer: given fields are kept exactly, the rest generated.",
    )


def _priced(description: str, extra: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    """A metric or a tier: a price for every currency, or one per currency."""
    prices = {
        "type": "object",
        "propertyNames": CURRENCY,
        "additionalProperties": DECIMAL,
        "minProperties": 1,
    }
    return _object(
        {
            **extra,
            "price": _described(DECIMAL, "Per unit, in major units, in every currency."),
            "prices": _described(prices, "Per unit, in major units, by currency code."),
        },
        description,
        required,
    )


def _metric() -> Schema:
    tier = _priced(
        "A band of a graduated price (the last one has no up_to).",
        {"up_to": _described(DECIMAL, "The band's upper bound; bounds strictly increase.")},
    )
    tiers = {"type": "array", "items": tier, "minItems": 1}
    return _priced(
        "A billable metric: which events it counts, how and at what price.",
        {
            "name": _described(TEXT, "The metric's name (default: its code)."),
            "code": _described(TEXT, "The event type (Metronome) or code (Meteroid) it counts."),
            "aggregation": _described(_enum(AGGREGATIONS), "How events add up (default: count)."),
            "property": _described(TEXT, "The property a sum, max or unique reads."),
            "filters": _described(STRING_MAP, "Properties an event must carry with these values."),
            "tiers": _described(tiers, "Graduated prices, instead of price or prices."),
        },
        required=("code",),
    )


def _fault_rule() -> Schema:
    strings = {"type": "object", "additionalProperties": {"type": "string"}}
    descriptions = {
        "api": "The API, as the journal names it.",
        "operation": "An operation id, as the journal shows it.",
        "method": "An HTTP method.",
        "path": "A path glob (`*` one segment, `**` any).",
        "query": "Query parameters and their values.",
        "token": "A bearer token.",
    }
    match = _object(
        {key: _described(strings if key == "query" else TEXT, descriptions[key]) for key in MATCH_KEYS},
        "Which requests the rule applies to (every one when empty).",
    )
    respond_fields = {
        "status": _described(_integer(100, 599), "The status answered."),
        "headers": _described(strings, "Headers of the answer (with a status)."),
        "body": {"description": "The JSON body of the answer (with a status)."},
        "delay_ms": _described(_integer(0, MAX_DELAY_MS), "Milliseconds to wait first."),
        "jitter_ms": _described(_integer(0, MAX_DELAY_MS), "Up to this many milliseconds more."),
        "seed": _described(_integer(0), "Seed of the jitter."),
        "drop": _described({"type": "boolean"}, "Close the connection without an answer."),
    }
    respond = _object(
        {key: respond_fields[key] for key in RESPOND_KEYS},
        "What to do: a status, drop, or a delay.",
    )
    respond["anyOf"] = [{"required": [key]} for key in ("status", "drop", "delay_ms", "jitter_ms")]
    rule_fields = {
        "match": match,
        "respond": respond,
        "times": _described(_integer(1), "Fire this many times at most."),
        "after": _described(_integer(0), "Let this many matching requests through first."),
        "nth": _described(_integer(1), "Fire on every nth matching request."),
        "probability": _described(SHARE, "Fire with this probability."),
        "seed": _described(_integer(0), "Seed of the probability draws."),
    }
    return _object({key: rule_fields[key] for key in RULE_KEYS}, "A scripted fault.", ("respond",))


def _webhook() -> Schema:
    types = {"type": "string", "pattern": TYPE_PATTERN}
    return _object(
        {
            "url": _described({"type": "string", "pattern": "^https?://"}, "Where events are POSTed."),
            "api": _described(_enum(WEBHOOK_APIS), "Whose events, signed as that provider signs."),
            "id": _described({"type": "string", "pattern": ID_PATTERN}, "Default: one from the seed."),
            "secret": _described(
                {"type": "string", "minLength": 1, "maxLength": 256},
                "Metronome: any string; Meteroid: whsec_ and base64. Default: one from the seed.",
            ),
            "types": _described({"type": "array", "items": types, "minItems": 1}, "Default: every type."),
            "retry_scale": _described(SHARE, "The provider's retry delays are multiplied by it."),
            "timeout_ms": _described(_integer(1, 60_000), "Per attempt."),
        },
        "A webhook endpoint the world starts with.",
        ("url", "api"),
    )


def fixture_schema() -> Schema:
    """The whole fixture file."""
    schema = _object(
        {
            "name": _described(TEXT, "The world's name (default: the file's name)."),
            "seed": _described(_integer(0, MAX_SEED), "The generator's seed: same seed, same world."),
            "now": _described(TIMESTAMP, "The world's clock at start (RFC 3339 or a date)."),
            "metronome": _object(
                {"default_sort": _described(_enum(SORTS), "The order of lists that ask for none.")},
                "The Metronome-style API.",
            ),
            "meteroid": _object(
                {"dialect": _described(_enum(DIALECTS), "The spelling of requests that choose none.")},
                "The Meteroid-style API.",
            ),
            "auth": _object(
                {
                    "tokens": _described({"type": "array", "items": TEXT}, "Accepted bearer tokens."),
                    "control_token": _described(
                        TEXT, "Every /_mock write must carry it in the Mock-Control-Token header."
                    ),
                },
                "Authentication (default: any non-empty bearer token).",
            ),
            "isolation": _described(_enum(ISOLATIONS), "token: a world of its own per bearer token."),
            "generate": _object(
                {
                    "customers": _described(
                        _integer(0, MAX_GENERATED_CUSTOMERS), "Customers generated besides the pinned."
                    ),
                    "archived_share": _described(SHARE, "Share of generated customers archived."),
                },
                "Generated customers.",
            ),
            "invoices": _invoices(top_level=True),
            "customers": _described({"type": "array", "items": _customer()}, "Pinned customers."),
            "faults": _described({"type": "array", "items": _fault_rule()}, "Scripted faults."),
            "webhooks": _described(
                {"type": "array", "items": _webhook(), "maxItems": MAX_ENDPOINTS}, "Webhook endpoints."
            ),
            "metrics": _described({"type": "array", "items": _metric()}, "Billable metrics."),
        },
        "A mockserver fixture: the world both APIs serve.",
    )
    return {"$schema": DRAFT, "title": "mockserver fixture", **schema}
