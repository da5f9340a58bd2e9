"""The fixture file: YAML read strictly and validated into immutable specs (`world.spec`)
before anything runs.

Every rejection names the file, the path inside it and what was expected, because a fixture
author fixing a typo should never have to read a traceback.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mockserver.world import clock
from mockserver.world.endpoints import MAX_ENDPOINTS, Endpoint, check
from mockserver.world.errors import ChangeError
from mockserver.world.faults import RuleError, parse_rules
from mockserver.world.generator import Progress
from mockserver.world.spec import (
    AGGREGATIONS,
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
    Located,
    LocatedList,
    MetricSpec,
    Profile,
    TierSpec,
    line_of,
)
from mockserver.world.state import World

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PRICE_KEYS = "'price' (per unit, in major units) or 'prices' (per currency)"


# --- YAML: strict about duplicates, and only true/false are booleans ---------------------------


class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict:
    seen = Located()
    seen.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r} (line {line})")
        seen[key] = loader.construct_object(value_node, deep=True)
        seen.lines[key] = line
    return seen


def _construct_sequence(loader: _StrictLoader, node: yaml.SequenceNode) -> list:
    items = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    items.lines = [child.start_mark.line + 1 for child in node.value]
    return items


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
# Times stay text, read by the validator: YAML's own reading of `2026-02-30` fails with
# Python's words and no field; booleans are only true and false.
_StrictLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


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
        raw = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise FixtureError(source, "", f"is not valid YAML: {_yaml_reason(exc)}") from None
    if raw is None:
        raw = {}
    return _Validator(source).fixture(raw, text)


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


# --- validation -------------------------------------------------------------------------------


class _Validator:
    def __init__(self, source: str) -> None:
        self.source = source
        self.root: Any = None  # the YAML read, whose keys know their lines

    def fail(self, path: str, message: str) -> FixtureError:
        return FixtureError(self.source, path, message, line_of(self.root, path))

    # scalars

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if key not in allowed:
                hint = ", ".join(allowed)
                raise self.fail(_join(path, str(key)), f"unknown key; expected one of: {hint}")
        return value

    def integer(self, value: Any, path: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"expected an integer from {low} to {high}, got {_kind(value)}")
        if not low <= value <= high:
            raise self.fail(path, f"expected an integer from {low} to {high}, got {value}")
        return value

    def share(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"expected a share from 0 to 1, got {_kind(value)}")
        if not 0 <= value <= 1:
            raise self.fail(path, f"expected a share from 0 to 1, got {value}")
        return float(value)

    def text(self, value: Any, path: str, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"expected a non-empty string, got {_kind(value)}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(path, f"expected a string matching {pattern.pattern}, got {value!r}")
        return value

    def optional_text(self, value: Any, path: str) -> str | None:
        return None if value is None else self.text(value, path)

    def choice(self, value: Any, path: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(path, f"expected one of {', '.join(allowed)}, got {value!r}")
        return value

    def uuid(self, value: Any, path: str) -> str:
        try:
            return str(uuid.UUID(self.text(value, path)))
        except ValueError:
            raise self.fail(path, f"expected a UUID, got {value!r}") from None

    def timestamp(self, value: Any, path: str) -> int:
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            return int(moment.timestamp())
        if isinstance(value, date):
            return clock.from_date(value)
        if isinstance(value, str):
            try:
                return clock.parse_timestamp(value).floor
            except ValueError as exc:
                raise self.fail(path, f"expected an RFC 3339 timestamp or a date: {exc}") from None
        raise self.fail(path, f"expected an RFC 3339 timestamp or a date, got {value!r}")

    def decimal(self, value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(path, f"expected a non-negative decimal number, got {_kind(value)}")
        text = str(value)
        if not re.fullmatch(r"\d+(\.\d+)?", text):
            raise self.fail(path, f"expected a non-negative decimal number, got {value!r}")
        return text

    def weights(self, value: Any, path: str, allowed: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
        items = self.mapping(value, path, allowed)
        result = []
        for key, weight in items.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
                raise self.fail(_join(path, key), f"expected a non-negative weight, got {weight!r}")
            result.append((key, float(weight)))
        if not result or sum(w for _, w in result) <= 0:
            raise self.fail(path, "expected at least one positive weight")
        return tuple(result)

    def currency_weights(self, value: Any, path: str) -> tuple[tuple[str, float], ...]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping of currency code to weight, got {_kind(value)}")
        for key in value:
            self.text(key, _join(path, str(key)), _CURRENCY)
        return self.weights(value, path, tuple(value))

    def string_map(self, value: Any, path: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping of string to string, got {_kind(value)}")
        result = []
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str | int | float) or isinstance(item, bool):
                raise self.fail(_join(path, str(key)), "expected a string key with a string value")
            result.append((key, str(item)))
        return tuple(sorted(result))

    def sequence(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {_kind(value)}")
        return value

    # structure

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
            where = _join(path, key)
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
        for i, item in enumerate(self.sequence(section.get("pinned", []), _join(path, "pinned"))):
            pinned.append(self.invoice(item, f"{path}.pinned[{i}]", top_level))
        return dataclasses.replace(base, **changes), pinned

    def metrics(self, raw: Any, path: str) -> tuple[MetricSpec, ...]:
        result: list[MetricSpec] = []
        names: dict[str, str] = {}
        for i, item in enumerate(self.sequence(raw, path)):
            metric = self.metric(item, f"{path}[{i}]")
            if metric.name in names:
                raise self.fail(f"{path}[{i}].name", f"duplicate metric name (also {names[metric.name]})")
            names[metric.name] = f"{path}[{i}]"
            result.append(metric)
        return tuple(result)

    def metric(self, raw: Any, path: str) -> MetricSpec:
        keys = ("name", "code", "aggregation", "property", "filters", "price", "prices", "tiers")
        section = self.mapping(raw, path, keys)
        if "code" not in section:
            raise self.fail(path, "missing key 'code' (the event type or code the metric counts)")
        code = self.text(section["code"], f"{path}.code")
        spec: dict[str, Any] = {"code": code, "name": code}
        if "name" in section:
            spec["name"] = self.text(section["name"], f"{path}.name")
        aggregation = spec["aggregation"] = self.choice(
            section.get("aggregation", "count"), f"{path}.aggregation", AGGREGATIONS
        )
        if "property" in section:
            if aggregation == "count":
                raise self.fail(f"{path}.property", "a count takes no property; sum, max and unique do")
            spec["property"] = self.text(section["property"], f"{path}.property")
        elif aggregation != "count":
            raise self.fail(path, f"missing key 'property' (the property a {aggregation} reads)")
        if "filters" in section:
            spec["filters"] = self.string_map(section["filters"], f"{path}.filters")
        if "tiers" in section:
            if "price" in section or "prices" in section:
                raise self.fail(f"{path}.tiers", "give either 'price'/'prices' or 'tiers', not both")
            spec["tiers"] = self.tiers(section["tiers"], f"{path}.tiers")
        else:
            spec.update(self.priced(section, path))
            if not ("price" in spec or "prices" in spec):
                raise self.fail(path, f"missing key {_PRICE_KEYS}, or 'tiers' (graduated prices)")
        return MetricSpec(**spec)

    def priced(self, section: Mapping[str, Any], path: str) -> dict[str, Any]:
        """A metric's or a tier's `price` and `prices`, those given."""
        spec: dict[str, Any] = {}
        if "price" in section:
            spec["price"] = self.decimal(section["price"], f"{path}.price")
        if "prices" in section:
            prices = section["prices"]
            if not isinstance(prices, Mapping) or not prices:
                raise self.fail(f"{path}.prices", "expected a mapping of currency code to unit price")
            spec["prices"] = tuple(
                sorted(
                    (
                        self.text(currency, f"{path}.prices.{currency}", _CURRENCY),
                        self.decimal(price, f"{path}.prices.{currency}"),
                    )
                    for currency, price in prices.items()
                )
            )
        return spec

    def tiers(self, raw: Any, path: str) -> tuple[TierSpec, ...]:
        """Graduated tiers: bounds strictly increasing from 0, only the last open-ended, and every
        tier pricing the same currencies (so that a currency is billed whole or not at all)."""
        items = self.sequence(raw, path)
        if not items:
            raise self.fail(path, "expected at least one tier")
        tiers: list[TierSpec] = []
        below = "0"
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            section = self.mapping(item, where, ("up_to", "price", "prices"))
            up_to = None
            if i == len(items) - 1:
                if "up_to" in section:
                    raise self.fail(f"{where}.up_to", "the last tier is open-ended; leave out 'up_to'")
            else:
                if "up_to" not in section:
                    raise self.fail(where, "missing key 'up_to' (only the last tier is open-ended)")
                up_to = self.decimal(section["up_to"], f"{where}.up_to")
                if Fraction(up_to) <= Fraction(below):
                    raise self.fail(
                        f"{where}.up_to",
                        f"expected a bound above {below} (bounds start above 0 and strictly increase), "
                        f"got {up_to}",
                    )
                below = up_to
            prices = self.priced(section, where)
            if not prices:
                raise self.fail(where, f"missing key {_PRICE_KEYS}")
            tiers.append(TierSpec(up_to, **prices))
        self.check_tier_currencies(tiers, path)
        return tuple(tiers)

    def check_tier_currencies(self, tiers: list[TierSpec], path: str) -> None:
        """A currency some tier prices and another does not would bill part of a quantity only."""
        fallback = next((i for i, tier in enumerate(tiers) if tier.price is not None), None)
        for i, tier in enumerate(tiers):
            if tier.price is not None:
                continue
            if fallback is not None:
                raise self.fail(
                    f"{path}[{i}]",
                    f"missing key 'price': {path}[{fallback}].price prices every currency, "
                    "so every tier needs one",
                )
            own = dict(tier.prices)
            for j, other in enumerate(tiers):
                missing = sorted(set(dict(other.prices)) - set(own))
                if missing:
                    raise self.fail(
                        f"{path}[{i}].prices",
                        f"no price for {missing[0]}, which {path}[{j}] prices; "
                        "every tier prices the same currencies",
                    )

    def billing_provider(self, value: Any, path: str) -> BillingProvider | None:
        if value is None:
            return None
        section = self.mapping(value, path, ("type", "statuses"))
        if "type" not in section:
            raise self.fail(path, f"missing key 'type' (one of {', '.join(PROVIDERS)})")
        statuses = (
            self.weights(section["statuses"], _join(path, "statuses"), EXTERNAL_STATUSES)
            if "statuses" in section
            else (("FINALIZED", 1.0),)
        )
        return BillingProvider(self.choice(section["type"], _join(path, "type"), PROVIDERS), statuses)

    def address(self, value: Any, path: str) -> Address:
        section = self.mapping(value, path, tuple(f.name for f in dataclasses.fields(Address)))
        values = {key: self.text(item, _join(path, key)) for key, item in section.items()}
        if "country" in values:
            self.text(values["country"], _join(path, "country"), _COUNTRY)
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
            spec["currency"] = self.text(section["currency"], f"{path}.currency", _CURRENCY)
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
                spec[key] = self.text(value, where, _CURRENCY)
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


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }
    kind = next((kind for kind in type(value).__mro__ if kind in names), type(value))
    return names.get(kind, kind.__name__)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
