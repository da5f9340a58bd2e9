"""The page cache: bounded, least recently used out first, and never shared across customers."""

from __future__ import annotations

from mockserver.metronome.pages import PageCache

EDGE = "e0000000-0000-4000-8000-000000000001"
OTHER = "e0000000-0000-4000-8000-000000000002"


def test_least_recently_used_goes_first_and_size_stays_bounded() -> None:
    cache = PageCache(capacity=100)
    cache.put("a", b"x" * 10)
    cache.put("b", b"y" * 10)
    assert cache.get("a") == b"x" * 10  # now b is the oldest
    for key in "cdefghijk":  # one more than fits
        cache.put(key, b"z" * 10)
    assert cache.size <= 100
    assert cache.get("b") is None and cache.get("a") == b"x" * 10
    cache.put("huge", b"h" * 13)  # over an eighth of the capacity: not kept
    assert cache.get("huge") is None and cache.size <= 100


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
