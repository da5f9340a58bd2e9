"""Generated filter combinations: walking every page returns exactly what a brute-force oracle,
written independently of the query engine and the facade, says, in order, each item once."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.metronome.errors import ApiError
from mockserver.metronome.routes import MetronomeApi
from mockserver.shell.app import Settings
from mockserver.world.ids import derive_uuid
from mockserver.world.query import InvoiceQuery, Plan, page_from
from mockserver.world.spec import KINDS, STATUSES
from mockserver.world.state import World
from mockserver.world.timeline import Timeline
from tests.properties import oracle

STATUS = {"DRAFT": {"draft"}, "FINALIZED": {"finalized", "uncollectible"}, "VOID": {"void"}}
TYPE = {
    "USAGE": {"usage", "usage_threshold"},
    "USAGE_CONSOLIDATED": {"usage_consolidated"},
    "SCHEDULED": {"scheduled", "one_off", "adjustment"},
}
ZONES = [dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-8)), None]


@pytest.fixture(scope="module")
def api(default_world: World) -> MetronomeApi:
    return MetronomeApi(Timeline(default_world), Settings())


def spell(moment: dt.datetime, zone: dt.tzinfo | None, as_date: bool) -> str:
    """One instant in one of the spellings clients send."""
    if as_date and moment.time() == dt.time(0) and moment.microsecond == 0:
        return moment.date().isoformat()
    local = moment.astimezone(zone) if zone else moment.replace(tzinfo=None)
    text = local.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


@st.composite
def instants(draw, world: World, customer: int) -> tuple[str, float]:
    """Mostly on or next to one of the customer's period boundaries, where off-by-ones live."""
    cols = world.cols
    boundaries = sorted(
        {t for i in world.by_customer[customer] for t in (cols.period_start[i], cols.period_end[i])}
    )
    base = draw(st.sampled_from(boundaries)) + draw(st.sampled_from([-1, 0, 0, 0, 1, 86_400]))
    millis = draw(st.sampled_from([0, 0, 1, 500]))
    moment = dt.datetime.fromtimestamp(base, dt.UTC) + dt.timedelta(milliseconds=millis)
    text = spell(moment, draw(st.sampled_from(ZONES)), draw(st.booleans()))
    return text, base + millis / 1000


@st.composite
def requests(draw, world: World) -> tuple[int, dict[str, str], dict]:
    umbrella = world.customer_by_alias["umbrella"]
    customer = draw(st.sampled_from([umbrella, umbrella, 0, *range(len(world.customers))]))
    query: dict[str, str] = {"limit": str(draw(st.sampled_from([1, 2, 5, 13, 25, 100])))}
    oracle: dict = {"customer": customer}
    if draw(st.booleans()):
        query["status"] = oracle["status"] = draw(st.sampled_from(sorted(STATUS)))
    if draw(st.booleans()):
        query["type"] = oracle["type"] = draw(st.sampled_from(sorted(TYPE)))
    if draw(st.booleans()):
        own = world.customers[customer].currency
        currency = draw(st.sampled_from([own, own, "USD", "EUR", "GBP", "XXX"]))
        query["credit_type_id"] = derive_uuid(0, "credit_type", currency)
        oracle["currency"] = currency
    if draw(st.booleans()):
        own = [c for c in world.contracts if c.customer == customer]
        contract = draw(st.sampled_from(own) | st.sampled_from(world.contracts))
        query["contract_id"] = contract.id
        oracle["contract"] = contract.ordinal
    if draw(st.booleans()):
        query["starting_on"], oracle["start"] = draw(instants(world, customer))
    if draw(st.booleans()):
        query["ending_before"], oracle["end"] = draw(instants(world, customer))
    sort = draw(st.sampled_from([None, "date_asc", "date_desc"]))
    if sort:
        query["sort"] = sort
    oracle["descending"] = sort == "date_desc"
    if draw(st.booleans()):
        query["skip_zero_qty_line_items"] = "true"
    return customer, query, oracle


def expected(world: World, want: dict) -> list[str]:
    cols = world.cols
    found = []
    for i in range(len(world)):
        if cols.customer[i] != want["customer"]:
            continue
        if "status" in want and STATUSES[cols.status[i]] not in STATUS[want["status"]]:
            continue
        if "type" in want and KINDS[cols.kind[i]] not in TYPE[want["type"]]:
            continue
        if "currency" in want and world.currencies[cols.currency[i]] != want["currency"]:
            continue
        if "contract" in want and cols.contract[i] != want["contract"]:
            continue
        if "start" in want and cols.period_start[i] < want["start"]:
            continue
        if "end" in want and cols.period_end[i] > want["end"]:
            continue
        found.append((cols.issued_at[i], cols.ids[i]))
    return [uid for _, uid in sorted(found, reverse=want["descending"])]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_walk_matches_the_oracle(api: MetronomeApi, default_world: World, data) -> None:
    customer, query, want = data.draw(requests(default_world))
    walked, cursor, pages = [], None, 0
    while True:
        pairs = list(query.items()) + ([("next_page", cursor)] if cursor else [])
        body = orjson.loads(api.invoice_list(customer, pairs))
        pages += 1
        assert len(body["data"]) <= int(query["limit"])
        walked += [item["id"] for item in body["data"]]
        cursor = body["next_page"]
        if cursor is None:
            break
        assert len(body["data"]) == int(query["limit"])
    assert walked == expected(default_world, want)
    assert pages == max(1, -(-len(walked) // int(query["limit"])))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    customer=st.sampled_from([0, 3, 5, 9]),
    statuses=st.none() | st.frozensets(st.integers(0, 3)),
    kinds=st.none() | st.frozensets(st.integers(0, 5), min_size=1),
    descending=st.booleans(),
    limit=st.integers(1, 40),
    start_index=st.none() | st.integers(0, 400),
)
def test_a_page_is_the_next_matches_from_its_start(
    default_world: World, customer, statuses, kinds, descending, limit, start_index
) -> None:
    query = InvoiceQuery(customer=customer, statuses=statuses, kinds=kinds, descending=descending)
    plan = Plan(default_world, query)
    members = default_world.by_customer[customer]
    start = None if start_index is None else start_index % len(members)
    cols, issued = default_world.cols, default_world.cols.issued_at

    def key(i: int) -> tuple[int, str]:
        return issued[i], cols.ids[i]

    wanted = sorted(
        (
            i
            for i in members
            if (statuses is None or cols.status[i] in statuses) and (kinds is None or cols.kind[i] in kinds)
        ),
        key=key,
        reverse=descending,
    )
    if start is not None:
        first = plan.scope.members[start]  # the scope's order is the oracle's, ascending
        wanted = [i for i in wanted if (key(i) <= key(first) if descending else key(i) >= key(first))]
    page = page_from(plan, start, limit)
    assert page.items == wanted[:limit]
    assert page.has_more == (len(wanted) > limit)
    if page.has_more:
        assert plan.scope.members[page.next_start] == wanted[limit]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pairs=st.lists(st.tuples(st.sampled_from(oracle.METRONOME_LIST_PARAMS), st.text(max_size=40)), max_size=4)
)
def test_any_query_is_answered_or_refused_with_400(api: MetronomeApi, pairs) -> None:
    try:
        body = orjson.loads(api.invoice_list(3, pairs))
    except ApiError as refused:
        assert refused.status == 400 and refused.message
        names = {name for name, _ in pairs}
        assert any(name in refused.message for name in names)
    else:
        assert set(body) == {"data", "next_page"}


CUSTOMER_PARAMS = [
    "limit",
    "next_page",
    "ingest_alias",
    "customer_ids",
    "only_archived",
    "salesforce_account_ids",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(st.sampled_from(CUSTOMER_PARAMS), st.text(max_size=40)), max_size=4))
def test_any_customer_query_is_answered_or_refused_with_400(api: MetronomeApi, pairs) -> None:
    try:
        body = orjson.loads(api.customer_list(pairs))
    except ApiError as refused:
        assert refused.status == 400
        assert any(name in refused.message for name, _ in pairs)
    else:
        assert set(body) == {"data", "next_page"}
