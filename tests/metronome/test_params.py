"""Query parsing, without HTTP: what each parameter accepts, what it refuses and why."""

from __future__ import annotations

import pytest

from mockserver.metronome import params
from mockserver.metronome.catalog import CreditTypes, credit_type_id
from mockserver.metronome.errors import ApiError
from mockserver.world.state import World

EDGE = "e0000000-0000-4000-8000-000000000001"
OTHER = "e0000000-0000-4000-8000-000000000002"
MAIN_CONTRACT = "c0000000-0000-4000-8000-000000000001"
OTHER_CONTRACT = "c0000000-0000-4000-8000-000000000003"


def parse_pairs(pairs, world: World, customer: int, default_sort: str = "date_asc"):
    """A list request's cursor and the rest parsed, as the route does it."""
    cursor, given = params.split_invoice_list(pairs)
    return cursor, params.parse_invoice_filters(
        given, world, customer, CreditTypes(world.currencies), default_sort
    )


def parse_with_cursor(world: World, customer: str = EDGE, default_sort: str = "date_asc", **query: str):
    return parse_pairs(list(query.items()), world, world.customer_by_id[customer], default_sort)


def parse(world: World, customer: str = EDGE, default_sort: str = "date_asc", **query: str):
    return parse_with_cursor(world, customer, default_sort, **query)[1]


def refusal(call) -> str:
    with pytest.raises(ApiError) as caught:
        call()
    assert caught.value.status == 400
    return caught.value.message


@pytest.mark.parametrize(("text", "expected"), [(None, 25), ("1", 1), ("100", 100), ("007", 7)])
def test_limit_accepts_1_to_100_and_defaults_to_25(text, expected) -> None:
    assert params.parse_limit(text) == expected


@pytest.mark.parametrize("text", ["0", "101", "-1", "abc", "", "1.5", " 5", "+5", "1e2", "99999999999"])
def test_limit_outside_1_to_100_or_not_an_integer_is_refused(text) -> None:
    message = refusal(lambda: params.parse_limit(text))
    assert message == f"limit must be an integer from 1 to 100, got {text!r}"


@pytest.mark.parametrize(
    ("text", "expected"), [("true", True), ("false", False), ("TRUE", True), (None, False)]
)
def test_booleans_are_true_or_false(text, expected) -> None:
    assert params.parse_bool("skip_zero_qty_line_items", text) is expected


@pytest.mark.parametrize("text", ["yes", "1", "", "t"])
def test_other_boolean_spellings_are_refused_naming_the_parameter(text) -> None:
    message = refusal(lambda: params.parse_bool("only_archived", text))
    assert message.startswith("only_archived must be true or false")


@pytest.mark.parametrize(
    ("text", "seconds", "fraction"),
    [
        ("2024-01-01T00:00:00.000Z", 1704067200, False),  # what the SDK sends for aware UTC datetimes
        ("2024-01-01T00:00:00Z", 1704067200, False),
        ("2024-01-01T05:30:00+05:30", 1704067200, False),
        ("2024-01-01T05:30:00.000+05:30", 1704067200, False),
        ("2023-12-31T19:00:00-05:00", 1704067200, False),
        ("2024-01-01T00:00:00", 1704067200, False),  # naive: UTC
        ("2024-01-01", 1704067200, False),  # a date
        ("2024-01-01T00:00:00.250Z", 1704067200, True),
        ("2024-01-01T05:30:00 05:30", 1704067200, False),  # an unencoded `+` decoded to a space
    ],
)
def test_every_datetime_form_the_sdk_sends_is_read(text, seconds, fraction) -> None:
    instant = params.parse_time("starting_on", text)
    assert (instant.floor, instant.has_fraction) == (seconds, fraction)


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01", "2024-01-01T25:00:00Z", "1704067200"])
def test_malformed_timestamps_are_refused_naming_the_parameter(text) -> None:
    message = refusal(lambda: params.parse_time("ending_before", text))
    assert message.startswith("ending_before must be an RFC 3339 timestamp")
    assert repr(text) in message


def test_inclusive_start_rounds_up_and_exclusive_end_rounds_down(edge_world: World) -> None:
    request = parse(edge_world, starting_on="2024-01-01T00:00:00.5Z", ending_before="2024-02-01T00:00:00.5Z")
    assert request.plan.query.period_start_from == 1704067201
    assert request.plan.query.period_end_until == 1706745600


def test_status_and_type_map_onto_neutral_codes(edge_world: World) -> None:
    # finalized and uncollectible are both FINALIZED upstream
    assert parse(edge_world, status="FINALIZED").plan.query.statuses == frozenset({1, 2})
    assert parse(edge_world, status="DRAFT").plan.query.statuses == frozenset({0})
    assert parse(edge_world, status="VOID").plan.query.statuses == frozenset({3})
    assert parse(edge_world, type="USAGE").plan.query.kinds == frozenset({0, 5})
    assert parse(edge_world, type="USAGE_CONSOLIDATED").plan.query.kinds == frozenset({1})
    assert parse(edge_world, type="SCHEDULED").plan.query.kinds == frozenset({2, 3, 4})


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("status", "PAID", "DRAFT, FINALIZED, VOID"),
        ("status", "finalized", "DRAFT, FINALIZED, VOID"),
        ("type", "ONE_OFF", "USAGE, USAGE_CONSOLIDATED, SCHEDULED"),
        ("sort", "newest", "date_asc, date_desc"),
    ],
)
def test_unknown_enum_values_are_refused_naming_the_allowed_ones(edge_world, name, value, allowed) -> None:
    message = refusal(lambda: parse(edge_world, **{name: value}))
    assert message == f"{name} must be one of {allowed}, got {value!r}"


def test_sort_defaults_to_the_setting(edge_world: World) -> None:
    assert parse(edge_world).plan.query.descending is False
    assert parse(edge_world, default_sort="date_desc").plan.query.descending is True
    assert parse(edge_world, default_sort="date_desc", sort="date_asc").plan.query.descending is False


def test_credit_type_id_selects_currencies_and_an_unknown_one_selects_none(edge_world: World) -> None:
    usd = edge_world.currencies.index("USD")
    assert parse(edge_world, credit_type_id=credit_type_id("USD")).plan.query.currencies == frozenset({usd})
    unknown = parse(edge_world, credit_type_id="00000000-0000-4000-8000-000000000000")
    assert unknown.plan.query.currencies == frozenset()
    message = refusal(lambda: parse(edge_world, credit_type_id="USD"))
    assert message == "credit_type_id must be a UUID, got 'USD'"


def test_contract_id_of_another_customer_matches_nothing(edge_world: World) -> None:
    own = parse(edge_world, contract_id=MAIN_CONTRACT)
    assert own.plan.query.contract == edge_world.contract_by_id[MAIN_CONTRACT] and not own.matches_nothing
    assert parse(edge_world, contract_id=OTHER_CONTRACT).matches_nothing
    assert parse(edge_world, contract_id="00000000-0000-4000-8000-000000000000").matches_nothing
    assert refusal(lambda: parse(edge_world, contract_id="main")).startswith("contract_id must be a UUID")


def test_a_parameter_given_twice_is_refused(edge_world: World) -> None:
    pairs = [("status", "DRAFT"), ("status", "VOID")]
    message = refusal(lambda: parse_pairs(pairs, edge_world, 0))
    assert message == "status was given more than once; give it at most once"


def test_unknown_parameters_are_ignored_and_webhook_id_is_accepted(edge_world: World) -> None:
    plain = parse(edge_world)
    assert parse(edge_world, webhook_notification_id="wh_1", utm_source="x").filters == plain.filters


def test_cursor_binding_follows_meaning_not_spelling(edge_world: World) -> None:
    one = parse(edge_world, starting_on="2024-01-01", status="VOID", limit="5")
    same = parse(edge_world, status="VOID", starting_on="2024-01-01T01:00:00.000+01:00", limit="9")
    assert one.filters == same.filters  # page size and spelling may change mid-walk
    for changed in (
        parse(edge_world, starting_on="2024-01-02", status="VOID"),
        parse(edge_world, starting_on="2024-01-01", status="DRAFT"),
        parse(edge_world, starting_on="2024-01-01", status="VOID", sort="date_desc"),
        parse(edge_world, starting_on="2024-01-01", status="VOID", include_historical_commit_invoices="true"),
        parse(edge_world, OTHER, starting_on="2024-01-01", status="VOID"),
    ):
        assert changed.filters != one.filters


def test_skip_zero_is_a_rendering_choice_not_a_filter(edge_world: World) -> None:
    skipping = parse(edge_world, skip_zero_qty_line_items="true")
    assert skipping.skip_zero and skipping.filters == parse(edge_world).filters
    assert params.parse_invoice_get([("skip_zero_qty_line_items", "true")]) is True
    assert params.parse_invoice_get([]) is False


def test_empty_next_page_means_the_first_page(edge_world: World) -> None:
    assert parse_with_cursor(edge_world, next_page="")[0] is None
    assert parse_with_cursor(edge_world, next_page="abc")[0] == "abc"


def test_customer_list_filters(edge_world: World) -> None:
    request = params.parse_customer_list(
        [("customer_ids", f"{EDGE.upper()}, {OTHER},"), ("only_archived", "false")], edge_world
    )
    assert request.only == frozenset({0, 1}) and request.archived is False and request.limit == 25
    aliased = params.parse_customer_list([("ingest_alias", "edge-case")], edge_world)
    assert aliased.only == frozenset({0})
    assert params.parse_customer_list([("ingest_alias", "nobody")], edge_world).only == frozenset()
    assert params.parse_customer_list([("customer_ids", "")], edge_world).only is None
    # blank as the document spells white space (Python's, not JSON Schema's): skipped
    assert params.parse_customer_list([("customer_ids", f"\x1c,{EDGE},\x85")], edge_world).only == frozenset(
        {0}
    )


def test_customer_list_refusals(edge_world: World) -> None:
    too_many = ",".join(f"00000000-0000-4000-8000-{i:012d}" for i in range(101))
    assert refusal(lambda: params.parse_customer_list([("customer_ids", too_many)], edge_world)) == (
        "customer_ids takes at most 100 values, got 101"
    )
    assert refusal(lambda: params.parse_customer_list([("customer_ids", "acme")], edge_world)) == (
        "customer_ids must be a UUID, got 'acme'"
    )
    # a UUID as `format: uuid` states it, not every spelling Python's uuid.UUID reads
    for other in (EDGE.replace("-", ""), "{" + EDGE + "}", "urn:uuid:" + EDGE, "\ufeff"):
        assert refusal(lambda o=other: params.parse_customer_list([("customer_ids", o)], edge_world)) == (
            f"customer_ids must be a UUID, got {other!r}"
        )
    assert refusal(lambda: params.parse_customer_list([("limit", "101")], edge_world)).startswith("limit")
