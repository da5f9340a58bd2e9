"""World-wide orderings of invoices that stay correct as the world changes, without a rebuild.

An ordering is built once from the invoices at hand (its *base*: every invoice by (key, id),
with per-status slices of ranks) and then follows changes as a small overlay:

- a changed invoice's base rank becomes *dead* (skipped wherever it is read), its key as it
  was kept (*frozen*) for as long as the base is searched;
- its current place is an *entry* of the overlay, `(p, 0, key, ordinal)` with `p` the number
  of base ranks whose base key is below its own. An entry sorts just before base rank `p`, and
  entries that share a `p` sort by key, so base ranks (as `(rank, 1, ...)`) and entries merge
  into one order by plain tuple comparison.

A change costs a binary search of the base per invoice and ordering it touches. While nothing
in the statuses a page asks for has changed, the page is read from the base slices alone, as
before any change; otherwise the page is a merge of the few base ranks and entries around it.
"""

from __future__ import annotations

import copy
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, compress
from operator import itemgetter

_P = itemgetter(0)


class Ordering:
    """Every invoice in (key, id) order, its per-status slices, and the changes since it was built."""

    def __init__(
        self,
        order: Sequence[int],
        statuses: array,
        status_count: int,
        sort_key: Callable[[int], tuple],
        code: str,
    ) -> None:
        size = len(order)
        self.size = size
        self.sort_key = sort_key
        self.order = array(code, order)
        self.rank = rank = array(code, bytes(self.order.itemsize * size))
        for position, ordinal in enumerate(self.order):
            rank[ordinal] = position
        self.base_status = array("b", map(statuses.__getitem__, self.order))
        # Per status selection asked for: its statuses and the base's invoices of them in order,
        # which the base never changes.
        self._selections: dict[Sequence[int] | None, tuple[list[int], Sequence[int]]] = {}
        self.by_status = [
            array(code, compress(range(size), map(status.__eq__, self.base_status)))
            for status in range(status_count)
        ]
        self.reset()

    def __getstate__(self) -> dict:
        """Its state without its key function, which its world gives back (`World.__setstate__`)."""
        state = dict(self.__dict__)
        del state["sort_key"]
        return state

    def reset(self) -> None:
        """Back to the invoices it was built from: no overlay."""
        self.dead: set[int] = set()
        self.dead_by_status: list[list[int]] = [[] for _ in self.by_status]
        self.entries: list[list[tuple]] = [[] for _ in self.by_status]
        self.entry_of: dict[int, tuple[int, tuple]] = {}
        self.frozen: dict[int, tuple] = {}  # base rank -> its key before a change moved it

    def branch(self, sort_key: Callable[[int], tuple]) -> Ordering:
        """The same ordering for a copy of its world, whose keys `sort_key` reads: the base is
        shared (nothing writes to it once built), the overlay is its own."""
        twin = copy.copy(self)
        twin.sort_key = sort_key
        twin._selections = dict(self._selections)
        twin.dead = set(self.dead)
        twin.dead_by_status = [list(ranks) for ranks in self.dead_by_status]
        twin.entries = [list(entries) for entries in self.entries]
        twin.entry_of = dict(self.entry_of)
        twin.frozen = dict(self.frozen)
        return twin

    @property
    def changed(self) -> bool:
        return bool(self.entry_of)

    @property
    def overlay(self) -> int:
        """How many invoices the overlay holds: what a rebuild would fold in."""
        return len(self.entry_of)

    # changes

    def freeze(self, ordinal: int) -> None:
        """Keep an invoice's base key before a change writes what it is made of."""
        if ordinal < self.size:
            self.frozen.setdefault(self.rank[ordinal], self.sort_key(ordinal))

    def follow(self, touched: Iterable[tuple[int, int, bool]]) -> None:
        """Take in changed or new invoices: (ordinal, current status, whether its key may have
        moved). Invoices are read through `sort_key` as they are now; a moved one was frozen
        before it was written."""
        removed: dict[int, set[int]] = {}
        added: dict[int, list[tuple]] = {}
        dead_added: dict[int, list[int]] = {}
        for ordinal, status, moved in touched:
            key = self.sort_key(ordinal)
            previous = self.entry_of.get(ordinal)
            if previous is not None:
                removed.setdefault(previous[0], set()).add(ordinal)
                place = previous[1][0] if previous[1][2] == key else self._place(key)
            elif ordinal < self.size:
                rank = self.rank[ordinal]
                self.dead.add(rank)
                dead_added.setdefault(self.base_status[rank], []).append(rank)
                place = self._place(key) if moved else rank
            else:
                place = self._place(key)
            entry = (place, 0, key, ordinal)
            self.entry_of[ordinal] = (status, entry)
            added.setdefault(status, []).append(entry)
        for status, ranks in dead_added.items():
            self.dead_by_status[status] = sorted(self.dead_by_status[status] + ranks)
        for status in removed.keys() | added.keys():
            gone = removed.get(status, ())
            kept = (
                [entry for entry in self.entries[status] if entry[3] not in gone]
                if gone
                else self.entries[status]
            )
            self.entries[status] = sorted(kept + added.get(status, []))

    def _place(self, key: tuple) -> int:
        """How many base ranks hold a key below `key`, each as it was when the base was built."""
        frozen, order, sort_key = self.frozen, self.order, self.sort_key

        def base_key(position: int) -> tuple:
            found = frozen.get(position)
            return sort_key(order[position]) if found is None else found

        return bisect_left(range(self.size), key, key=base_key)

    # reading

    def count(self, statuses: Sequence[int] | None) -> int:
        total = 0
        for status in self._statuses(statuses):
            total += (
                len(self.by_status[status]) - len(self.dead_by_status[status]) + len(self.entries[status])
            )
        return total

    def _statuses(self, statuses: Sequence[int] | None) -> Sequence[int]:
        return range(len(self.by_status)) if statuses is None else statuses

    def page(
        self, statuses: Sequence[int] | None, offset: int, limit: int, descending: bool
    ) -> tuple[list[int], int]:
        """The ordinals at positions [offset, offset + limit) of the invoices whose status is in
        `statuses` (None: all), counted in the query's direction; and how many there are."""
        selection = self._selections.get(statuses)
        if selection is None:
            selection = self._selections[statuses] = self._selection(statuses)
        chosen, members = selection
        overlaid = bool(self.entry_of) and any(self.dead_by_status[s] or self.entries[s] for s in chosen)
        total = self.count(chosen) if overlaid else len(members)
        if descending:
            low, high = max(total - offset - limit, 0), total - offset
        else:
            low, high = offset, min(offset + limit, total)
        if low >= high:
            return [], total
        if not overlaid:
            items = list(members[low:high])
        elif descending and high == total:
            items = self._top(chosen, high - low)
        else:
            items = self._window(chosen, low, high)
        if descending:
            items.reverse()
        return items, total

    def _selection(self, statuses: Sequence[int] | None) -> tuple[list[int], Sequence[int]]:
        """The statuses asked for that exist, and the base's invoices of those statuses in
        order: a page of the base is then a slice. Its ranks are sorted runs, one per status,
        which a sort merges in a pass."""
        chosen = [s for s in self._statuses(statuses) if s < len(self.by_status)]
        if statuses is None:
            return chosen, self.order
        ranks = sorted(chain.from_iterable(self.by_status[s] for s in chosen))
        return chosen, array(self.order.typecode, map(self.order.__getitem__, ranks))

    def live(self) -> list[int]:
        """Every invoice in order: what a scan of the whole world walks."""
        return (
            self._window(range(len(self.by_status)), 0, self.count(None))
            if self.changed
            else list(self.order)
        )

    def _count_before(self, statuses: Sequence[int], place: int) -> int:
        """How many live invoices of `statuses` sort before base rank `place`'s entries."""
        total = 0
        for s in statuses:
            total += bisect_left(self.by_status[s], place) - bisect_left(self.dead_by_status[s], place)
            total += bisect_left(self.entries[s], place, key=_P)
        return total

    def _window(self, statuses: Sequence[int], low: int, high: int) -> list[int]:
        """Positions [low, high) of the merge of base slices and entries, ascending."""
        place = 0
        if low:
            first, last = 0, self.size  # the last place with at most `low` invoices before it
            while first < last:
                middle = (first + last + 1) // 2
                if self._count_before(statuses, middle) <= low:
                    first = middle
                else:
                    last = middle - 1
            place = first
        skip = low - self._count_before(statuses, place) if low else 0
        need = skip + high - low
        order = self.order
        found: list[tuple] = []
        for s in statuses:
            start = bisect_left(self.by_status[s], place)
            found += [(rank, 1, None, order[rank]) for rank in self._live_ranks(s, start, need)]
            entries = self.entries[s]
            start = bisect_left(entries, place, key=_P)
            found += entries[start : start + need]
        found.sort()
        return [item[3] for item in found[skip:need]]

    def _live_ranks(self, status: int, begin: int | None, count: int) -> list[int]:
        """Up to `count` live ranks of a status slice: the first from index `begin` on, or
        (`begin` None) the last ones. The slice's dead ranks are counted by bisection, so a run
        of them costs nothing to pass over."""
        ranks, dead = self.by_status[status], self.dead_by_status[status]
        size = len(ranks)

        def live(first: int, end: int) -> int:
            if first >= end:
                return 0
            return end - first - (bisect_right(dead, ranks[end - 1]) - bisect_left(dead, ranks[first]))

        if not count or live(0 if begin is None else begin, size) == 0:
            return []
        if begin is None:
            first, last = 0, size  # the last index from which `count` live ranks remain
            while first < last:
                middle = (first + last + 1) // 2
                if live(middle, size) >= count:
                    first = middle
                else:
                    last = middle - 1
            return [rank for rank in ranks[first:] if rank not in self.dead][-count:]
        first, last = begin, size  # the first end up to which `count` live ranks lie
        while first < last:
            middle = (first + last) // 2
            if live(begin, middle) >= count:
                last = middle
            else:
                first = middle + 1
        return [rank for rank in ranks[begin:first] if rank not in self.dead][:count]

    def _top(self, statuses: Sequence[int], count: int) -> list[int]:
        """The last `count` positions of the merge, ascending."""
        order = self.order
        found: list[tuple] = []
        for s in statuses:
            found += [(rank, 1, None, order[rank]) for rank in self._live_ranks(s, None, count)]
            found += self.entries[s][-count:]
        found.sort()
        return [item[3] for item in found[-count:]]
