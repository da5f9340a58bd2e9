"""Bodies of list pages, kept while their world stands as it was when they were made.

A page is a function of its world's state and of the query as the API reads it (the known
parameters, decoded, in order; the customer or dialect it is for), so the same query asked
again before the world's next change gets the very bytes made the first time: a CI suite
listing the same customer's invoices test after test, a dashboard polling its first page, an
SDK walking the same pages again. Any change to the world (its `seq`) makes every page of it
again on demand; nothing is copied or rebuilt at the change itself.

One budget of bytes for the whole process, shared by every world it serves (under isolation,
many), the pages used least recently dropped first, so that memory stays bounded whatever
the queries. A page is kept for what made it (a facade over one world, with its settings and
dialect) by a weak reference: it does not keep its maker alive, and a page whose maker is gone
(or whose id another now has) is never served.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable

MIB = 1024 * 1024
BUDGET = 16 * MIB  # bytes of pages kept in all, in one process (`serve --page-memory`)
LARGEST = MIB  # a page larger than this is made every time


class Pages:
    def __init__(self, budget: int = BUDGET) -> None:
        self.budget = budget
        self.size = 0  # bytes of pages kept
        self._kept: OrderedDict[Hashable, tuple[weakref.ref[object], bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def page(self, maker: object, seq: int, query: Hashable, make: Callable[[], bytes]) -> bytes:
        """The page `make` makes for `query`, by `maker` over its world as it stands at its last
        change (`seq`): made once, then served as it was until the world changes. A query
        `make` refuses (it raises) keeps nothing."""
        key = (id(maker), seq, query)
        found = self._kept.get(key)
        if found is not None and found[0]() is maker:
            self._kept.move_to_end(key)
            return found[1]
        body = make()
        if len(body) <= min(LARGEST, self.budget):
            self._keep(key, weakref.ref(maker), body)
        return body

    def _keep(self, key: Hashable, maker: weakref.ref[object], body: bytes) -> None:
        old = self._kept.pop(key, None)
        if old is not None:
            self.size -= len(old[1])
        self._kept[key] = (maker, body)
        self.size += len(body)
        while self.size > self.budget:
            _, (_, dropped) = self._kept.popitem(last=False)
            self.size -= len(dropped)


pages = Pages()  # the process's: one budget for every world and API it serves
