"""The world's orderings and scopes: each invoice ordering built on its first read, and
followed as changes write (see `Ordering`); each scope sorted once, and dropped or renewed when
a change touches it.

`World` holds them; this is the part of it that sorts.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from itertools import compress

from mockserver.world import clock
from mockserver.world.columns import InvoiceColumns
from mockserver.world.generator import Progress
from mockserver.world.model import Customer
from mockserver.world.ordering import Ordering
from mockserver.world.scope import Scope
from mockserver.world.spec import STATUSES

ORDER_KEYS = (
    "issued_at",
    "created_at",
    "number",
    "customer_name",
    "total",
    "invoice_date",
    "status",
    "payment_status",
)
# The invoice columns each ordering's key reads: a change to none of them leaves its place.
KEY_COLUMNS = {
    "issued_at": frozenset({"issued_at"}),
    "created_at": frozenset({"created_at"}),
    "number": frozenset({"seq"}),
    "customer_name": frozenset({"customer"}),  # written when its customer is renamed
    "invoice_date": frozenset({"issued_at"}),
    "status": frozenset({"status"}),
    "payment_status": frozenset({"payment_status"}),
    "total": frozenset({"subtotal", "tax", "credits", "coupons"}),
}
# Besides an ordering's key, what a scope is made of: its members and their billing periods.
SCOPE_COLUMNS = frozenset({"customer", "contract", "period_start", "period_end"})
# Invoices below which an ordering is rebuilt at its first read after a change: a few ms at most.
SMALL_WORLD = 20_000


class Orderings:
    """The sorting part of a `World`, which sets these attributes."""

    cols: InvoiceColumns
    customers: list[Customer]
    by_customer: list[array]
    by_contract: list[array]
    touched: set[int]
    _code: str
    _orderings: dict[str, Ordering]
    _fixture_orderings: dict[str, Ordering]
    _by_id: Sequence[int] | None
    _scopes: dict[tuple[str | None, int, str], Scope]

    def __len__(self) -> int:
        return len(self.cols)

    def number(self, ordinal: int) -> str:
        """Unique and sortable: the customer's id prefix, then its invoice sequence."""
        customer = self.customers[self.cols.customer[ordinal]]
        return f"INV-{customer.id[:8].upper()}-{self.cols.seq[ordinal] + 1:05d}"

    def total(self, ordinal: int) -> int:
        return self.cols.total(ordinal)

    def sort_value(self, key: str) -> Callable[[int], object]:
        """An invoice's value of an ordering key, read from the current columns."""
        if key == "customer_name":
            return lambda i: self.customers[self.cols.customer[i]].name
        if key == "number":
            return self.number
        if key == "total":
            return self.total
        if key == "invoice_date":
            return lambda i: clock.day_floor(self.cols.issued_at[i])
        column = key
        return lambda i: getattr(self.cols, column)[i]

    def sort_key(self, key: str) -> Callable[[int], tuple]:
        """(value, id): the total order of an ordering key, ties broken by id."""
        value = self.sort_value(key)
        return lambda i: (value(i), self.cols.ids[i])

    def ordering(self, key: str) -> Ordering:
        """The world-wide ordering of `key`, rebuilt from the invoices as they are when its
        overlay of changes has grown large (see `_worth_rebuilding`)."""
        found = self._orderings.get(key)
        if found is None or (found.changed and self._worth_rebuilding(found)):
            found = self._orderings[key] = self._build_ordering(key)
            if not self.touched:
                self._fixture_orderings[key] = found
        return found

    def _worth_rebuilding(self, ordering: Ordering) -> bool:
        """A rebuild pays for itself once an eighth of the ordering has changed (each change's
        share of it is then a few steps), and always in a small world, where it costs about
        as much as walking the overlay on a few pages."""
        return len(self) <= SMALL_WORLD or ordering.overlay * 8 > ordering.size

    def _build_ordering(self, key: str) -> Ordering:
        values = self._values(key)
        by_id = self._id_order()
        if isinstance(values, array) and values.typecode == "b":
            # A few small codes: one pass per code over the id order, each kept in id order.
            in_id_order = array("b", map(values.__getitem__, by_id))
            order: Sequence[int] = array(self._code)
            for value in sorted(set(in_id_order)):
                order.extend(compress(by_id, map(value.__eq__, in_id_order)))
        else:
            # A stable sort over the id order breaks ties by id without building tuples.
            order = sorted(by_id, key=values.__getitem__)
        return Ordering(order, self.cols.status, len(STATUSES), self.sort_key(key), self._code)

    def _values(self, key: str):
        cols = self.cols
        column = {
            "issued_at": cols.issued_at,
            "created_at": cols.created_at,
            "status": cols.status,
            "payment_status": cols.payment_status,
        }.get(key)
        if column is not None:
            return column
        value = self.sort_value(key)
        return [value(i) for i in range(len(cols))]

    def _id_order(self) -> Sequence[int]:
        """Every invoice by id. Invoices added since the last call are merged in: sorting two
        sorted runs costs a pass, not a sort."""
        size = len(self.cols)
        if self._by_id is None:
            self._by_id = sorted(range(size), key=self.cols.ids.__getitem__)
        elif len(self._by_id) < size:
            merged = sorted([*self._by_id, *range(len(self._by_id), size)], key=self.cols.ids.__getitem__)
            self._by_id = array(self._code, merged)
        return self._by_id

    def scope(self, kind: str | None, index: int, key: str) -> Scope:
        """A customer's or contract's invoices (`kind` None: all of them) in (key, id) order,
        computed once per scope and again after a change touches it."""
        cache_key = (kind, index, key)
        found = self._scopes.get(cache_key)
        if found is None:
            ordering = self.ordering(key)
            if kind is None:
                members: Sequence[int] = (
                    array(self._code, ordering.live()) if ordering.changed else ordering.order
                )
            else:
                group = self.by_customer[index] if kind == "customer" else self.by_contract[index]
                if ordering.changed:
                    members = array(self._code, sorted(group, key=ordering.sort_key))
                else:
                    members = array(self._code, sorted(group, key=ordering.rank.__getitem__))
            found = self._scopes[cache_key] = Scope(members, self.cols)
        return found

    def warm(self, keys: tuple[str, ...] = ORDER_KEYS, progress: Progress | None = None) -> None:
        """Pay for orderings at load rather than on a client's first request."""
        for done, key in enumerate(keys, 1):
            self.ordering(key)
            if progress:
                progress(done, len(keys))
        if isinstance(self._by_id, list):
            # A list sorts fastest while orderings are built; an array holds it in a fraction.
            self._by_id = array(self._code, self._by_id)

    def _follow_scopes(self, written: dict[int, set[str]], customers: set[int], contracts: set[int]) -> None:
        """Scopes holding a written invoice: dropped (sorted again on their next read) when a
        change may have moved one in their order or billing periods, or added one; otherwise
        renewed (the same members and bounds, under a new identity that the caches of their
        rendered pages do not know)."""
        moved: dict[str, tuple[set[int], set[int]]] = {}
        cols = self.cols
        for key in {k[2] for k in self._scopes}:
            shifting = KEY_COLUMNS[key] | SCOPE_COLUMNS
            hit = [o for o, fields in written.items() if not fields.isdisjoint(shifting)]
            moved[key] = ({cols.customer[o] for o in hit}, {cols.contract[o] for o in hit})
        for k in list(self._scopes):
            kind, index, key = k
            if kind is None:
                stale = bool(moved[key][0])
            elif kind == "customer" and index in customers:
                stale = index in moved[key][0]
            elif kind == "contract" and index in contracts:
                stale = index in moved[key][1]
            else:
                continue
            if stale:
                del self._scopes[k]
            else:
                self._scopes[k] = self._scopes[k].renewed()
