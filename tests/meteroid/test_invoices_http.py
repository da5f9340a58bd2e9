"""GET /api/v1/invoices and /api/v1/invoices/{id} over HTTP, in both dialects.

Every response body is validated against its schema (see `helpers.fetch`); lists are
compared with a brute-force oracle over the neutral world.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.meteroid.dialect import DIALECTS
from mockserver.world.ids import to_base62_id
from tests.meteroid.helpers import (
    ORDER_COLUMNS,
    PLAIN_PREFIX,
    expected_ids,
    fetch,
    uuid_of,
    walk,
)

INVOICES = "/api/v1/invoices"
ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
GLOBEX = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
UMBRELLA = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
UMBRELLA_GROWTH = "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e"
ACME_ENTERPRISE = "3d8e1f20-5b6c-4d7e-9f80-a1b2c3d4e5f6"
PINNED_INVOICE = "9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"


def spelled(dialect: str, *statuses: str) -> list[str]:
    names = DIALECTS[dialect].status
    return [names[("draft", "finalized", "uncollectible", "void").index(s)] for s in statuses]


def ids(items: list[dict]) -> list[str]:
    return [uuid_of("inv_", item["id"]) for item in items]


# --- defaults, ordering, paging --------------------------------------------------------------------


async def test_defaults_are_page_0_of_10_newest_first(client, dialect, default_world):
    body = (await fetch(client, dialect, INVOICES)).json
    assert body["pagination_meta"] == {
        "page": 0,
        "per_page": 10,
        "total_items": len(default_world),
        "total_pages": -(-len(default_world) // 10),
    }
    assert ids(body["data"]) == expected_ids(default_world)[:10]


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("column", ORDER_COLUMNS)
async def test_every_order_by_column_walks_in_order(client, dialect, default_world, column, direction):
    order = f"{column}.{direction}"
    items = await walk(client, dialect, INVOICES, [("order_by", order)], 100)
    assert ids(items) == expected_ids(default_world, order=order)


@pytest.mark.parametrize("per_page", [1, 7, 100])
async def test_walking_a_filtered_list_returns_each_match_once_in_order(
    client, dialect, default_world, per_page
):
    params = [("customer_id", "acme"), ("order_by", "amount.asc")]
    items = await walk(client, dialect, INVOICES, params, per_page)
    expected = expected_ids(default_world, customer=ACME, order="amount.asc")
    assert len(expected) > 7
    assert ids(items) == expected


async def test_per_page_bounds(client, dialect, default_world):
    for size in ("1", "100"):
        answer = await fetch(client, dialect, INVOICES, {"per_page": size})
        assert answer.status == 200
        assert len(answer.json["data"]) == int(size)
        assert answer.json["pagination_meta"]["per_page"] == int(size)
    for size in ("0", "101", "1000"):
        answer = await fetch(client, dialect, INVOICES, {"per_page": size})
        assert (answer.status, answer.content_type) == (400, "text/plain")
        assert "per_page" in answer.text and "range" in answer.text
    for size in ("-1", "abc", "", "1.5"):
        answer = await fetch(client, dialect, INVOICES, {"per_page": size})
        assert (answer.status, answer.content_type) == (400, "text/plain")
        assert answer.text.startswith(PLAIN_PREFIX)


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        ("-1", "invalid digit found in string"),
        ("abc", "invalid digit found in string"),
        ("1e3", "invalid digit found in string"),
        ("", "cannot parse integer from empty string"),
        ("4294967296", "number too large to fit in target type"),
    ],
)
async def test_unparseable_page_is_a_plain_text_400(client, dialect, page, reason):
    answer = await fetch(client, dialect, INVOICES, {"page": page})
    assert (answer.status, answer.content_type) == (400, "text/plain")
    assert answer.text == PLAIN_PREFIX + reason


async def test_a_page_past_the_end_is_empty_with_true_totals(client, dialect, default_world):
    total = len(default_world)
    for page in (total // 7 + 1, 10_000, 4_294_967_295):
        body = (await fetch(client, dialect, INVOICES, {"page": str(page), "per_page": "7"})).json
        assert body == {
            "data": [],
            "pagination_meta": {
                "page": page,
                "per_page": 7,
                "total_items": total,
                "total_pages": -(-total // 7),
            },
        }


async def test_the_last_page_is_partial(client, dialect, default_world):
    total = len(default_world)
    last = total // 7
    body = (await fetch(client, dialect, INVOICES, {"page": str(last), "per_page": "7"})).json
    assert ids(body["data"]) == expected_ids(default_world)[last * 7 :]


@pytest.mark.parametrize(
    "order_by", ["foo.asc", "amount", "amount.up", "id.asc", "AMOUNT.ASC", "amount.desc.x", ".desc"]
)
async def test_a_bad_order_by_is_a_json_400_naming_the_columns(client, dialect, order_by):
    answer = await fetch(client, dialect, INVOICES, {"order_by": order_by})
    assert (answer.status, answer.content_type) == (400, "application/json")
    assert answer.json["code"] == "BAD_REQUEST"
    for column in ORDER_COLUMNS:
        assert column in answer.json["message"]


async def test_query_parsing_fails_before_order_by_is_checked(client, dialect):
    for params in ({"page": "x", "order_by": "nope"}, {"per_page": "0", "order_by": "nope"}):
        answer = await fetch(client, dialect, INVOICES, params)
        assert (answer.status, answer.content_type) == (400, "text/plain")


# --- statuses ----------------------------------------------------------------------------------


async def test_statuses_is_any_of_the_repeated_values(client, dialect, default_world):
    wanted = ("draft", "void")
    params = [("statuses", name) for name in spelled(dialect, *wanted)]
    items = await walk(client, dialect, INVOICES, params, 100)
    expected = expected_ids(default_world, statuses=wanted)
    assert expected and ids(items) == expected
    assert {item["status"] for item in items} == set(spelled(dialect, *wanted))


async def test_each_status_alone(client, dialect, default_world):
    for status in ("draft", "finalized", "uncollectible", "void"):
        params = [("statuses", spelled(dialect, status)[0]), ("order_by", "invoice_number.asc")]
        items = await walk(client, dialect, INVOICES, params, 100)
        assert ids(items) == expected_ids(default_world, statuses=(status,), order="invoice_number.asc")


async def test_statuses_joined_in_one_value_are_rejected(client, dialect):
    joined = ",".join(spelled(dialect, "draft", "void"))
    answer = await fetch(client, dialect, INVOICES, {"statuses": joined})
    assert (answer.status, answer.content_type) == (400, "text/plain")
    assert answer.text.startswith(f"{PLAIN_PREFIX}unknown variant `{joined}`, expected one of ")
    for name in DIALECTS[dialect].status:
        assert f"`{name}`" in answer.text


async def test_statuses_are_read_in_the_active_dialect_only(client, dialect):
    other = "upstream" if dialect == "documented" else "documented"
    answer = await fetch(client, dialect, INVOICES, {"statuses": spelled(other, "draft")[0]})
    assert (answer.status, answer.content_type) == (400, "text/plain")
    answer = await fetch(client, dialect, INVOICES, {"statuses": "draft"})
    assert answer.status == 400


async def test_bracketed_statuses_are_not_this_apis_encoding(client, dialect, default_world):
    for params in ({"statuses[]": spelled(dialect, "void")[0]}, {"statuses[]": ""}, {"statuses": ""}):
        body = (await fetch(client, dialect, INVOICES, params)).json
        assert body["pagination_meta"]["total_items"] == len(default_world)


# --- customer and subscription ---------------------------------------------------------------


async def test_customer_by_id_and_by_alias(client, dialect, default_world):
    expected = expected_ids(default_world, customer=GLOBEX)
    for value in (to_base62_id("cus_", GLOBEX), "globex"):
        items = await walk(client, dialect, INVOICES, [("customer_id", value)], 100)
        assert ids(items) == expected
        assert {item["customer_id"] for item in items} == {to_base62_id("cus_", GLOBEX)}


@pytest.mark.parametrize(
    "value",
    [
        "nobody",
        "ACME",  # aliases match exactly
        "acme-corp",  # a secondary alias of the neutral customer: Meteroid shows only the first
        to_base62_id("cus_", "00000000-0000-4000-8000-000000000000"),  # a well-formed id, unknown
        "cus_" + "1" * 23,  # too long to be an id: an alias, and no customer has it
        ACME,  # a bare UUID is not a Meteroid id: read as an alias
    ],
)
async def test_an_unknown_customer_gives_an_empty_page(client, dialect, value):
    body = (await fetch(client, dialect, INVOICES, {"customer_id": value})).json
    assert body == {
        "data": [],
        "pagination_meta": {"page": 0, "per_page": 10, "total_items": 0, "total_pages": 0},
    }


async def test_subscription_as_sub_id_or_uuid(client, dialect, default_world):
    expected = expected_ids(default_world, contract=UMBRELLA_GROWTH)
    assert len(expected) > 10
    for value in (to_base62_id("sub_", UMBRELLA_GROWTH), UMBRELLA_GROWTH, UMBRELLA_GROWTH.upper()):
        items = await walk(client, dialect, INVOICES, [("subscription_id", value)], 100)
        assert ids(items) == expected
        assert {item["subscription_id"] for item in items} == {to_base62_id("sub_", UMBRELLA_GROWTH)}


@pytest.mark.parametrize(
    "value", ["nope", "sub_", "sub_!!!", "sub_" + "z" * 23, "cus_2a6EvQXm7OKtEaiWMqfrzg", "12"]
)
async def test_a_malformed_subscription_id_is_a_plain_text_400(client, dialect, value):
    answer = await fetch(client, dialect, INVOICES, {"subscription_id": value})
    assert (answer.status, answer.content_type) == (400, "text/plain")
    assert answer.text.startswith(PLAIN_PREFIX)


async def test_an_unknown_subscription_gives_an_empty_page(client, dialect):
    value = to_base62_id("sub_", "00000000-0000-4000-8000-000000000000")
    body = (await fetch(client, dialect, INVOICES, {"subscription_id": value})).json
    assert body["data"] == [] and body["pagination_meta"]["total_items"] == 0


async def test_filters_combine_with_and(client, dialect, default_world):
    wanted = ("finalized", "uncollectible")
    params = [
        ("customer_id", "umbrella"),
        ("subscription_id", to_base62_id("sub_", UMBRELLA_GROWTH)),
        *[("statuses", name) for name in spelled(dialect, *wanted)],
        ("order_by", "invoice_date.desc"),
    ]
    items = await walk(client, dialect, INVOICES, params, 7)
    expected = expected_ids(
        default_world, customer=UMBRELLA, contract=UMBRELLA_GROWTH, statuses=wanted, order="invoice_date.desc"
    )
    assert expected and ids(items) == expected
    # a subscription of another customer matches nothing
    body = (
        await fetch(
            client,
            dialect,
            INVOICES,
            {"customer_id": "globex", "subscription_id": to_base62_id("sub_", ACME_ENTERPRISE)},
        )
    ).json
    assert body["pagination_meta"]["total_items"] == 0


async def test_unknown_parameters_are_ignored(client, dialect, default_world):
    body = (await fetch(client, dialect, INVOICES, {"limit": "x", "status": "nope", "einvoicing": "1"})).json
    assert body["pagination_meta"]["total_items"] == len(default_world)


# --- the id-or-alias rule on a world with tricky aliases -------------------------------------------


async def test_a_malformed_cus_value_is_read_as_an_alias(alias_client, dialect, alias_world):
    body = (await fetch(alias_client, dialect, INVOICES, {"customer_id": "cus_legacy-7"})).json
    legacy = "11111111-2222-4333-8444-555555555555"
    assert ids(body["data"]) == expected_ids(alias_world, customer=legacy)
    assert body["data"] and {i["customer_details"]["alias"] for i in body["data"]} == {"cus_legacy-7"}


async def test_a_decodable_cus_value_is_an_id_even_when_an_alias_spells_it(alias_client, dialect):
    body = (await fetch(alias_client, dialect, INVOICES, {"customer_id": "cus_abc"})).json
    assert body["pagination_meta"]["total_items"] == 0


# --- get ----------------------------------------------------------------------------------------


async def test_get_returns_the_listed_invoice(client, dialect):
    listed = (await fetch(client, dialect, INVOICES, {"per_page": "25", "order_by": "status.desc"})).json[
        "data"
    ]
    for item in listed:
        answer = await fetch(client, dialect, f"{INVOICES}/{item['id']}")
        assert answer.status == 200 and answer.json == item


async def test_get_by_bare_uuid(client, dialect):
    by_id = await fetch(client, dialect, f"{INVOICES}/{to_base62_id('inv_', PINNED_INVOICE)}")
    by_uuid = await fetch(client, dialect, f"{INVOICES}/{PINNED_INVOICE}")
    assert by_id.status == by_uuid.status == 200
    assert by_id.text == by_uuid.text


@pytest.mark.parametrize(
    "value",
    [
        to_base62_id("inv_", "00000000-0000-4000-8000-000000000000"),
        "inv_",
        "inv_%21%21",
        "garbage",
        "00000000",
    ],
)
async def test_an_unknown_invoice_is_a_json_404(client, dialect, value):
    answer = await fetch(client, dialect, f"{INVOICES}/{value}")
    assert answer.status == 404
    assert answer.json == {"code": "NOT_FOUND", "message": "Invoice not found"}


# --- auth and unknown routes -------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}])
async def test_unauthorized(client, dialect, headers):
    for path in (INVOICES, f"{INVOICES}/inv_1", "/api/v1/customers", "/api/v1/customers/acme"):
        answer = await fetch(client, dialect, path, headers=headers)
        assert answer.status == 401
        assert answer.json == {"code": "UNAUTHORIZED", "message": "Invalid or missing Authorization header"}


async def test_unknown_routes_get_this_apis_error_shape(client, dialect):
    answer = await fetch(client, dialect, "/api/v1/invoices/inv_1/lines/x")
    assert answer.status == 404 and answer.json["code"] == "NOT_FOUND"
    response = await client.post(INVOICES, headers={"Authorization": "Bearer t"})
    assert response.status == 405
    body = await response.json()
    assert set(body) == {"code", "message"}


_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["0", "1", "100", "101", "-1", "DRAFT", "Draft", "created_at.desc", "acme", "sub_1"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["page", "per_page", "statuses", "order_by", "customer_id", "subscription_id", "x"]
            ),
            _VALUES,
        ),
        max_size=5,
    )
)
async def test_any_query_gets_a_200_or_a_400_never_a_500(client, dialect, params):
    answer = await fetch(client, dialect, INVOICES, params)
    assert answer.status in (200, 400)
