"""GET /api/v1/customers and /api/v1/customers/{id_or_alias} over HTTP, in both dialects."""

from __future__ import annotations

import pytest

from mockserver.world.ids import to_base62_id
from tests.meteroid.helpers import PLAIN_PREFIX, expected_customers, fetch, uuid_of, walk

CUSTOMERS = "/api/v1/customers"
COLUMNS = ("name", "email", "alias", "created_at")


def ids(items):
    return [uuid_of("cus_", item["id"]) for item in items]


async def test_defaults_list_active_customers_newest_first(client, dialect, default_world):
    body = (await fetch(client, dialect, CUSTOMERS)).json
    active = expected_customers(default_world)
    assert len(active) < len(default_world.customers)  # the default world archives some
    assert body["pagination_meta"] == {
        "page": 0,
        "per_page": 10,
        "total_items": len(active),
        "total_pages": -(-len(active) // 10),
    }
    assert ids(body["data"]) == active[:10]


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("column", COLUMNS)
async def test_every_order_by_column(alias_client, dialect, alias_world, column, direction):
    order = f"{column}.{direction}"
    items = await walk(alias_client, dialect, CUSTOMERS, [("order_by", order)], 2)
    assert ids(items) == expected_customers(alias_world, order)


async def test_a_missing_alias_sorts_last_ascending_and_first_descending(alias_client, dialect):
    ascending = (
        await fetch(alias_client, dialect, CUSTOMERS, {"order_by": "alias.asc", "per_page": "100"})
    ).json
    descending = (
        await fetch(alias_client, dialect, CUSTOMERS, {"order_by": "alias.desc", "per_page": "100"})
    ).json
    assert ascending["data"][-1]["alias"] is None
    assert descending["data"][0]["alias"] is None


async def test_archived(client, dialect, default_world):
    archived = await walk(client, dialect, CUSTOMERS, [("archived", "true")], 100)
    assert ids(archived) == expected_customers(default_world, archived=True)
    assert archived
    active = await walk(client, dialect, CUSTOMERS, [("archived", "false")], 100)
    assert ids(active) == expected_customers(default_world)
    answer = await fetch(client, dialect, CUSTOMERS, {"archived": "yes"})
    assert (answer.status, answer.content_type) == (400, "text/plain")
    assert answer.text == PLAIN_PREFIX + "provided string was not `true` or `false`"


@pytest.mark.parametrize("search", ["acme", "ACME", "Corp", "glob", "zzz-nothing"])
async def test_search_matches_name_or_alias_ignoring_case(client, dialect, default_world, search):
    items = await walk(client, dialect, CUSTOMERS, [("search", search), ("order_by", "name.asc")], 3)
    assert ids(items) == expected_customers(default_world, "name.asc", search=search)


async def test_paging_edges(client, dialect, default_world):
    active = len(expected_customers(default_world))
    body = (await fetch(client, dialect, CUSTOMERS, {"page": "99", "per_page": "100"})).json
    assert body == {
        "data": [],
        "pagination_meta": {"page": 99, "per_page": 100, "total_items": active, "total_pages": 1},
    }
    for params in ({"per_page": "0"}, {"per_page": "101"}, {"page": "-1"}, {"page": "abc"}):
        answer = await fetch(client, dialect, CUSTOMERS, params)
        assert (answer.status, answer.content_type) == (400, "text/plain")
    one = (await fetch(client, dialect, CUSTOMERS, {"per_page": "1", "page": "2"})).json
    assert ids(one["data"]) == expected_customers(default_world)[2:3]


@pytest.mark.parametrize("order_by", ["amount.asc", "name", "billing_email.asc", "name.sideways"])
async def test_a_bad_order_by_is_a_json_400(client, dialect, order_by):
    answer = await fetch(client, dialect, CUSTOMERS, {"order_by": order_by})
    assert answer.status == 400 and answer.json["code"] == "BAD_REQUEST"
    for column in COLUMNS:
        assert column in answer.json["message"]


async def test_get_by_id_or_alias(client, dialect, default_world):
    acme = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
    by_id = await fetch(client, dialect, f"{CUSTOMERS}/{to_base62_id('cus_', acme)}")
    by_alias = await fetch(client, dialect, f"{CUSTOMERS}/acme")
    assert by_id.status == by_alias.status == 200
    assert by_id.json == by_alias.json
    body = by_id.json
    assert body["name"] == "Acme Corporation" and body["alias"] == "acme"
    assert body["billing_email"] == "billing@acme.example.com"
    assert body["billing_address"] == {
        "line1": "1 Market Street",
        "city": "San Francisco",
        "country": "US",
        "state": "CA",
        "zip_code": "94105",
    }
    assert body["custom_properties"] == {"segment": "enterprise", "account_manager": "Dana Whitfield"}
    listed = await walk(client, dialect, CUSTOMERS, [], 100)
    assert body in listed


async def test_an_archived_customer_can_still_be_fetched(client, dialect, default_world):
    archived = next(c for c in default_world.customers if c.archived_at is not None)
    answer = await fetch(client, dialect, f"{CUSTOMERS}/{to_base62_id('cus_', archived.id)}")
    assert answer.status == 200 and answer.json["name"] == archived.name


@pytest.mark.parametrize(
    "value", ["nobody", to_base62_id("cus_", "00000000-0000-4000-8000-000000000000"), "cus_", "Acme"]
)
async def test_an_unknown_customer_is_a_json_404(client, dialect, value):
    answer = await fetch(client, dialect, f"{CUSTOMERS}/{value}")
    assert answer.status == 404
    assert answer.json == {"code": "NOT_FOUND", "message": "Customer not found"}


async def test_tricky_aliases_and_a_customer_without_alias_or_address(alias_client, dialect):
    legacy = await fetch(alias_client, dialect, f"{CUSTOMERS}/cus_legacy-7")
    assert legacy.status == 200 and legacy.json["name"] == "Legacy Holdings"
    lookalike = await fetch(alias_client, dialect, f"{CUSTOMERS}/cus_abc")
    assert lookalike.status == 404  # decodes as an id: never read as an alias
    anonymous = (
        await fetch(
            alias_client,
            dialect,
            f"{CUSTOMERS}/{to_base62_id('cus_', '33333333-4444-4555-8666-777777777777')}",
        )
    ).json
    assert anonymous["alias"] is None
    assert anonymous["billing_address"] is None and anonymous["shipping_address"] is None
