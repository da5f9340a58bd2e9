"""The `varied` scenario: hundreds of distinct list queries over both APIs, loaded in turn.

Repeating one request measures what a cache keyed by its text could win; real traffic asks many
different questions. The rotation asks, for every Metronome customer among the first `examine`
listed, each page size, sort and status filter (none, then each of the two statuses commonest in
the unfiltered answers); and world-wide Meteroid pages in two sizes, two pages and two orders,
with and without the status commonest in their answers. Sorts and orders are read from the
server's OpenAPI documents, statuses from its answers, so any fixture and dialect work.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.client import Client, ClientError, path_segment, request_target, walk

METRONOME_LIMITS = (5, 25)
METRONOME_STATUSES = 2
METEROID_PER_PAGE = (10, 25)
METEROID_PAGES = (0, 1)
METEROID_STATUSES = 1
METRONOME_LIST = "/v1/customers/{customer_id}/invoices"
METEROID_LIST = "/api/v1/invoices"

Query = tuple[str, list[tuple[str, str | int]]]


async def parameter(client: Client, api: str, path: str, name: str) -> dict[str, Any]:
    """The schema of a GET operation's parameter, as the server's OpenAPI document states it."""
    document = await client.get_json(f"/_mock/openapi/{api}.json")
    for param in document["paths"][path]["get"]["parameters"]:
        if param["name"] == name:
            return param["schema"]
    raise ClientError(f"{api}: GET {path} takes no {name!r} parameter")


async def with_statuses(
    client: Client, queries: list[Query], key: str, count: int
) -> tuple[list[str], list[str]]:
    """Each query as it is, then filtered (`key`) by each of the `count` statuses commonest in
    the unfiltered answers; and those statuses, spelt as the server spells them."""
    seen: Counter[str] = Counter()
    for path, params in queries:
        seen.update(item["status"] for item in (await client.get_json(request_target(path, params)))["data"])
    statuses = [status for status, _ in seen.most_common(count)]
    targets = [
        request_target(path, [*params, *([(key, status)] if status else [])])
        for path, params in queries
        for status in (None, *statuses)
    ]
    return targets, statuses


async def metronome_rotation(client: Client, examine: int, choices: dict[str, Any]) -> list[str]:
    customers: list[str] = []
    async for customer in walk(client, "/v1/customers", [("limit", min(examine, 100))]):
        customers.append(customer["id"])
        if len(customers) == examine:
            break
    sorts = (await parameter(client, "metronome", METRONOME_LIST, "sort"))["enum"]
    queries: list[Query] = [
        (f"/v1/customers/{path_segment(customer)}/invoices", [("limit", limit), ("sort", sort)])
        for customer in customers
        for limit in METRONOME_LIMITS
        for sort in sorts
    ]
    targets, statuses = await with_statuses(client, queries, "status", METRONOME_STATUSES)
    choices.update(customers=len(customers), sorts=sorts, statuses=statuses)
    return targets


async def meteroid_rotation(client: Client, choices: dict[str, Any]) -> list[str]:
    """Two orders: the default and the first one the document lists on another column."""
    order_by = await parameter(client, "meteroid", METEROID_LIST, "order_by")
    column = order_by["default"].partition(".")[0]
    orders = [order_by["default"], *[o for o in order_by["enum"] if o.partition(".")[0] != column][:1]]
    queries: list[Query] = [
        (METEROID_LIST, [("per_page", per_page), ("page", page), ("order_by", order)])
        for per_page in METEROID_PER_PAGE
        for page in METEROID_PAGES
        for order in orders
    ]
    targets, statuses = await with_statuses(client, queries, "statuses", METEROID_STATUSES)
    choices.update(orders=orders, statuses=statuses)
    return targets


async def varied_targets(client: Client, examine: int, choices: dict[str, Any]) -> dict[str, list[str]]:
    metronome_choices: dict[str, Any] = {}
    meteroid_choices: dict[str, Any] = {}
    rotation = await metronome_rotation(client, examine, metronome_choices)
    rotation += await meteroid_rotation(client, meteroid_choices)
    choices.update(targets=len(rotation), metronome=metronome_choices, meteroid=meteroid_choices)
    return {"varied": rotation}
