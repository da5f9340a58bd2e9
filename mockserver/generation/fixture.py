"""The fixture file: YAML read strictly and validated into immutable specs (`world.spec`)
before anything runs.

Every rejection names the file, the path inside it and what was expected, because a fixture
author fixing a typo should never have to read a traceback.
"""

from __future__ import annotations

import dataclasses
import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mockserver.generation.fields import COUNTRY, CURRENCY, join
from mockserver.generation.metrics import MetricFields
from mockserver.generation.strict_yaml import StrictLoader, yaml_reason
from mockserver.world.endpoints import MAX_ENDPOINTS, Endpoint, check
from mockserver.world.errors import ChangeError
from mockserver.world.faults import RuleError, parse_rules
from mockserver.world.generator import Progress
from mockserver.world.spec import (
    DEFAULT_NOW,
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
    BillingProvider,
    ContractSpec,
    CustomerSpec,
    Fixture,
    FixtureError,
    InvoiceSpec,
    LineSpec,
    MetricSpec,
    Profile,
)
from mockserver.world.state import World


def load_fixture(path: str | Path | None = None) -> Fixture:
    """Read and validate a fixture file; None means the embedded default world."""
    if path is None:
        return parse_fixture(_default_fixture_text(), "default.yaml")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(str(path), "", f"cannot be read ({exc})") from None
    return parse_fixture(text, str(path))


def load_world(path: str | Path | None = None, progress: Progress | None = None) -> World:
    """The first world of a fixture file: validated, then generated; raises FixtureError before
    anything could be served."""
    return World.from_fixture(load_fixture(path), progress)


def _default_fixture_text() -> str:
    """Installed, the top-level fixtures/ folder is the package `mockserver.fixtures`."""
    try:
        return (resources.files("mockserver.fixtures") / "default.yaml").read_text(encoding="utf-8")
    except ModuleNotFoundError:  # a source checkout or an editable install
        source = Path(__file__).resolve().parents[2] / "fixtures" / "default.yaml"
        return source.read_text(encoding="utf-8")


def parse_fixture(text: str, source: str) -> Fixture:
    try:
        raw = yaml.load(text, Loader=StrictLoader)
    except yaml.YAMLError as exc:
        raise FixtureError(source, "", f"is not valid YAML: {yaml_reason(exc)}") from None
    if raw is None:
        raw = {}
    return _Validator(source).fixture(raw, text)


# --- validation -------------------------------------------------------------------------------


class _Validator(MetricFields):
    """A whole fixture read into its specs: its settings, profile, customers with their
    contracts and invoices, metrics, faults and webhooks, and the checks across them."""

    def fixture(self, raw: Any, text: str) -> Fixture:
        self.root = raw
        top = self.mapping(
            raw,
            "",
            (
                "name",
                "seed",
                "now",
                "metronome",
                "meteroid",
                "auth",
                "isolation",
                "generate",
                "invoices",
                "customers",
                "faults",
                "webhooks",
                "metrics",
            ),
        )
        default_name = Path(self.source).stem
        kwargs: dict[str, Any] = {
            "source": self.source,
            "name": self.text(top["name"], "name") if "name" in top else default_name,
            "seed": self.integer(top.get("seed", 0), "seed", 0, 2**63 - 1),
            "now": self.timestamp(top.get("now", DEFAULT_NOW), "now"),
            "text_digest": _digest(text),
            "text": text,
        }
        if "metronome" in top:
            section = self.mapping(top["metronome"], "metronome", ("default_sort",))
            if "default_sort" in section:
                kwargs["default_sort"] = self.choice(section["default_sort"], "metronome.default_sort", SORTS)
        if "meteroid" in top:
            section = self.mapping(top["meteroid"], "meteroid", ("dialect",))
            if "dialect" in section:
                kwargs["dialect"] = self.choice(section["dialect"], "meteroid.dialect", DIALECTS)
        if "auth" in top:
            section = self.mapping(top["auth"], "auth", ("tokens", "control_token"))
            tokens = self.sequence(section.get("tokens", []), "auth.tokens")
            kwargs["tokens"] = tuple(self.text(t, f"auth.tokens[{i}]") for i, t in enumerate(tokens))
            if "control_token" in section:
                kwargs["control_token"] = self.text(section["control_token"], "auth.control_token")
        if "isolation" in top:
            isolation = self.choice(top["isolation"], "isolation", ISOLATIONS)
            kwargs["isolation"] = None if isolation == "none" else isolation
        if "faults" in top:
            rules = self.sequence(top["faults"], "faults")
            try:
                kwargs["faults"] = parse_rules(rules, "faults")
            except RuleError as exc:
                raise self.fail(exc.path, exc.message) from None
        if "webhooks" in top:
            kwargs["webhooks"] = self.webhooks(top["webhooks"], kwargs["seed"])
        if "generate" in top:
            section = self.mapping(top["generate"], "generate", ("customers", "archived_share"))
            kwargs["generated_customers"] = self.integer(
                section.get("customers", 0), "generate.customers", 0, 1_000_000
            )
            kwargs["archived_share"] = self.share(
                section.get("archived_share", 0.05), "generate.archived_share"
            )
        kwargs["metrics"] = self.metrics(top.get("metrics", []), "metrics")
        profile, top_invoices = self.profile(top.get("invoices", {}), "invoices", Profile(), top_level=True)
        kwargs["profile"] = profile
        customers = [
            self.customer(item, f"customers[{i}]", profile)
            for i, item in enumerate(self.sequence(top.get("customers", []), "customers"))
        ]
        customers = self.attach_top_invoices(customers, top_invoices)
        self.check_unique_customers(customers)
        self.check_contract_metrics(customers, kwargs["metrics"])
        return Fixture(customers=tuple(customers), raw=raw, **kwargs)

    def webhooks(self, raw: Any, seed: int) -> tuple[Endpoint, ...]:
        """Endpoints the world starts with (and a reset brings back), checked as registering
        one is; ids and secrets not given derive from the seed and the place in the list."""
        entries = self.sequence(raw, "webhooks")
        if len(entries) > MAX_ENDPOINTS:
            raise self.fail("webhooks", f"at most {MAX_ENDPOINTS} endpoints")
        made: dict[str, Endpoint] = {}
        for i, entry in enumerate(entries):
            try:
                endpoint = Endpoint.of(check(entry, seed, f"fixture/{i}", made))
            except ChangeError as exc:
                raise self.fail(f"webhooks[{i}]", str(exc)) from None
            made[endpoint.id] = endpoint
        return tuple(made.values())

    def profile(
        self, raw: Any, path: str, base: Profile, top_level: bool = False
    ) -> tuple[Profile, list[tuple[str | None, InvoiceSpec]]]:
        section = self.mapping(raw, path, (*(f.name for f in dataclasses.fields(Profile)), "pinned"))
        changes: dict[str, Any] = {}
        for key, value in section.items():
            where = join(path, key)
            if key == "pinned":
                continue
            if key == "months":
                changes[key] = self.integer(value, where, 1, 600)
            elif key == "contracts":
                changes[key] = self.integer(value, where, 1, 50)
            elif key == "net_terms":
                changes[key] = self.integer(value, where, 0, 365)
            elif key == "currencies":
                changes[key] = self.currency_weights(value, where)
            elif key == "status_mix":
                changes[key] = self.weights(value, where, PAST_STATUSES)
            elif key == "type_mix":
                changes[key] = self.weights(value, where, KINDS)
            elif key == "payments":
                changes[key] = self.weights(value, where, PAYMENT_STATUSES)
            elif key == "payment_methods":
                changes[key] = self.weights(value, where, PAYMENT_METHODS)
            elif key == "billing_provider":
                changes[key] = self.billing_provider(value, where)
            else:
                changes[key] = self.share(value, where)
        pinned = []
        for i, item in enumerate(self.sequence(section.get("pinned", []), join(path, "pinned"))):
            pinned.append(self.invoice(item, f"{path}.pinned[{i}]", top_level))
        return dataclasses.replace(base, **changes), pinned

    def billing_provider(self, value: Any, path: str) -> BillingProvider | None:
        if value is None:
            return None
        section = self.mapping(value, path, ("type", "statuses"))
        if "type" not in section:
            raise self.fail(path, f"missing key 'type' (one of {', '.join(PROVIDERS)})")
        statuses = (
            self.weights(section["statuses"], join(path, "statuses"), EXTERNAL_STATUSES)
            if "statuses" in section
            else (("FINALIZED", 1.0),)
        )
        return BillingProvider(self.choice(section["type"], join(path, "type"), PROVIDERS), statuses)

    def address(self, value: Any, path: str) -> Address:
        section = self.mapping(value, path, tuple(f.name for f in dataclasses.fields(Address)))
        values = {key: self.text(item, join(path, key)) for key, item in section.items()}
        if "country" in values:
            self.text(values["country"], join(path, "country"), COUNTRY)
        return Address(**values)

    def customer(self, raw: Any, path: str, base: Profile) -> CustomerSpec:
        keys = (
            "id",
            "name",
            "alias",
            "aliases",
            "external_id",
            "email",
            "address",
            "currency",
            "vat_number",
            "custom_fields",
            "archived",
            "archived_at",
            "created_at",
            "contracts",
            "invoices",
        )
        section = self.mapping(raw, path, keys)
        spec: dict[str, Any] = {"path": path}
        if "id" in section:
            spec["id"] = self.uuid(section["id"], f"{path}.id")
        for key in ("name", "external_id", "email", "vat_number"):
            if key in section:
                spec[key] = self.text(section[key], f"{path}.{key}")
        if "alias" in section and "aliases" in section:
            raise self.fail(f"{path}.aliases", "give either 'alias' or 'aliases', not both")
        if "alias" in section:
            spec["aliases"] = (self.text(section["alias"], f"{path}.alias"),)
        if "aliases" in section:
            items = self.sequence(section["aliases"], f"{path}.aliases")
            spec["aliases"] = tuple(self.text(a, f"{path}.aliases[{i}]") for i, a in enumerate(items))
        if "address" in section:
            spec["address"] = self.address(section["address"], f"{path}.address")
        if "currency" in section:
            spec["currency"] = self.text(section["currency"], f"{path}.currency", CURRENCY)
        if "custom_fields" in section:
            spec["custom_fields"] = self.string_map(section["custom_fields"], f"{path}.custom_fields")
        if "created_at" in section:
            spec["created_at"] = self.timestamp(section["created_at"], f"{path}.created_at")
        if "archived" in section and "archived_at" in section:
            raise self.fail(f"{path}.archived_at", "give either 'archived' or 'archived_at', not both")
        if "archived_at" in section:
            spec["archived_at"] = self.timestamp(section["archived_at"], f"{path}.archived_at")
        if "archived" in section:
            if not isinstance(section["archived"], bool):
                raise self.fail(f"{path}.archived", f"expected true or false, got {section['archived']!r}")
            spec["archived_at"] = -1 if section["archived"] else None
        if "contracts" in section:
            items = self.sequence(section["contracts"], f"{path}.contracts")
            if not items:
                raise self.fail(f"{path}.contracts", "expected at least one contract")
            spec["contracts"] = tuple(self.contract(c, f"{path}.contracts[{i}]") for i, c in enumerate(items))
        profile, invoices = self.profile(section.get("invoices", {}), f"{path}.invoices", base)
        spec["profile"] = profile
        spec["invoices"] = tuple(inv for _, inv in invoices)
        customer = CustomerSpec(**spec)
        self.check_invoice_contracts(customer, customer.invoices)
        return customer

    def contract(self, raw: Any, path: str) -> ContractSpec:
        section = self.mapping(raw, path, ("id", "name", "starts_at", "ends_at", "custom_fields", "metrics"))
        spec: dict[str, Any] = {}
        if "id" in section:
            spec["id"] = self.uuid(section["id"], f"{path}.id")
        if "name" in section:
            spec["name"] = self.text(section["name"], f"{path}.name")
        for key in ("starts_at", "ends_at"):
            if key in section:
                spec[key] = self.timestamp(section[key], f"{path}.{key}")
        if "custom_fields" in section:
            spec["custom_fields"] = self.string_map(section["custom_fields"], f"{path}.custom_fields")
        if "metrics" in section:
            items = self.sequence(section["metrics"], f"{path}.metrics")
            spec["metrics"] = tuple(self.text(m, f"{path}.metrics[{i}]") for i, m in enumerate(items))
        starts, ends = spec.get("starts_at"), spec.get("ends_at")
        if starts is not None and ends is not None and ends <= starts:
            raise self.fail(f"{path}.ends_at", "expected a time after starts_at")
        return ContractSpec(**spec)

    def invoice(self, raw: Any, path: str, top_level: bool) -> tuple[str | None, InvoiceSpec]:
        keys = [f.name for f in dataclasses.fields(InvoiceSpec) if f.name != "path"]
        section = self.mapping(raw, path, (*keys, "customer") if top_level else tuple(keys))
        customer_ref = None
        if top_level:
            if "customer" not in section:
                raise self.fail(path, "missing key 'customer' (the id, alias or name of a pinned customer)")
            customer_ref = str(section["customer"])
        spec: dict[str, Any] = {"path": path}
        for key, value in section.items():
            where = f"{path}.{key}"
            if key in ("id", "contract_id"):
                spec[key] = self.uuid(value, where)
            elif key == "status":
                spec[key] = self.choice(value, where, STATUSES)
            elif key == "type":
                spec[key] = self.choice(value, where, KINDS)
            elif key == "payment_status":
                spec[key] = self.choice(value, where, PAYMENT_STATUSES)
            elif key == "external_status":
                spec[key] = self.choice(value, where, EXTERNAL_STATUSES)
            elif key == "currency":
                spec[key] = self.text(value, where, CURRENCY)
            elif key in ("period_start", "period_end", "issued_at"):
                spec[key] = self.timestamp(value, where)
            elif key == "net_terms":
                spec[key] = self.integer(value, where, 0, 365)
            elif key in ("credits", "coupons"):
                spec[key] = self.integer(value, where, 0, 10**12)
            elif key == "tax_rate":
                spec[key] = self.decimal(value, where)
                if float(spec[key]) >= 1:
                    raise self.fail(where, f"expected a rate below 1 (0.2 is 20%), got {value!r}")
            elif key == "line_items":
                items = self.sequence(value, where)
                if not items:
                    raise self.fail(where, "expected at least one line item")
                spec[key] = tuple(self.line(item, f"{where}[{i}]") for i, item in enumerate(items))
            elif key == "custom_fields":
                spec[key] = self.string_map(value, where)
            elif key != "customer":
                spec[key] = self.text(value, where)
        start, end = spec.get("period_start"), spec.get("period_end")
        if start is not None and end is not None and end <= start:
            raise self.fail(f"{path}.period_end", "expected a time after period_start")
        if (start is None) != (end is None):
            raise self.fail(path, "give both period_start and period_end, or neither")
        return customer_ref, InvoiceSpec(**spec)

    def line(self, raw: Any, path: str) -> LineSpec:
        section = self.mapping(raw, path, ("name", "quantity", "unit_price", "description"))
        for key in ("name", "quantity", "unit_price"):
            if key not in section:
                raise self.fail(path, f"missing key {key!r}")
        return LineSpec(
            name=self.text(section["name"], f"{path}.name"),
            quantity=self.decimal(section["quantity"], f"{path}.quantity"),
            unit_price=self.decimal(section["unit_price"], f"{path}.unit_price"),
            description=self.optional_text(section.get("description"), f"{path}.description"),
        )

    # cross-references

    def check_unique_customers(self, customers: list[CustomerSpec]) -> None:
        ids: dict[str, str] = {}
        aliases: dict[str, str] = {}
        contract_ids: dict[str, str] = {}
        invoice_ids: dict[str, str] = {}
        for customer in customers:
            if customer.id is not None:
                if customer.id in ids:
                    raise self.fail(f"{customer.path}.id", f"duplicate customer id (also {ids[customer.id]})")
                ids[customer.id] = customer.path
            for i, contract in enumerate(customer.contracts or ()):
                where = f"{customer.path}.contracts[{i}]"
                if contract.id is not None:
                    if contract.id in contract_ids:
                        raise self.fail(
                            f"{where}.id", f"duplicate contract id (also {contract_ids[contract.id]})"
                        )
                    contract_ids[contract.id] = where
            for alias in customer.aliases or ():
                if alias in aliases:
                    raise self.fail(
                        f"{customer.path}.aliases",
                        f"alias {alias!r} is also used by {aliases[alias]}",
                    )
                aliases[alias] = customer.path
            for invoice in customer.invoices:
                if invoice.id is not None:
                    if invoice.id in invoice_ids:
                        raise self.fail(
                            f"{invoice.path}.id",
                            f"duplicate invoice id (also {invoice_ids[invoice.id]})",
                        )
                    invoice_ids[invoice.id] = invoice.path

    def check_contract_metrics(self, customers: list[CustomerSpec], metrics: tuple[MetricSpec, ...]) -> None:
        known = {metric.name for metric in metrics}
        for customer in customers:
            for i, contract in enumerate(customer.contracts or ()):
                for j, name in enumerate(contract.metrics or ()):
                    if name not in known:
                        raise self.fail(
                            f"{customer.path}.contracts[{i}].metrics[{j}]",
                            f"unknown metric {name!r}; expected the name of a metric in 'metrics'",
                        )

    def check_invoice_contracts(self, customer: CustomerSpec, invoices: tuple[InvoiceSpec, ...]) -> None:
        known = {c.id for c in customer.contracts or () if c.id}
        for invoice in invoices:
            if invoice.contract_id is not None and invoice.contract_id not in known:
                raise self.fail(
                    f"{invoice.path}.contract_id",
                    f"unknown contract {invoice.contract_id}; {customer.path} pins no contract with that id",
                )

    def attach_top_invoices(
        self, customers: list[CustomerSpec], pinned: list[tuple[str | None, InvoiceSpec]]
    ) -> list[CustomerSpec]:
        if not pinned:
            return customers
        index: dict[str, int] = {}
        for position, customer in enumerate(customers):
            for ref in (customer.id, customer.name, *(customer.aliases or ())):
                if ref is not None:
                    index.setdefault(ref, position)
        extra: dict[int, list[InvoiceSpec]] = {}
        for ref, invoice in pinned:
            if ref not in index:
                raise self.fail(
                    f"{invoice.path}.customer",
                    f"unknown customer {ref!r}; expected the id, alias or name of a customer in 'customers'",
                )
            extra.setdefault(index[ref], []).append(invoice)
        result = []
        for position, customer in enumerate(customers):
            added = tuple(extra.get(position, ()))
            self.check_invoice_contracts(customer, added)
            result.append(dataclasses.replace(customer, invoices=customer.invoices + added))
        return result


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
