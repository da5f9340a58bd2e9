"""The query engine against plain comprehensions over the world's columns."""

from __future__ import annotations

import itertools

import pytest

from mockserver.world.orderings import ORDER_KEYS
from mockserver.world.query import InvoiceQuery, Plan, matches, page_at, page_from
from mockserver.world.state import World


def oracle(world: World, query: InvoiceQuery) -> list[int]:
    cols, key = world.cols, world.sort_key(query.order)
    found = [
        i
        for i in range(len(world))
        if (query.customer is None or cols.customer[i] == query.customer)
        and (query.contract is None or cols.contract[i] == query.contract)
        and (query.statuses is None or cols.status[i] in query.statuses)
        and (query.kinds is None or cols.kind[i] in query.kinds)
        and (query.period_start_from is None or cols.period_start[i] >= query.period_start_from)
        and (query.period_end_until is None or cols.period_end[i] <= query.period_end_until)
    ]
    return sorted(found, key=lambda i: (key(i), cols.ids[i]), reverse=query.descending)


STATUS_SETS = [None, frozenset({0}), frozenset({1, 3}), frozenset({0, 1, 2, 3}), frozenset()]


@pytest.mark.parametrize(("order", "descending"), list(itertools.product(ORDER_KEYS, (False, True))))
def test_world_wide_status_pages_match_the_oracle(default_world: World, order: str, descending: bool) -> None:
    for statuses in STATUS_SETS:
        query = InvoiceQuery(statuses=statuses, order=order, descending=descending)
        expected = oracle(default_world, query)
        for size in (1, 7, 100):
            walked = []
            for offset in range(0, len(expected) + size, size):
                page = page_at(Plan(default_world, query), offset, size)
                assert page.total == len(expected)
                walked += page.items
            assert walked == expected


def test_scoped_keyset_walk_matches_the_oracle(default_world: World) -> None:
    umbrella = default_world.customer_by_alias["umbrella"]
    start = default_world.invoice(default_world.by_customer[umbrella][40]).period_start
    for descending in (False, True):
        query = InvoiceQuery(
            customer=umbrella, statuses=frozenset({1, 2}), period_start_from=start, descending=descending
        )
        expected = oracle(default_world, query)
        plan = Plan(default_world, query)
        assert expected == matches(plan)
        walked, start = [], None
        while True:
            page = page_from(plan, start, 9)
            walked += page.items
            if not page.has_more:
                break
            start = page.next_start
            assert plan.scope.members[start] == expected[len(walked)]
        assert walked == expected and len(expected) > 9
