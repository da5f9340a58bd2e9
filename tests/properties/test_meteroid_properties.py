"""Meteroid-style `GET /api/v1/invoices`: filters, `order_by` and page pagination on generated
worlds, against the oracle, in both dialects."""

from __future__ import annotations

from urllib.parse import quote

import orjson
from hypothesis import event, given
from hypothesis import strategies as st

from mockserver.world.ids import from_base62_id
from tests.properties import oracle
from tests.properties import strategies as S
from tests.properties.harness import METEROID_INVOICES, Reply, encode, meteroid_walk

LIST_PARAMS = ("customer_id", "subscription_id", "statuses", "order_by", "page", "per_page")
PLAIN_PREFIXES = ("Failed to deserialize query string: ", "pagination.per_page: Validation error")


def uuids(walked: list[str]) -> list[str]:
    found = []
    for rendered in walked:
        decoded = from_base62_id("inv_", rendered)
        assert decoded is not None, rendered
        found.append(decoded)
    return found


def size_event(count: int) -> None:
    event("matches: " + ("0" if count == 0 else "1" if count == 1 else "2-9" if count < 10 else "10+"))


@st.composite
def served(draw, servers):
    """A world, the dialect it is served in (the fixture's or one set on the command line), its API."""
    case = draw(S.worlds())
    override = draw(st.sampled_from([None, "documented", "upstream"]))
    dialect = override or case.dialect
    return case, dialect, servers.api(case.world, override)


def assert_error(reply: Reply) -> None:
    """The Meteroid-style 400s: text/plain from the query parser and the page size check, or
    the JSON error body."""
    assert reply.status == 400, reply
    if reply.content_type == "text/plain":
        assert reply.text.startswith(PLAIN_PREFIXES), reply
    else:
        assert reply.content_type == "application/json", reply
        body = reply.json
        assert list(body) == ["code", "message"] and body["code"] == "BAD_REQUEST", body
        assert isinstance(body["message"], str) and body["message"], body


# --- walks ----------------------------------------------------------------------------------------


@given(data=st.data())
def test_walking_every_page_returns_the_oracle_list(servers, data) -> None:
    """Several requests per world: a world costs more to build than a walk costs to check."""
    case, dialect, api = data.draw(served(servers), label="world")
    world = case.world
    for _ in range(data.draw(st.integers(1, 4), label="requests")):
        filters = data.draw(S.meteroid_filters(world, dialect), label="filters")
        order_by = data.draw(S.order_bys, label="order_by")
        per_page = data.draw(S.per_pages, label="per_page")
        style = data.draw(S.encodings, label="encoding")
        pairs = S.meteroid_pairs(filters) + ([] if order_by is None else [("order_by", order_by)])
        pairs = data.draw(st.permutations(pairs), label="parameter order")
        walk = meteroid_walk(api, pairs, per_page, style)
        expected = oracle.meteroid_invoices(world, dialect, S.meteroid_want(filters, order_by))
        size_event(len(expected))
        assert uuids(walk.ids) == expected
        assert len(set(walk.ids)) == len(walk.ids)

        size = per_page or oracle.METEROID_DEFAULT_PER_PAGE
        last = -(-len(expected) // size)
        beyond = data.draw(st.integers(last, 2**32 - 1), label="page past the end")
        for page in sorted({last, last + 1, beyond}):
            query = [*pairs, ("page", str(page))] + (
                [] if per_page is None else [("per_page", str(per_page))]
            )
            reply = api.get(METEROID_INVOICES, encode(query, style))
            assert reply.status == 200, reply
            assert reply.json == {
                "data": [],
                "pagination_meta": oracle.meteroid_meta(len(expected), page, size),
            }


def single_filters(world, dialect: str) -> list[tuple[str, str]]:
    """Every customer by id, by each alias and by raw UUID; every subscription as `sub_` and as
    a UUID in both cases; every status."""
    found = []
    for customer in world.customers:
        found.append(("customer_id", oracle.meteroid_id("cus_", customer.id)))
        found.append(("customer_id", customer.id))
        found += [("customer_id", alias) for alias in customer.aliases]
    for contract in world.contracts:
        found.append(("subscription_id", oracle.meteroid_id("sub_", contract.id)))
        found += [("subscription_id", contract.id), ("subscription_id", contract.id.upper())]
    found += [("statuses", name) for name in oracle.METEROID_STATUS[dialect]]
    return found


@given(data=st.data())
def test_each_filter_value_alone_matches_the_oracle(servers, data) -> None:
    case, dialect, api = data.draw(served(servers), label="world")
    world = case.world
    order_by = data.draw(S.order_bys, label="order_by")
    extra = [] if order_by is None else [("order_by", order_by)]
    for key, value in single_filters(world, dialect):
        walk = meteroid_walk(api, [(key, value), *extra], 100)
        filters = {key: [value] if key == "statuses" else value}
        expected = oracle.meteroid_invoices(world, dialect, S.meteroid_want(filters, order_by))
        assert uuids(walk.ids) == expected, (key, value)


@given(data=st.data())
def test_filters_compose_as_an_intersection(servers, data) -> None:
    case, dialect, api = data.draw(served(servers), label="world")
    world = case.world
    keys = data.draw(st.lists(st.sampled_from(S.METEROID_FILTER_KEYS), max_size=3, unique=True), label="keys")
    split = data.draw(st.integers(0, len(keys)), label="split")
    first = data.draw(S.meteroid_filters(world, dialect, keys[:split]), label="A")
    second = data.draw(S.meteroid_filters(world, dialect, keys[split:]), label="B")
    order = data.draw(S.order_bys, label="order_by")
    per_page = data.draw(st.integers(5, 100), label="per_page")
    extra = [] if order is None else [("order_by", order)]

    def ids(filters: dict) -> list[str]:
        return meteroid_walk(api, S.meteroid_pairs(filters) + extra, per_page).ids

    only_first, only_second, both = ids(first), ids(second), ids(first | second)
    size_event(len(both))
    assert both == [uid for uid in only_first if uid in set(only_second)]


@given(data=st.data())
def test_repeated_statuses_match_any_of_them(servers, data) -> None:
    _, dialect, api = data.draw(served(servers), label="world")
    names = sorted(oracle.METEROID_STATUS[dialect])
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=2, max_size=4), label="statuses")
    order = data.draw(S.order_bys, label="order_by")
    extra = [] if order is None else [("order_by", order)]
    together = meteroid_walk(api, [*(("statuses", n) for n in chosen), *extra], 100).ids
    each = set()
    for name in chosen:
        each |= set(meteroid_walk(api, [("statuses", name), *extra], 100).ids)
    everything = meteroid_walk(api, extra, 100).ids
    assert together == [uid for uid in everything if uid in each]


@given(data=st.data())
def test_every_order_by_column_both_ways(servers, data) -> None:
    """Ascending matches the oracle; descending is its exact reverse, since the tie-breaking id
    follows the direction; no order_by is created_at.desc."""
    case, dialect, api = data.draw(served(servers), label="world")
    world = case.world
    keys = data.draw(st.lists(st.sampled_from(S.METEROID_FILTER_KEYS), max_size=1), label="keys")
    filters = data.draw(S.meteroid_filters(world, dialect, keys), label="filters")
    per_page = data.draw(st.integers(7, 100), label="per_page")
    pairs = S.meteroid_pairs(filters)
    for column in oracle.METEROID_COLUMNS:
        ascending = meteroid_walk(api, [*pairs, ("order_by", f"{column}.asc")], per_page).ids
        descending = meteroid_walk(api, [*pairs, ("order_by", f"{column}.desc")], per_page).ids
        want = S.meteroid_want(filters, f"{column}.asc")
        assert uuids(ascending) == oracle.meteroid_invoices(world, dialect, want), column
        assert descending == ascending[::-1], column
        if column == "created_at":
            assert meteroid_walk(api, pairs, per_page).ids == descending
    size_event(len(ascending))


# --- single invoices --------------------------------------------------------------------------------


@given(data=st.data())
def test_get_by_id_returns_the_list_entry(servers, data) -> None:
    case, dialect, api = data.draw(served(servers), label="world")
    filters = data.draw(S.meteroid_filters(case.world, dialect), label="filters")
    walk = meteroid_walk(api, S.meteroid_pairs(filters), 100)
    for body in walk.bodies:
        for item in orjson.loads(body)["data"]:
            reply = api.get(f"{METEROID_INVOICES}/{item['id']}")
            assert reply.status == 200 and reply.content_type == "application/json", reply
            assert orjson.dumps(reply.json) == orjson.dumps(item)
    size_event(len(walk.ids))


# --- junk -----------------------------------------------------------------------------------------------


@given(data=st.data())
def test_junk_in_any_parameter_gets_a_meteroid_error_never_a_5xx(servers, data) -> None:
    _, _, api = data.draw(served(servers), label="world")
    pairs = data.draw(S.junk_pairs(LIST_PARAMS), label="query")
    raw = data.draw(S.raw_junk, label="raw query")
    for reply in (api.get(METEROID_INVOICES, pairs), api.get(METEROID_INVOICES, raw)):
        event(f"list: {reply.status} {reply.content_type}")
        if reply.status == 200:
            assert list(reply.json) == ["data", "pagination_meta"]
        else:
            assert_error(reply)
    segment = data.draw(S.junk_text, label="invoice id")
    reply = api.get(f"{METEROID_INVOICES}/{quote(segment, safe='')}", pairs)
    event(f"get: {reply.status}")
    if reply.status != 200:
        assert 400 <= reply.status < 500 and reply.content_type == "application/json", reply
        body = reply.json
        assert list(body) == ["code", "message"] and body["code"] in ("NOT_FOUND", "BAD_REQUEST"), body


@given(data=st.data())
def test_unknown_parameters_are_ignored(servers, data) -> None:
    """Including `statuses[]`, which is not this API's encoding of a list."""
    case, dialect, api = data.draw(served(servers), label="world")
    filters = data.draw(S.meteroid_filters(case.world, dialect), label="filters")
    known = [*S.meteroid_pairs(filters), ("per_page", "7")]
    names = st.sampled_from(["statuses[]", "status", "customer", "page_size", "sort"]) | st.text(
        S.TEXT, max_size=8
    )
    unknown = data.draw(
        st.lists(
            st.tuples(names.filter(lambda n: n not in LIST_PARAMS), S.junk_text), min_size=1, max_size=4
        ),
        label="unknown",
    )
    mixed = data.draw(st.permutations(known + unknown), label="order")
    plain = api.get(METEROID_INVOICES, known)
    assert plain.status == 200, plain
    assert api.get(METEROID_INVOICES, mixed).body == plain.body


@st.composite
def bad_values(draw, dialect: str) -> tuple[str, str]:
    """One parameter the reference refuses: a status not in the dialect's spelling (the other
    dialect's included), a page or page size that does not parse or is out of range, a
    malformed subscription id, an order_by that is not `column.direction`."""
    key = draw(st.sampled_from(["statuses", "page", "per_page", "subscription_id", "order_by"]))
    if key == "statuses":
        mine = oracle.METEROID_STATUS[dialect]
        theirs = [name for spelling in oracle.METEROID_STATUS.values() for name in spelling]
        value = draw(
            (st.sampled_from(theirs) | st.text(S.TEXT, min_size=1, max_size=12)).filter(
                lambda v: v not in mine
            )
        )
    elif key == "page":
        value = draw(st.sampled_from(["-1", "abc", "1.5", "1e3", "0x1", "two"]))
    elif key == "per_page":
        value = draw(
            st.sampled_from(["0", "101", "1000", "-1", "abc", "2.5"]) | st.integers(101, 10**6).map(str)
        )
    elif key == "subscription_id":
        value = draw(st.sampled_from(["abc", "sub_", "sub_!!", "12345", "sub_" + "z" * 23, "inv_abc"]))
    else:
        column = st.sampled_from([*oracle.METEROID_COLUMNS, "total", "id", "number", ""])
        direction = st.sampled_from(["asc", "desc", "ASC", "up", ""])
        value = draw(
            st.builds("{}.{}".format, column, direction).filter(
                lambda v: (
                    v.partition(".")[0] not in oracle.METEROID_COLUMNS
                    or v.partition(".")[2] not in ("asc", "desc")
                )
            )
            | st.sampled_from(list(oracle.METEROID_COLUMNS))
        )
    return key, value


@given(data=st.data())
def test_bad_parameters_get_the_reference_refusals(servers, data) -> None:
    _, dialect, api = data.draw(served(servers), label="world")
    key, value = data.draw(bad_values(dialect), label="bad parameter")
    reply = api.get(METEROID_INVOICES, [(key, value)])
    assert reply.status == 400, reply
    if key == "order_by":
        assert reply.content_type == "application/json", reply
        assert reply.json["code"] == "BAD_REQUEST", reply
        assert all(column in reply.json["message"] for column in oracle.METEROID_COLUMNS), reply
    else:
        assert reply.content_type == "text/plain", reply
        assert reply.text.startswith(PLAIN_PREFIXES), reply
