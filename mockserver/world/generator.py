"""Turns a validated fixture into a world, deterministically.

Each customer draws from its own RNG keyed by its identity (its pinned id or name, or its
generated index), so adding a customer never reshuffles the others. Invoices are generated as
compact columns here; their bodies are rebuilt on demand by `invoice_body` from per-invoice seeds.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import astuple, dataclass
from fractions import Fraction

from faker import Faker

from mockserver.world import clock
from mockserver.world.columns import KIND_CODE, PAYMENT_CODE, STATUS_CODE, InvoiceColumns
from mockserver.world.draws import COUPON_PERCENTS, base_amount, draw_payment, month_to_date, priced, weighted
from mockserver.world.ids import derive_int, derive_uuid
from mockserver.world.model import Contract, Customer, Shipping
from mockserver.world.money import line_total, round_half_up
from mockserver.world.spec import (
    Address,
    ContractSpec,
    CustomerSpec,
    Fixture,
    FixtureError,
    InvoiceSpec,
    Profile,
)

Progress = Callable[[int, int], None]

# currency -> [(faker locale, ISO country, tax name, tax rate)]
_LOCALES: dict[str, list[tuple[str, str, str, str]]] = {
    "USD": [("en_US", "US", "Sales tax", "0.0825")],
    "EUR": [
        ("de_DE", "DE", "VAT", "0.19"),
        ("fr_FR", "FR", "VAT", "0.2"),
        ("nl_NL", "NL", "VAT", "0.21"),
        ("es_ES", "ES", "VAT", "0.21"),
    ],
    "GBP": [("en_GB", "GB", "VAT", "0.2")],
    "CAD": [("en_CA", "CA", "GST", "0.05")],
    "AUD": [("en_AU", "AU", "GST", "0.1")],
    "JPY": [("ja_JP", "JP", "Consumption tax", "0.1")],
}
_FALLBACK_LOCALE = ("en_US", "US", "Sales tax", "0")
_PLAN_NAMES = ("Starter", "Growth", "Pro", "Scale", "Enterprise", "Usage-based")
_SEGMENTS = ("startup", "mid-market", "enterprise", "public-sector")


def tax_of(currency: str) -> tuple[str, str]:
    """(tax name, rate) of a customer billed in `currency` and created through an API."""
    _, _, name, rate = _LOCALES.get(currency, [_FALLBACK_LOCALE])[0]
    return name, rate


@dataclass
class Generated:
    customers: list[Customer]
    contracts: list[Contract]
    columns: InvoiceColumns
    currencies: list[str]
    pinned: dict[int, InvoiceSpec]


class Generator:
    def __init__(self, fixture: Fixture, progress: Progress | None = None) -> None:
        self.fixture = fixture
        self.seed = fixture.seed
        self.now = fixture.now
        self.progress = progress
        self.fakers: dict[str, Faker] = {}
        self.out = Generated([], [], InvoiceColumns(), [], {})
        self.currency_index: dict[str, int] = {}

    def faker(self, locale: str, seed: int) -> Faker:
        if locale not in self.fakers:
            self.fakers[locale] = Faker(locale)
        fake = self.fakers[locale]
        fake.seed_instance(seed)
        return fake

    def run(self) -> Generated:
        specs: list[CustomerSpec | None] = [*self.fixture.customers]
        specs += [None] * self.fixture.generated_customers
        total = len(specs)
        keys: set[str] = set()
        for index, spec in enumerate(specs):
            key = spec.key if spec else f"generated/{index - len(self.fixture.customers)}"
            # Pinned customers without an id that share a name would otherwise share every
            # derived id; the first keeps its key, so no existing world changes.
            base, repeat = key, 2
            while key in keys:
                key, repeat = f"{base}#{repeat}", repeat + 1
            keys.add(key)
            self.customer(spec, key, spec.profile if spec else self.fixture.profile)
            if self.progress and (index % 256 == 255 or index == total - 1):
                self.progress(index + 1, total)
        return self.out

    # customers

    def customer(self, spec: CustomerSpec | None, key: str, profile: Profile) -> None:
        spec = spec or CustomerSpec(path="")
        rng = random.Random(derive_int(self.seed, key))
        currency = spec.currency or weighted(rng, profile.currencies)
        locale, country, tax_name, tax_rate = rng.choice(_LOCALES.get(currency, [_FALLBACK_LOCALE]))
        fake = self.faker(locale, derive_int(self.seed, key, "faker"))
        name = spec.name or fake.company()
        slug = _slug(name) or "customer"
        aliases = spec.aliases if spec.aliases is not None else (f"{slug}-{rng.randrange(100, 1000)}",)
        history_start = clock.add_months(self.now, -(profile.months - 1))
        created_at = spec.created_at or clock.add_days(history_start, -rng.randrange(1, 120))
        archived_at = self.archived_at(spec, rng, history_start)
        ordinal = len(self.out.customers)
        phone = fake.phone_number()  # drawn before the address, as they always were
        address = spec.address or self.address(fake, rng, country)
        customer = Customer(
            ordinal=ordinal,
            id=spec.id or derive_uuid(self.seed, key, "customer"),
            name=name,
            aliases=aliases,
            external_id=spec.external_id or (aliases[0] if aliases else derive_uuid(self.seed, key, "ext")),
            email=spec.email or f"billing@{slug}.example.com",
            phone=phone,
            address=address,
            currency=currency,
            vat_number=spec.vat_number
            or (f"{country}{rng.randrange(10**8, 10**9)}" if tax_name == "VAT" else None),
            custom_fields=spec.custom_fields
            if spec.custom_fields is not None
            else (("region", country), ("segment", rng.choice(_SEGMENTS))),
            created_at=created_at,
            updated_at=max(created_at, archived_at or created_at),
            archived_at=archived_at,
            tax_name=tax_name,
            tax_rate=tax_rate,
            billing_provider=profile.billing_provider,
            salesforce_account_id=f"001{rng.randrange(10**11, 10**12)}" if rng.random() < 0.5 else None,
            profile=profile,
            shipping=Shipping(True) if any(astuple(address)) else None,  # shipped where billed
        )
        self.out.customers.append(customer)
        contracts = self.contracts(customer, spec.contracts, key, rng, history_start)
        _InvoiceHistory(self, customer, contracts, key, rng, spec.invoices).run()

    def archived_at(self, spec: CustomerSpec, rng: random.Random, history_start: int) -> int | None:
        if spec.archived_at == -1:
            return clock.add_months(self.now, -1)
        if spec.archived_at is not None:
            return spec.archived_at
        if not spec.path and rng.random() < self.fixture.archived_share:
            return clock.add_months(self.now, -rng.randrange(1, 4))
        return None

    @staticmethod
    def address(fake: Faker, rng: random.Random, country: str) -> Address:
        state = fake.state_abbr() if country in ("US", "AU") else None
        return Address(
            line1=fake.street_address(),
            line2=fake.secondary_address() if country == "US" and rng.random() < 0.3 else None,
            city=fake.city(),
            state=state,
            zip_code=fake.postcode(),
            country=country,
        )

    def contracts(
        self,
        customer: Customer,
        specs: tuple[ContractSpec, ...] | None,
        key: str,
        rng: random.Random,
        history_start: int,
    ) -> list[Contract]:
        profile = customer.profile
        specs = specs or tuple(ContractSpec() for _ in range(profile.contracts))
        result = []
        for index, spec in enumerate(specs):
            offset = 0 if index == 0 else rng.randrange(0, profile.months)
            contract = Contract(
                ordinal=len(self.out.contracts),
                id=spec.id or derive_uuid(self.seed, key, "contract", index),
                customer=customer.ordinal,
                name=spec.name or f"{rng.choice(_PLAN_NAMES)} plan",
                plan_id=derive_uuid(self.seed, key, "plan", index),
                starts_at=spec.starts_at
                if spec.starts_at is not None
                else clock.add_months(history_start, offset),
                ends_at=spec.ends_at if spec.ends_at is not None else customer.archived_at,
                custom_fields=spec.custom_fields,
                metrics=spec.metrics,
            )
            self.out.contracts.append(contract)
            result.append(contract)
        return result

    def currency_code(self, currency: str) -> int:
        if currency not in self.currency_index:
            self.currency_index[currency] = len(self.out.currencies)
            self.out.currencies.append(currency)
        return self.currency_index[currency]


@dataclass
class _Row:
    id: str
    contract: int
    status: str
    kind: str
    currency: str
    period_start: int
    period_end: int
    issued_at: int
    created_at: int
    subtotal: int
    tax: int
    credits: int
    coupons: int
    paid: int
    payment_status: str
    tax_exempt: bool
    planned: int
    coupon_pct: int
    credit_grant: int
    spec: InvoiceSpec | None = None


class _InvoiceHistory:
    """One customer's invoices: one per contract and monthly period, then the pinned ones."""

    def __init__(
        self,
        gen: Generator,
        customer: Customer,
        contracts: list[Contract],
        key: str,
        rng: random.Random,
        pinned: tuple[InvoiceSpec, ...],
    ) -> None:
        self.gen, self.customer, self.contracts = gen, customer, contracts
        self.key, self.rng, self.pinned = key, rng, pinned
        self.profile = customer.profile
        self.now = gen.now
        self.rate = Fraction(customer.tax_rate)
        self.count = 0

    def run(self) -> None:
        first_period = clock.add_months(self.now, -(self.profile.months - 1))
        for index, contract in enumerate(self.contracts):
            start = max(clock.month_start(contract.starts_at), first_period)
            while start <= self.now and (contract.ends_at is None or start < contract.ends_at):
                end = clock.add_months(start, 1)
                uid = derive_uuid(self.gen.seed, self.key, "invoice", index, start)
                self.emit(self.generated_row(uid, contract, start, end))
                start = end
        for index, spec in enumerate(self.pinned):
            self.emit(self.pinned_row(index, spec))

    def generated_row(self, uid: str, contract: Contract, start: int, end: int) -> _Row:
        rng, profile = self.rng, self.profile
        kind = weighted(rng, profile.type_mix)
        if end > self.now:
            status = "draft"
        elif rng.random() < profile.void_share:
            status = "void"
        else:
            status = weighted(rng, profile.status_mix)
        planned = base_amount(rng, kind)
        subtotal = month_to_date(planned, start, end, self.now) if status == "draft" else planned
        exempt = rng.random() < profile.tax_exempt_share
        pct = rng.choice(COUPON_PERCENTS) if rng.random() < profile.coupons_share else 0
        grant = rng.randrange(1_000, 50_000) if rng.random() < profile.credits_share else 0
        tax, coupons, credits = priced(subtotal, self.rate, exempt, pct, grant)
        total = subtotal + tax - credits - coupons
        payment_status, paid = self.payment(status, total, None)
        return _Row(
            id=uid,
            contract=contract.ordinal,
            status=status,
            kind=kind,
            currency=self.customer.currency,
            period_start=start,
            period_end=end,
            issued_at=end,
            created_at=min(start + rng.randrange(0, 3_600), self.now),
            subtotal=subtotal,
            tax=tax,
            credits=credits,
            coupons=coupons,
            paid=paid,
            payment_status=payment_status,
            tax_exempt=exempt,
            planned=planned,
            coupon_pct=pct,
            credit_grant=grant,
        )

    def payment(self, status: str, total: int, pinned: str | None) -> tuple[str, int]:
        return draw_payment(self.rng, self.profile, status, total, pinned)

    def pinned_row(self, index: int, spec: InvoiceSpec) -> _Row:
        gen, rng = self.gen, self.rng
        start = spec.period_start if spec.period_start is not None else clock.add_months(self.now, -1)
        end = spec.period_end if spec.period_end is not None else clock.add_months(start, 1)
        status = spec.status or ("draft" if end > self.now else "finalized")
        issued = spec.issued_at if spec.issued_at is not None else end
        self.check_pinned(spec, status, start, end, issued)
        contract = self.pinned_contract(spec)
        kind = spec.type or "usage"
        if spec.line_items is not None:
            subtotal = sum(line_total(line.quantity, line.unit_price) for line in spec.line_items)
        else:
            subtotal = base_amount(rng, kind)
        rate = Fraction(spec.tax_rate) if spec.tax_rate is not None else self.rate
        tax = round_half_up(subtotal * rate)
        coupons = spec.coupons or 0
        credits = spec.credits or 0
        if credits + coupons > subtotal + tax:
            raise gen.fixture.error(
                spec.path,
                f"credits ({credits}) plus coupons ({coupons}) exceed subtotal plus tax ({subtotal + tax})",
            )
        total = subtotal + tax - credits - coupons
        payment_status, paid = self.payment(status, total, spec.payment_status)
        return _Row(
            id=spec.id or derive_uuid(gen.seed, self.key, "pinned", index),
            contract=contract,
            status=status,
            kind=kind,
            currency=spec.currency or self.customer.currency,
            period_start=start,
            period_end=end,
            issued_at=issued,
            created_at=min(start + rng.randrange(0, 3_600), self.now),
            subtotal=subtotal,
            tax=tax,
            credits=credits,
            coupons=coupons,
            paid=paid,
            payment_status=payment_status,
            tax_exempt=spec.tax_rate is not None and rate == 0,
            planned=subtotal,
            coupon_pct=-1,
            credit_grant=0,
            spec=spec,
        )

    def check_pinned(self, spec: InvoiceSpec, status: str, start: int, end: int, issued: int) -> None:
        def fail(key: str, message: str) -> FixtureError:
            return self.gen.fixture.error(f"{spec.path}.{key}", message)

        if start > self.now:
            raise fail("period_start", "a billing period cannot start after 'now'")
        if status == "draft" and end <= self.now:
            raise fail(
                "status",
                "a draft must be in the billing period open at 'now' (period_end after 'now')",
            )
        if status != "draft" and end > self.now:
            raise fail("status", f"a {status} invoice needs a billing period that has ended by 'now'")
        if status != "draft" and issued > self.now:
            raise fail("issued_at", "a non-draft invoice cannot be issued after 'now'")
        if status in ("draft", "void", "uncollectible") and spec.payment_status not in (
            None,
            "unpaid",
            "errored",
        ):
            raise fail("payment_status", f"a {status} invoice cannot be {spec.payment_status}")

    def pinned_contract(self, spec: InvoiceSpec) -> int:
        if spec.contract_id is None:
            return self.contracts[0].ordinal
        return next(c.ordinal for c in self.contracts if c.id == spec.contract_id)

    def emit(self, row: _Row) -> None:
        gen, cols = self.gen, self.gen.out.columns
        ordinal = len(cols)
        if row.spec is not None:
            gen.out.pinned[ordinal] = row.spec
        cols.ids.append(row.id)
        cols.customer.append(self.customer.ordinal)
        cols.contract.append(row.contract)
        cols.seq.append(self.count)
        self.count += 1
        cols.status.append(STATUS_CODE[row.status])
        cols.kind.append(KIND_CODE[row.kind])
        cols.currency.append(gen.currency_code(row.currency))
        cols.period_start.append(row.period_start)
        cols.period_end.append(row.period_end)
        cols.issued_at.append(row.issued_at)
        cols.created_at.append(row.created_at)
        cols.subtotal.append(row.subtotal)
        cols.tax.append(row.tax)
        cols.credits.append(row.credits)
        cols.coupons.append(row.coupons)
        cols.paid.append(row.paid)
        cols.payment_status.append(PAYMENT_CODE[row.payment_status])
        cols.tax_exempt.append(row.tax_exempt)
        cols.planned.append(row.planned)
        cols.coupon_pct.append(row.coupon_pct)
        cols.credit_grant.append(row.credit_grant)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
