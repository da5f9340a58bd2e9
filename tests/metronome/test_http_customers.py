"""List and get customers over HTTP: active by default, archived on request, filters and cursors."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.world import clock
from mockserver.world.state import World

EDGE = "e0000000-0000-4000-8000-000000000001"
OTHER = "e0000000-0000-4000-8000-000000000002"
GONE = "e0000000-0000-4000-8000-000000000003"
LEFT = "e0000000-0000-4000-8000-000000000004"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def fetch(client, path: str, **query: Any) -> tuple[int, Any]:
    response = await client.get(path, params=query)
    assert response.content_type == "application/json"
    return response.status, await response.json()


async def ids(client, **query: Any) -> list[str]:
    status, body = await fetch(client, "/v1/customers", **query)
    assert status == 200, body
    assert body["next_page"] is None
    return [item["id"] for item in body["data"]]


async def test_only_active_customers_by_default(edge_client) -> None:
    assert await ids(edge_client) == [EDGE, OTHER]
    assert await ids(edge_client, only_archived="false") == [EDGE, OTHER]


async def test_only_archived(edge_client) -> None:
    assert await ids(edge_client, only_archived="true") == [GONE, LEFT]


async def test_walk_with_limit_1(edge_client) -> None:
    status, first = await fetch(edge_client, "/v1/customers", limit=1)
    assert status == 200 and [c["id"] for c in first["data"]] == [EDGE] and first["next_page"]
    status, second = await fetch(edge_client, "/v1/customers", limit=1, next_page=first["next_page"])
    assert status == 200 and [c["id"] for c in second["data"]] == [OTHER]
    assert second["next_page"] is None


async def test_customer_ids_filter(edge_client) -> None:
    assert await ids(edge_client, customer_ids=f"{GONE},{OTHER}") == [OTHER]
    assert await ids(edge_client, customer_ids=f"{GONE},{OTHER}", only_archived="true") == [GONE]
    assert await ids(edge_client, customer_ids=UNKNOWN) == []


async def test_ingest_alias_filter(edge_client) -> None:
    assert await ids(edge_client, ingest_alias="edge-case") == [EDGE]
    assert await ids(edge_client, ingest_alias="edge-case", customer_ids=OTHER) == []
    assert await ids(edge_client, ingest_alias="nobody") == []


async def test_salesforce_account_ids_filter(client, default_world: World) -> None:
    with_account = [c for c in default_world.customers if c.salesforce_account_id and c.archived_at is None]
    assert len(with_account) >= 2
    wanted = ",".join(c.salesforce_account_id for c in with_account[:2])
    status, body = await fetch(client, "/v1/customers", salesforce_account_ids=wanted)
    assert status == 200 and [c["id"] for c in body["data"]] == [c.id for c in with_account[:2]]
    assert body["data"][0]["customer_config"] == {
        "salesforce_account_id": with_account[0].salesforce_account_id
    }


async def test_walking_the_default_world_lists_active_customers_and_archived_on_request(
    client, default_world: World
) -> None:
    active = [c.id for c in default_world.customers if c.archived_at is None]
    archived = [c.id for c in default_world.customers if c.archived_at is not None]
    seen, cursor = [], None
    while True:
        query = {"limit": 5, **({"next_page": cursor} if cursor else {})}
        status, body = await fetch(client, "/v1/customers", **query)
        assert status == 200
        seen += [c["id"] for c in body["data"]]
        cursor = body["next_page"]
        if cursor is None:
            break
    assert seen == active and archived
    status, body = await fetch(client, "/v1/customers", only_archived="true")
    assert [c["id"] for c in body["data"]] == archived


async def test_get_a_customer(edge_client, edge_world: World) -> None:
    customer = edge_world.customers[edge_world.customer_by_id[EDGE]]
    created = clock.format_z(customer.created_at)
    status, body = await fetch(edge_client, f"/v1/customers/{EDGE}")
    assert status == 200
    assert body["data"] == {
        "id": EDGE,
        "name": "Edge Case Inc",
        "external_id": "edge",
        "ingest_aliases": ["edge", "edge-case"],
        "custom_fields": dict(customer.custom_fields),
        "customer_config": {},
        "created_at": created,
        "updated_at": clock.format_z(customer.updated_at),
        "archived_at": None,
        "current_billable_status": {"value": "billable", "effective_at": created},
    }
    assert body["data"]["custom_fields"]


async def test_get_an_archived_customer(edge_client) -> None:
    status, body = await fetch(edge_client, f"/v1/customers/{LEFT}")
    assert status == 200 and body["data"]["archived_at"] == "2025-05-20T00:00:00Z"
    assert body["data"]["current_billable_status"] == {
        "value": "unbillable",
        "effective_at": "2025-05-20T00:00:00Z",
    }


async def test_unknown_and_malformed_customer_ids(edge_client) -> None:
    assert await fetch(edge_client, f"/v1/customers/{UNKNOWN}") == (
        404,
        {"message": f"customer {UNKNOWN} not found"},
    )
    status, body = await fetch(edge_client, "/v1/customers/edge")
    assert status == 400 and body["message"] == "customer_id must be a UUID, got 'edge'"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "0"}, "limit must be an integer from 1 to 100, got '0'"),
        ({"limit": "101"}, "limit must be an integer from 1 to 100, got '101'"),
        ({"only_archived": "maybe"}, "only_archived must be true or false, got 'maybe'"),
        ({"customer_ids": "edge"}, "customer_ids must be a UUID, got 'edge'"),
        ({"ingest_alias": ""}, "ingest_alias must not be empty"),
        ({"next_page": "forged"}, "next_page is not a cursor this server issued"),
    ],
)
async def test_bad_parameters_are_400(edge_client, query, message) -> None:
    assert await fetch(edge_client, "/v1/customers", **query) == (400, {"message": message})


async def test_a_cursor_reused_with_other_filters_is_400(edge_client) -> None:
    _, first = await fetch(edge_client, "/v1/customers", limit=1)
    status, body = await fetch(
        edge_client, "/v1/customers", limit=1, only_archived="true", next_page=first["next_page"]
    )
    assert status == 400 and "different filters" in body["message"]
