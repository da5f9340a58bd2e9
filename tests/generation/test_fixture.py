"""Every way a fixture can be wrong is named: the file, the path inside it, what was expected."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from mockserver.generation.fixture import load_fixture, parse_fixture
from mockserver.world.spec import FixtureError
from mockserver.world.state import World

CUSTOMER = "customers:\n  - name: Acme\n    alias: acme\n"
CONTRACT_ID = "3d8e1f20-5b6c-4d7e-9f80-a1b2c3d4e5f6"


def error_of(text: str) -> FixtureError:
    with pytest.raises(FixtureError) as info:
        World.from_fixture(parse_fixture(textwrap.dedent(text), "world.yaml"))
    return info.value


BAD_FIXTURES = [
    ("seed: [1]", "seed", "expected an integer from 0"),
    ("seed: -1", "seed", "got -1"),
    ("now: yesterday", "now", "expected an RFC 3339 timestamp"),
    ("colour: blue", "colour", "unknown key; expected one of: name, seed"),
    ("- 1\n- 2", "", "expected a mapping, got a list"),
    ("metronome: {default_sort: newest}", "metronome.default_sort", "expected one of date_asc, date_desc"),
    ("meteroid: {dialect: pascal}", "meteroid.dialect", "expected one of documented, upstream"),
    ("isolation: tenant", "isolation", "expected one of none, token, got 'tenant'"),
    ("auth: {tokens: ['']}", "auth.tokens[0]", "expected a non-empty string"),
    ("auth: {tokens: abc}", "auth.tokens", "expected a list"),
    ("generate: {customers: many}", "generate.customers", "expected an integer"),
    ("generate: {archived_share: 1.5}", "generate.archived_share", "expected a share from 0 to 1, got 1.5"),
    ("invoices: {months: 0}", "invoices.months", "expected an integer from 1 to 600, got 0"),
    ("invoices: {contracts: 51}", "invoices.contracts", "from 1 to 50"),
    ("invoices: {net_terms: 400}", "invoices.net_terms", "from 0 to 365"),
    ("invoices: {void_share: '0.1'}", "invoices.void_share", "expected a share from 0 to 1, got a string"),
    ("invoices: {status_mix: [finalized]}", "invoices.status_mix", "expected a mapping, got a list"),
    (
        "invoices: {status_mix: {paid: 1}}",
        "invoices.status_mix.paid",
        "expected one of: finalized, uncollectible",
    ),
    ("invoices: {status_mix: {finalized: -1}}", "invoices.status_mix.finalized", "non-negative weight"),
    ("invoices: {status_mix: {finalized: 0}}", "invoices.status_mix", "at least one positive weight"),
    ("invoices: {type_mix: {monthly: 1}}", "invoices.type_mix.monthly", "unknown key"),
    ("invoices: {currencies: {usd: 1}}", "invoices.currencies.usd", "matching ^[A-Z]{3}$"),
    ("invoices: {currencies: USD}", "invoices.currencies", "mapping of currency code to weight"),
    ("invoices: {payments: {paid: yes}}", "invoices.payments.paid", "non-negative weight"),
    ("invoices: {payment_methods: {cheque: 1}}", "invoices.payment_methods.cheque", "unknown key"),
    (
        "invoices: {billing_provider: {statuses: {PAID: 1}}}",
        "invoices.billing_provider",
        "missing key 'type'",
    ),
    ("invoices: {billing_provider: {type: paypal}}", "invoices.billing_provider.type", "expected one of"),
    (
        "invoices: {billing_provider: {type: stripe, statuses: {OPEN: 1}}}",
        "invoices.billing_provider.statuses.OPEN",
        "unknown key",
    ),
    ("customers: {name: Acme}", "customers", "expected a list"),
    ("customers:\n  - id: 42", "customers[0].id", "expected a non-empty string, got an integer"),
    ("customers:\n  - id: not-a-uuid", "customers[0].id", "expected a UUID"),
    ("customers:\n  - nmae: Acme", "customers[0].nmae", "unknown key"),
    ("customers:\n  - currency: EURO", "customers[0].currency", "matching ^[A-Z]{3}$"),
    ("customers:\n  - address: {country: USA}", "customers[0].address.country", "matching ^[A-Z]{2}$"),
    ("customers:\n  - address: {postcode: '1'}", "customers[0].address.postcode", "unknown key"),
    ("customers:\n  - alias: a\n    aliases: [b]", "customers[0].aliases", "either 'alias' or 'aliases'"),
    ("customers:\n  - aliases: [a, '']", "customers[0].aliases[1]", "non-empty string"),
    ("customers:\n  - archived: maybe", "customers[0].archived", "expected true or false"),
    (
        "customers:\n  - archived: true\n    archived_at: 2026-01-01",
        "customers[0].archived_at",
        "either 'archived' or 'archived_at'",
    ),
    ("customers:\n  - custom_fields: [a]", "customers[0].custom_fields", "mapping of string to string"),
    ("customers:\n  - custom_fields: {tier: [1]}", "customers[0].custom_fields.tier", "string value"),
    ("customers:\n  - contracts: []", "customers[0].contracts", "at least one contract"),
    (
        "customers:\n  - contracts: [{starts_at: 2026-02-01, ends_at: 2026-01-01}]",
        "customers[0].contracts[0].ends_at",
        "after starts_at",
    ),
    (
        "customers:\n  - invoices: {status_mix: {void: 1}}",
        "customers[0].invoices.status_mix.void",
        "unknown key",
    ),
    (
        "customers:\n  - id: 7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b\n"
        "  - id: 7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b",
        "customers[1].id",
        "duplicate customer id (also customers[0])",
    ),
    (
        "customers:\n  - alias: a\n  - alias: a",
        "customers[1].aliases",
        "alias 'a' is also used by customers[0]",
    ),
    (
        CUSTOMER + "    invoices: {pinned: [{status: paid}]}",
        "customers[0].invoices.pinned[0].status",
        "expected one of",
    ),
    (
        CUSTOMER + "    invoices: {pinned: [{type: monthly}]}",
        "customers[0].invoices.pinned[0].type",
        "expected one of",
    ),
    (
        CUSTOMER + "    invoices: {pinned: [{customer: acme}]}",
        "customers[0].invoices.pinned[0].customer",
        "unknown key",
    ),
    (
        CUSTOMER + "    invoices: {pinned: [{period_start: 2026-01-01}]}",
        "customers[0].invoices.pinned[0]",
        "give both period_start and period_end",
    ),
    (
        CUSTOMER + "    invoices: {pinned: [{period_start: 2026-02-01, period_end: 2026-01-01}]}",
        "customers[0].invoices.pinned[0].period_end",
        "after period_start",
    ),
    (
        CUSTOMER + "    invoices: {pinned: [{tax_rate: 19}]}",
        "customers[0].invoices.pinned[0].tax_rate",
        "below 1",
    ),
    (
        CUSTOMER + "    invoices: {pinned: [{line_items: []}]}",
        "customers[0].invoices.pinned[0].line_items",
        "at least one",
    ),
    (
        CUSTOMER + "    invoices: {pinned: [{line_items: [{name: x, quantity: 1}]}]}",
        "customers[0].invoices.pinned[0].line_items[0]",
        "missing key 'unit_price'",
    ),
    (
        CUSTOMER + "    invoices: {pinned: [{line_items: [{name: x, quantity: -1, unit_price: 1}]}]}",
        "customers[0].invoices.pinned[0].line_items[0].quantity",
        "non-negative decimal",
    ),
    (
        CUSTOMER + f"    invoices: {{pinned: [{{contract_id: {CONTRACT_ID}}}]}}",
        "customers[0].invoices.pinned[0].contract_id",
        f"unknown contract {CONTRACT_ID}",
    ),
    (
        CUSTOMER + "    invoices: {pinned: [{id: 9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f}, "
        "{id: 9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f}]}",
        "customers[0].invoices.pinned[1].id",
        "duplicate invoice id",
    ),
    ("invoices: {pinned: [{status: void}]}", "invoices.pinned[0]", "missing key 'customer'"),
    (
        CUSTOMER + "invoices: {pinned: [{customer: globex}]}",
        "invoices.pinned[0].customer",
        "unknown customer 'globex'",
    ),
    # impossible values, caught while the world is generated
    (
        "now: 2026-06-15\n"
        + CUSTOMER
        + "    invoices: {pinned: [{period_start: 2026-07-01, period_end: 2026-08-01}]}",
        "customers[0].invoices.pinned[0].period_start",
        "cannot start after 'now'",
    ),
    (
        "now: 2026-06-15\n" + CUSTOMER + "    invoices: {pinned: [{status: draft, period_start: 2026-04-01, "
        "period_end: 2026-05-01}]}",
        "customers[0].invoices.pinned[0].status",
        "a draft must be in the billing period open at 'now'",
    ),
    (
        "now: 2026-06-15\n"
        + CUSTOMER
        + "    invoices: {pinned: [{status: finalized, period_start: 2026-06-01, "
        "period_end: 2026-07-01}]}",
        "customers[0].invoices.pinned[0].status",
        "needs a billing period that has ended",
    ),
    (
        "now: 2026-06-15\n"
        + CUSTOMER
        + "    invoices: {pinned: [{period_start: 2026-04-01, period_end: 2026-05-01, "
        "issued_at: 2026-07-01}]}",
        "customers[0].invoices.pinned[0].issued_at",
        "cannot be issued after 'now'",
    ),
    (
        CUSTOMER + "    invoices: {pinned: [{status: void, payment_status: paid, period_start: 2026-04-01, "
        "period_end: 2026-05-01}]}",
        "customers[0].invoices.pinned[0].payment_status",
        "a void invoice cannot be paid",
    ),
    (
        CUSTOMER
        + "    invoices: {pinned: [{period_start: 2026-04-01, period_end: 2026-05-01, credits: 999999999, "
        "line_items: [{name: x, quantity: 1, unit_price: 1}]}]}",
        "customers[0].invoices.pinned[0]",
        "exceed subtotal plus tax",
    ),
    # fault rules
    ("faults: {respond: {status: 500}}", "faults", "expected a list"),
    ("faults: [{respond: {status: 600}}]", "faults[0].respond.status", "from 100 to 599, got 600"),
    ("faults: [{respond: {drop: true}, tims: 2}]", "faults[0].tims", "unknown key"),
    ("faults: [{match: {path: '/v1/[x'}, respond: {drop: true}}]", "faults[0].match.path", "unclosed '['"),
    ("metrics: {a: 1}", "metrics", "expected a list"),
    ("metrics: [{name: x, price: 1}]", "metrics[0]", "missing key 'code'"),
    ("metrics: [{code: x}]", "metrics[0]", "missing key 'price'"),
    ("metrics: [{code: x, price: -1}]", "metrics[0].price", "expected a non-negative decimal"),
    (
        "metrics: [{code: x, price: 1, aggregation: avg}]",
        "metrics[0].aggregation",
        "expected one of count, sum",
    ),
    ("metrics: [{code: x, price: 1, aggregation: sum}]", "metrics[0]", "missing key 'property'"),
    ("metrics: [{code: x, price: 1, property: p}]", "metrics[0].property", "a count takes no property"),
    ("metrics: [{code: x, prices: {usd: 1}}]", "metrics[0].prices.usd", "expected a string matching"),
    ("metrics: [{code: x, price: 1, filters: {a: [1]}}]", "metrics[0].filters.a", "expected a string key"),
    (
        "metrics: [{code: x, price: 1}, {code: y, name: x, price: 2}]",
        "metrics[1].name",
        "duplicate metric name",
    ),
    (
        "metrics: [{code: x, price: 1}]\ncustomers: [{contracts: [{metrics: [y]}]}]",
        "customers[0].contracts[0].metrics[0]",
        "unknown metric 'y'",
    ),
]


@pytest.mark.parametrize(
    ("text", "path", "message"), BAD_FIXTURES, ids=[p or "top" for _, p, _ in BAD_FIXTURES]
)
def test_bad_fixture_names_file_path_and_expectation(text: str, path: str, message: str) -> None:
    error = error_of(text)
    assert error.source == "world.yaml"
    assert error.path == path
    assert message in error.message
    assert str(error).startswith(f"world.yaml:{error.line}: {path}: " if path else "world.yaml: ")
    assert error.line is not None or not path  # a field is found in the file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed: [1", "is not valid YAML"),
        ("seed: 1\nseed: 2\n", "duplicate key 'seed' (line 2)"),
    ],
)
def test_unreadable_yaml_is_rejected_with_its_reason(text: str, message: str) -> None:
    assert message in error_of(text).message


def test_only_true_and_false_are_booleans_so_norway_stays_a_country() -> None:
    fixture = parse_fixture("customers:\n  - address: {country: NO}\n", "world.yaml")
    assert fixture.customers[0].address.country == "NO"


def test_missing_file_names_the_file(tmp_path) -> None:
    with pytest.raises(FixtureError, match="cannot be read"):
        load_fixture(tmp_path / "absent.yaml")


def test_fault_rules_in_a_fixture_are_kept_in_order() -> None:
    fixture = parse_fixture(
        "faults:\n  - {match: {api: metronome}, respond: {status: 429}, times: 2}\n"
        "  - {respond: {delay_ms: 5}}\n",
        "world.yaml",
    )
    assert [(rule.api, rule.status, rule.times, rule.delay_ms) for rule in fixture.faults] == [
        ("metronome", 429, 2, 0),
        (None, None, None, 5),
    ]


@pytest.mark.parametrize(
    ("text", "isolation"), [("", None), ("isolation: none", None), ("isolation: token", "token")]
)
def test_a_fixture_may_isolate_a_world_per_token(text: str, isolation: str | None) -> None:
    assert parse_fixture(text, "world.yaml").isolation == isolation


def test_five_line_fixture_gives_a_rich_world() -> None:
    world = World.from_fixture(parse_fixture("seed: 1\ngenerate: {customers: 5}\n", "small.yaml"))
    kinds = {world.cols.kind[i] for i in range(len(world))}
    assert len(world.customers) == 5 and len(world) >= 50
    assert len(kinds) >= 3
    assert world.fixture.name == "small"


def test_cli_rejects_a_bad_fixture_with_status_2_and_no_traceback(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("customers:\n  - name: Acme\n    invoices: {status_mix: {paid: 1}}\n")
    for command in (
        ["check", str(bad)],
        ["generate", str(bad)],
        ["serve", "--port", "0", "--fixtures", str(bad)],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "mockserver", *command], capture_output=True, text=True
        )
        assert result.returncode == 2
        assert f"{bad}:3: customers[0].invoices.status_mix.paid: unknown key" in result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


def test_metrics_are_read_with_their_prices_and_the_contracts_that_bill_them() -> None:
    fixture = parse_fixture(
        "metrics:\n"
        "  - {code: api_request, price: 0.002}\n"
        "  - {code: storage, name: Peak GB, aggregation: max, property: gb, prices: {JPY: 35}, price: 0.25}\n"
        "customers:\n"
        "  - contracts: [{name: Storage only, metrics: [Peak GB]}, {name: Everything}]\n",
        "world.yaml",
    )
    requests, storage = fixture.metrics
    assert (requests.name, requests.aggregation, requests.unit_price("EUR")) == (
        "api_request",
        "count",
        "0.002",
    )
    assert (storage.unit_price("JPY"), storage.unit_price("USD"), storage.property) == ("35", "0.25", "gb")
    assert [c.metrics for c in fixture.customers[0].contracts] == [("Peak GB",), None]


def tiered(tiers: str, extra: str = "") -> str:
    return f"metrics: [{{code: x{extra}, tiers: {tiers}}}]"


BAD_TIERS = [
    (tiered("{a: 1}"), "metrics[0].tiers", "expected a list"),
    (tiered("[]"), "metrics[0].tiers", "expected at least one tier"),
    (tiered("[5]"), "metrics[0].tiers[0]", "expected a mapping, got an integer"),
    (tiered("[{price: 1, upto: 5}]"), "metrics[0].tiers[0].upto", "unknown key; expected one of: up_to"),
    # price/prices and tiers are mutually exclusive
    (tiered("[{price: 1}]", ", price: 1"), "metrics[0].tiers", "give either 'price'/'prices' or 'tiers'"),
    (tiered("[{price: 1}]", ", prices: {USD: 1}"), "metrics[0].tiers", "not both"),
    # bounds: every tier but the last has one, and they rise strictly from above 0
    (tiered("[{price: 1}, {price: 2}]"), "metrics[0].tiers[0]", "missing key 'up_to'"),
    (tiered("[{up_to: 5, price: 1}]"), "metrics[0].tiers[0].up_to", "the last tier is open-ended"),
    (tiered("[{up_to: 5, price: 1}, {up_to: 9, price: 1}]"), "metrics[0].tiers[1].up_to", "leave out"),
    (tiered("[{up_to: ten, price: 1}, {price: 1}]"), "metrics[0].tiers[0].up_to", "non-negative decimal"),
    (tiered("[{up_to: -5, price: 1}, {price: 1}]"), "metrics[0].tiers[0].up_to", "non-negative decimal"),
    (tiered("[{up_to: 0, price: 1}, {price: 1}]"), "metrics[0].tiers[0].up_to", "a bound above 0"),
    (
        tiered("[{up_to: 10, price: 1}, {up_to: 10.0, price: 1}, {price: 1}]"),
        "metrics[0].tiers[1].up_to",
        "expected a bound above 10 (bounds start above 0 and strictly increase), got 10.0",
    ),
    (
        tiered("[{up_to: 10, price: 1}, {up_to: 2.5, price: 1}, {price: 1}]"),
        "metrics[0].tiers[1].up_to",
        "expected a bound above 10",
    ),
    # prices: non-negative decimals, given per tier
    (tiered("[{up_to: 1}, {price: 1}]"), "metrics[0].tiers[0]", "missing key 'price'"),
    (tiered("[{up_to: 1, price: 1}, {price: -2}]"), "metrics[0].tiers[1].price", "non-negative decimal"),
    (tiered("[{prices: {USD: 1e3}}]"), "metrics[0].tiers[0].prices.USD", "non-negative decimal"),
    (tiered("[{prices: {}}]"), "metrics[0].tiers[0].prices", "expected a mapping of currency code"),
    (tiered("[{prices: {usd: 1}}]"), "metrics[0].tiers[0].prices.usd", "expected a string matching"),
    # every tier prices the same currencies
    (
        tiered("[{up_to: 1, prices: {USD: 1, EUR: 1}}, {prices: {USD: 1}}]"),
        "metrics[0].tiers[1].prices",
        "no price for EUR, which metrics[0].tiers[0] prices; every tier prices the same currencies",
    ),
    (
        tiered("[{up_to: 1, prices: {USD: 1}}, {prices: {USD: 1, GBP: 2}}]"),
        "metrics[0].tiers[0].prices",
        "no price for GBP, which metrics[0].tiers[1] prices",
    ),
    (
        tiered("[{up_to: 1, prices: {USD: 1}}, {price: 1}]"),
        "metrics[0].tiers[0]",
        "missing key 'price': metrics[0].tiers[1].price prices every currency, so every tier needs one",
    ),
]


@pytest.mark.parametrize(("text", "path", "message"), BAD_TIERS)
def test_bad_tiers_name_the_tier_and_the_rule(text: str, path: str, message: str) -> None:
    error = error_of(text)
    assert (error.path, error.source) == (path, "world.yaml")
    assert message in error.message


def test_a_metric_without_any_price_mentions_tiers() -> None:
    assert "or 'tiers' (graduated prices)" in error_of("metrics: [{code: x}]").message


def test_tiers_are_read_in_order_with_their_prices_in_each_currency() -> None:
    fixture = parse_fixture(
        "metrics:\n"
        "  - code: storage\n"
        "    tiers:\n"
        "      - {up_to: 1.5, price: 2}\n"
        "      - {up_to: 10, price: 1, prices: {EUR: 0.9}}\n"
        "      - {price: 0.5, prices: {EUR: 0.45}}\n"
        "  - code: seats\n"
        "    tiers: [{up_to: 5, prices: {USD: 0}}, {prices: {USD: 7}}]\n",
        "world.yaml",
    )
    storage, seats = fixture.metrics
    assert [tier.up_to for tier in storage.tiers] == ["1.5", "10", None]
    assert (storage.price, storage.prices) == (None, ())
    assert storage.tier_prices("EUR") == ("2", "0.9", "0.45")
    assert storage.tier_prices("JPY") == ("2", "1", "0.5")
    assert seats.tier_prices("USD") == ("0", "7")
    assert seats.tier_prices("EUR") is None  # no tier prices EUR: the metric bills nothing in it


IMPOSSIBLE = (
    "customers:\n  - name: Acme\n    invoices:\n      pinned:\n"
    "        - period_start: {}\n          period_end: 2027-05-01\n"
)


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("name: x\nnow: 2026-02-30\n", ":2: now: ", "'2026-02-30' names no such date or time"),
        ("name: x\nnow: 2026-13-01T00:00:00Z\n", ":2: now: ", "names no such date or time"),
        ("name: x\nnow: 2026-01-01T25:00:00\n", ":2: now: ", "names no such date or time"),
        (
            IMPOSSIBLE.format("2026-04-31"),
            ":5: customers[0].invoices.pinned[0].period_start: ",
            "no such date",
        ),
        (
            IMPOSSIBLE.format("2027-04-01"),
            ":5: customers[0].invoices.pinned[0].period_start: ",
            "after 'now'",
        ),
        ("seed: 1\ngenerate:\n  customers: lots\n", ":3: generate.customers: ", "expected an integer"),
        ("seed: 1\nmetronome:\n\n  sort: asc\n", ":4: metronome.sort: ", "unknown key"),
    ],
)
@pytest.mark.parametrize("command", ["check", "serve"])
def test_a_fixture_mistake_is_one_line_naming_file_line_and_field(
    tmp_path, command, text, where, says
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    args = [str(bad)] if command == "check" else ["--port", "0", "--fixtures", str(bad)]
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", command, *args], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"mockserver: invalid fixture: {bad}{where}")
    assert says in result.stderr and result.stderr.count("\n") == 1
