"""Filter, order and page invoices: API-agnostic, so both facades share one set of semantics.

A query is prepared once into a `Plan`. Scoped queries (a customer or a contract) walk that
scope's pre-sorted invoices, narrowed to the span a period window can hold, and a keyset page
starts where the previous one said it would: their cost follows the page, not the scope or the
world. World-wide queries filtered only by status page a world-wide ordering by its per-status
slices (see `ordering`): O(log^2 n + page), no search on a first page, changes included.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.world.scope import Scope
from mockserver.world.state import World


@dataclass(frozen=True, slots=True)
class InvoiceQuery:
    customer: int | None = None
    contract: int | None = None
    statuses: frozenset[int] | None = None
    kinds: frozenset[int] | None = None
    currencies: frozenset[int] | None = None
    period_start_from: int | None = None  # inclusive: period_start >= value
    period_end_until: int | None = None  # inclusive: period_end <= value
    order: str = "issued_at"
    descending: bool = False


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs twice as much, per page
class Page:
    items: list[int]
    total: int | None = None  # all matches; only offset paging counts them
    has_more: bool = False
    next_start: int = -1  # keyset paging: the scope position where the next page starts
    # The scope positions [first, end) a non-empty page is made of, when they are consecutive:
    # in the query's direction, so a descending page is them in reverse.
    span: tuple[int, int] | None = None


class Plan:
    """A query prepared against the world: its scope, the runs of the scope that can hold a
    match, and what is left to test in each. Prepared once per distinct request (the facades
    cache plans), so that a page costs the items it walks.

    A world-wide query filtered by status alone is answered from the per-status slices of the
    global ordering instead (see `page_at`).
    """

    __slots__ = ("customer", "ordering", "query", "runs", "scope", "statuses", "sure", "tested", "world")

    def __init__(self, world: World, query: InvoiceQuery) -> None:
        self.world, self.query = world, query
        self.ordering = world.ordering(query.order)
        # A world-wide query filtered by status alone pages the ordering itself.
        self.statuses: tuple[int, ...] | None = None
        if _only_statuses(query):
            self.statuses = tuple(sorted(query.statuses)) if query.statuses is not None else None
            self.scope = None
            self.runs, self.customer, self.tested, self.sure = (), None, False, (0, 0)
            return
        self.scope = scope = _scope(world, query)
        low, sure_begin, sure_stop, high = scope.span(query.period_start_from, query.period_end_until)
        cut = min(max(sure_begin, low), high)
        sure_end = min(max(sure_stop, cut), high)
        # Ascending runs (first, end, whether the period needs testing) that can hold a match.
        self.runs = tuple(
            run
            for run in ((low, cut, True), (cut, sure_end, False), (sure_end, high, True))
            if run[0] < run[1]
        )
        # A contract's scope leaves the customer to test; a customer's scope, nothing.
        self.customer = query.customer if query.contract is not None else None
        self.tested = not (query.statuses is query.kinds is query.currencies is self.customer is None)
        # The positions that match with nothing to test, if any: a page inside it is a slice.
        self.sure = (0, 0) if self.tested else (cut, sure_end)


def _checked(plan: Plan, first: int, end: int, limit: int, period: bool, found: list[int]) -> int:
    """Add to `found` the scope's members at positions [first, end), walked in the query's
    direction, that pass the filters the plan leaves to test; at most `limit` of them
    (negative: all). Returns the position of the last one added, -1 if none.

    `period` False says every position lies in the period window. The tests run inline on the
    columns: on a request's hot path that is several times faster than composing one closure
    per filter.
    """
    query, members, descending = plan.query, plan.scope.members, plan.query.descending
    if not plan.tested and not period:
        if limit >= 0:
            first, end = (max(first, end - limit), end) if descending else (first, min(end, first + limit))
        if descending:
            found += reversed(members[first:end])
            return first
        found += members[first:end]
        return end - 1
    cols = plan.world.cols
    statuses, status_col = query.statuses, cols.status
    kinds, kind_col = query.kinds, cols.kind
    currencies, currency_col = query.currencies, cols.currency
    customer, customer_col = plan.customer, cols.customer
    low, starts = (query.period_start_from if period else None), cols.period_start
    high, ends = (query.period_end_until if period else None), cols.period_end
    positions = range(end - 1, first - 1, -1) if descending else range(first, end)
    last = -1
    wanted = limit  # counts down to 0; from a negative limit it never gets there
    for position in positions:
        i = members[position]
        if statuses is not None and status_col[i] not in statuses:
            continue
        if kinds is not None and kind_col[i] not in kinds:
            continue
        if currencies is not None and currency_col[i] not in currencies:
            continue
        if customer is not None and customer_col[i] != customer:
            continue
        if low is not None and starts[i] < low:
            continue
        if high is not None and ends[i] > high:
            continue
        found.append(i)
        last = position
        wanted -= 1
        if not wanted:
            break
    return last


def _walk(plan: Plan, begin: int, stop: int, limit: int = -1) -> tuple[list[int], int]:
    """Matches among the scope's positions [begin, stop), in the query's direction; at most
    `limit` of them (negative: all). Also the position of the last, -1 if there is none."""
    runs = reversed(plan.runs) if plan.query.descending else plan.runs
    found: list[int] = []
    last = -1
    for first, end, period in runs:
        first, end = max(first, begin), min(end, stop)
        if first < end:
            added = _checked(plan, first, end, limit - len(found), period, found)
            if added >= 0:
                last = added
            if len(found) == limit:
                break
    return found, last


def _scope(world: World, query: InvoiceQuery) -> Scope:
    """The smallest pre-sorted scope that holds every match: a contract, a customer, or all."""
    if query.contract is not None:
        return world.scope("contract", query.contract, query.order)
    if query.customer is not None:
        return world.scope("customer", query.customer, query.order)
    return world.scope(None, 0, query.order)


def matches(plan: Plan) -> list[int]:
    """Every match, in the query's order."""
    if plan.scope is None:
        return plan.ordering.page(plan.statuses, 0, len(plan.world), plan.query.descending)[0]
    return _walk(plan, 0, len(plan.scope.members))[0]


def page_at(plan: Plan, offset: int, limit: int) -> Page:
    """Offset paging, with the total count of matches."""
    if plan.scope is None:
        items, total = plan.ordering.page(plan.statuses, offset, limit, plan.query.descending)
        return Page(items, total=total, has_more=offset + limit < total)
    found = matches(plan)
    return Page(found[offset : offset + limit], total=len(found), has_more=offset + limit < len(found))


def page_from(plan: Plan, start: int | None, limit: int) -> Page:
    """Keyset paging: the first `limit` matches from the scope's position `start` on, in the
    query's order (`start` None: from the beginning).

    The walk stops one match past the page; that match's position is where the next page
    starts (`Page.next_start`), so no page pays for finding its place: a scoped query costs the
    items it walks, not a filter or a search of the whole scope.
    """
    begin, stop = 0, len(plan.scope.members)
    if plan.query.descending:
        if start is not None:
            stop = start + 1
        elif plan.runs:
            stop = plan.runs[-1][1]
    elif start is not None:
        begin = start
    elif plan.runs:
        begin = plan.runs[0][0]
    page = _sure_page(plan, begin, stop, limit)
    if page is not None:
        return page
    items, last = _walk(plan, begin, stop, limit + 1)
    if len(items) > limit:
        return Page(items[:limit], has_more=True, next_start=last)
    return Page(items)


def _sure_page(plan: Plan, begin: int, stop: int, limit: int) -> Page | None:
    """The page from `begin` up (descending: from `stop` down) when it is a slice of the run
    where every position matches: the page and the next match lie in it, or the page ends the
    matches. None otherwise."""
    sure_begin, sure_end = plan.sure
    members = plan.scope.members
    if plan.query.descending:
        if not sure_begin < stop <= sure_end:
            return None
        first = stop - limit
        if first > sure_begin:  # the next match, at first - 1, is in the run too
            return Page(
                list(members[first:stop])[::-1], has_more=True, next_start=first - 1, span=(first, stop)
            )
        if sure_begin == plan.runs[0][0]:  # nothing before the run can match: the last page
            return Page(list(members[sure_begin:stop])[::-1], span=(sure_begin, stop))
        return None
    if not sure_begin <= begin < sure_end:
        return None
    end = begin + limit
    if end < sure_end:
        return Page(list(members[begin:end]), has_more=True, next_start=end, span=(begin, end))
    if sure_end == plan.runs[-1][1]:  # nothing after the run can match: the last page
        return Page(list(members[begin:sure_end]), span=(begin, sure_end))
    return None


def _only_statuses(query: InvoiceQuery) -> bool:
    return (
        query.customer is None
        and query.contract is None
        and query.kinds is None
        and query.currencies is None
        and query.period_start_from is None
        and query.period_end_until is None
    )
