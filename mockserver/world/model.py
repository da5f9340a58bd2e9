"""The neutral billing domain both facades render: no API's spelling, ids or units leak in here.

Amounts are integers in the currency's minor unit; times are UTC epoch seconds; quantities and
prices are exact decimal strings so that quantity x unit price reproduces a line total.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.world.spec import Address, BillingProvider, Profile


@dataclass(frozen=True, slots=True)
class TaxRate:
    name: str
    rate: str  # an exact decimal
    code: str


@dataclass(frozen=True, slots=True)
class Shipping:
    same_as_billing: bool
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    ordinal: int
    id: str
    name: str
    aliases: tuple[str, ...]
    external_id: str
    email: str | None
    phone: str | None
    address: Address
    currency: str
    vat_number: str | None
    custom_fields: tuple[tuple[str, str], ...]
    created_at: int
    updated_at: int
    archived_at: int | None
    tax_name: str
    tax_rate: str
    billing_provider: BillingProvider | None
    salesforce_account_id: str | None
    profile: Profile
    # What a customer write may set beyond the fixture's fields, kept as sent.
    kind: str | None = None  # company | individual
    first_name: str | None = None
    last_name: str | None = None
    invoicing_emails: tuple[str, ...] = ()
    locales: tuple[str, ...] = ()  # preferred document languages, most preferred first
    custom_taxes: tuple[TaxRate, ...] = ()
    tax_exempt: bool | None = None
    exemption_reason: str | None = None
    legal_number: str | None = None  # the national register identifier
    buyer_reference: str | None = None  # what the buyer routes invoices by
    shipping: Shipping | None = None
    invoicing_entity: str | None = None  # None: the world's one
    connected_account: str | None = None

    @property
    def alias(self) -> str | None:
        return self.aliases[0] if self.aliases else None


@dataclass(frozen=True, slots=True)
class Contract:
    """A Metronome contract, which Meteroid calls a subscription."""

    ordinal: int
    id: str
    customer: int
    name: str
    plan_id: str
    starts_at: int
    ends_at: int | None
    custom_fields: tuple[tuple[str, str], ...]
    metrics: tuple[str, ...] | None = None  # the names of the metrics it bills; None: every one


@dataclass(frozen=True, slots=True)
class Tier:
    """The part of a tiered line one price band bills: its units from `starting_at` on."""

    level: int  # 1 for the first band
    starting_at: int | str  # where the band begins: an integer, or exact decimal text if fractional
    quantity: str
    price: str  # per unit in minor units
    subtotal: int


@dataclass(frozen=True, slots=True)
class Line:
    id: str
    kind: str  # usage | scheduled | subscription
    name: str
    description: str | None
    product_id: str
    quantity: str
    unit_price: str | None  # per unit in minor units; None for tiered lines
    total: int
    starts_at: int
    ends_at: int
    recurring: bool
    tiers: tuple[Tier, ...] = ()


@dataclass(frozen=True, slots=True)
class CreditApplication:
    id: str
    grant_id: str
    kind: str  # PREPAID | CREDIT
    name: str
    amount: int


@dataclass(frozen=True, slots=True)
class Coupon:
    id: str
    name: str
    amount: int


@dataclass(frozen=True, slots=True)
class Payment:
    id: str
    amount: int
    status: str  # settled | pending | failed
    method: str  # card | bank_transfer | wallet | other
    method_id: str | None
    card_brand: str | None
    card_last4: str | None
    account_hint: str | None
    processed_at: int | None
    provider_transaction_id: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class ExternalInvoice:
    provider: str
    status: str
    invoice_id: str
    issued_at: int | None
    payment_id: str | None


@dataclass(frozen=True, slots=True)
class Invoice:
    """One invoice, whole. Built on demand from the world's compact columns and its own seed."""

    ordinal: int
    id: str
    customer: Customer
    contract: Contract | None
    number: str
    status: str  # draft | finalized | uncollectible | void
    kind: str  # usage | usage_consolidated | scheduled | one_off | adjustment | usage_threshold
    currency: str
    period_start: int
    period_end: int
    issued_at: int
    created_at: int
    updated_at: int
    finalized_at: int | None
    voided_at: int | None
    uncollectible_at: int | None
    paid_at: int | None
    net_terms: int
    subtotal: int
    subtotal_recurring: int
    tax: int
    tax_rate: str
    tax_name: str
    tax_exemption: str | None  # reverse_charge | tax_exempt | not_registered
    credits: int
    coupons_total: int
    total: int
    paid: int
    payment_status: str
    lines: tuple[Line, ...]
    credit_applications: tuple[CreditApplication, ...]
    coupons: tuple[Coupon, ...]
    payments: tuple[Payment, ...]
    external: ExternalInvoice | None
    constituents: tuple[tuple[str, str, str], ...]  # (contract_id, customer_id, invoice_id)
    memo: str | None
    purchase_order: str | None
    reference: str | None
    custom_fields: tuple[tuple[str, str], ...]
    regenerated_from: str | None = None  # the voided invoice this one was regenerated from

    @property
    def amount_due(self) -> int:
        return self.total - self.paid

    @property
    def due_at(self) -> int | None:
        return None if self.status == "draft" else self.issued_at + self.net_terms * 86_400
