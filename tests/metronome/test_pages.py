"""The page cache never mixes customers, and never turns a refusal into an answer."""

from __future__ import annotations

EDGE = "e0000000-0000-4000-8000-000000000001"
OTHER = "e0000000-0000-4000-8000-000000000002"


async def test_the_same_query_for_another_customer_is_not_served_from_the_cache(edge_client) -> None:
    mine = await (await edge_client.get(f"/v1/customers/{EDGE}/invoices?limit=1")).json()
    theirs = await (await edge_client.get(f"/v1/customers/{OTHER}/invoices?limit=1")).json()
    assert mine["data"][0]["customer_id"] == EDGE and theirs["data"][0]["customer_id"] == OTHER


async def test_repeated_requests_give_the_same_bytes_and_refusals_stay_refusals(edge_client) -> None:
    path = f"/v1/customers/{EDGE}/invoices?limit=2&sort=date_desc"
    first = await (await edge_client.get(path)).read()
    assert await (await edge_client.get(path)).read() == first
    for _ in range(2):
        response = await edge_client.get(f"/v1/customers/{EDGE}/invoices?limit=0")
        assert response.status == 400
