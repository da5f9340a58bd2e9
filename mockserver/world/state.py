"""The one world both facades serve: entities, lookups and orderings, all built once at load."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import accumulate, compress, groupby
from pathlib import Path

from faker import Faker

from mockserver.generation.fixture import STATUSES, Fixture, load_fixture
from mockserver.generation.generator import Generated, Generator, InvoiceColumns, Progress
from mockserver.generation.invoice_body import build_invoice
from mockserver.world import clock
from mockserver.world.model import Contract, Customer, Invoice

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


def index_code(size: int) -> str:
    """The array type code of ordinals and positions in a world of `size` invoices."""
    return "i" if size < 2**31 else "q"


class Ordering:
    """One total order of every invoice by (key, id), and per-status slices of it.

    `rank[i]` is invoice i's position; sorting any subset by rank sorts it by (key, id).
    Everything is a compact array: no int object per invoice, nothing a forked worker's
    reference counting would copy.
    """

    def __init__(self, order: Sequence[int], statuses: array, status_count: int) -> None:
        size = len(order)
        code = index_code(size)
        self.order = array(code, order)
        self.order_ranks = range(size)
        self.rank = rank = array(code, bytes(self.order.itemsize * size))
        for position, ordinal in enumerate(self.order):
            rank[ordinal] = position
        in_order = array("b", map(statuses.__getitem__, self.order))
        self.by_status = [
            array(code, compress(range(size), map(status.__eq__, in_order))) for status in range(status_count)
        ]


class Scope:
    """Some invoices in one order, and which of them a period window can hold.

    Running maxima (from the front) and minima (from the back) of the period bounds are
    non-decreasing, so bisections find, for any window, the positions that cannot hold a match
    and the run of positions that surely lies inside the window. That holds in any order; in
    date order, where periods follow nearly the same order, the spans are tight. Computed on
    the first windowed query of the scope.
    """

    __slots__ = ("_cols", "_envelope", "members")

    def __init__(self, members: Sequence[int], cols: InvoiceColumns) -> None:
        self.members = members
        self._cols = cols
        self._envelope: tuple[array, array, array, array] | None = None

    def span(self, low: int | None, high: int | None) -> tuple[int, int, int, int]:
        """(begin, sure_begin, sure_stop, stop) for a window of periods that start at or after
        `low` and end at or before `high`: no member outside [begin, stop) lies in the window,
        and every member inside [sure_begin, sure_stop) does."""
        size = len(self.members)
        if low is None and high is None:
            return 0, 0, size, size
        latest_start, earliest_later_start, latest_end, earliest_later_end = self._envelope or self._build()
        begin, sure_begin, sure_stop, stop = 0, 0, size, size
        if low is not None:
            begin = bisect_left(latest_start, low)  # before it, every period starts before `low`
            sure_begin = bisect_left(earliest_later_start, low)  # from it, none does
        if high is not None:
            sure_stop = bisect_right(latest_end, high)  # before it, every period ends by `high`
            stop = bisect_right(earliest_later_end, high)  # from it, none does
        return begin, sure_begin, sure_stop, stop

    def _build(self) -> tuple[array, array, array, array]:
        starts = array("q", map(self._cols.period_start.__getitem__, self.members))
        ends = array("q", map(self._cols.period_end.__getitem__, self.members))
        self._envelope = (
            array("q", accumulate(starts, max)),
            _suffix_minima(starts),
            array("q", accumulate(ends, max)),
            _suffix_minima(ends),
        )
        return self._envelope


def _suffix_minima(values: array) -> array:
    """minima[k] = min(values[k:])."""
    minima = array("q", accumulate(reversed(values), min))
    minima.reverse()
    return minima


def _groups(column: array, count: int, code: str) -> list[array]:
    """Ordinals by their value in `column`: one ascending array per value in range(count).

    Negative values (no contract) belong to no group. Invoices come customer by customer, so
    the runs are long and few.
    """
    groups = [array(code) for _ in range(count)]
    for value, run in groupby(range(len(column)), key=column.__getitem__):
        if value >= 0:
            groups[value].extend(run)
    return groups


class World:
    def __init__(self, fixture: Fixture, generated: Generated) -> None:
        self.fixture = fixture
        self.seed, self.now = fixture.seed, fixture.now
        self.customers: list[Customer] = generated.customers
        self.contracts: list[Contract] = generated.contracts
        self.cols = generated.columns
        self.currencies = generated.currencies
        self.pinned = generated.pinned
        self.customer_by_id = {c.id: c.ordinal for c in self.customers}
        self.customer_by_alias: dict[str, int] = {}
        for customer in self.customers:
            for alias in customer.aliases:
                self.customer_by_alias.setdefault(alias, customer.ordinal)
        self.contract_by_id = {c.id: c.ordinal for c in self.contracts}
        size = len(self.cols)
        self.invoice_by_id = dict(zip(self.cols.ids, range(size), strict=True))
        self._code = index_code(size)
        self.by_customer: list[array] = _groups(self.cols.customer, len(self.customers), self._code)
        self.by_contract: list[array] = _groups(self.cols.contract, len(self.contracts), self._code)
        self._orderings: dict[str, Ordering] = {}
        self._by_id: Sequence[int] | None = None
        self._scopes: dict[tuple[str | None, int, str], Scope] = {}
        self._faker = Faker("en_US")
        self.invoice = lru_cache(maxsize=8192)(self._build)

    @classmethod
    def load(cls, path: str | Path | None = None, progress: Progress | None = None) -> World:
        """Validate and generate; raises FixtureError before anything could be served."""
        fixture = load_fixture(path)
        return cls.from_fixture(fixture, progress)

    @classmethod
    def from_fixture(cls, fixture: Fixture, progress: Progress | None = None) -> World:
        return cls(fixture, Generator(fixture, progress).run())

    def __len__(self) -> int:
        return len(self.cols)

    # entities

    def _build(self, ordinal: int) -> Invoice:
        cols = self.cols
        customer = self.customers[cols.customer[ordinal]]
        contract = self.contracts[cols.contract[ordinal]] if cols.contract[ordinal] >= 0 else None
        return build_invoice(
            self.seed,
            self.now,
            ordinal,
            cols,
            customer,
            contract,
            self.currencies[cols.currency[ordinal]],
            self.number(ordinal),
            self.pinned.get(ordinal),
            self._faker,
        )

    def number(self, ordinal: int) -> str:
        """Unique and sortable: the customer's id prefix, then its invoice sequence."""
        customer = self.customers[self.cols.customer[ordinal]]
        return f"INV-{customer.id[:8].upper()}-{self.cols.seq[ordinal] + 1:05d}"

    def total(self, ordinal: int) -> int:
        return self.cols.total(ordinal)

    # orderings

    def sort_key(self, key: str) -> Callable[[int], object]:
        cols = self.cols
        if key == "customer_name":
            return lambda i: self.customers[cols.customer[i]].name
        if key == "number":
            return self.number
        if key == "total":
            return cols.total
        if key == "invoice_date":
            return lambda i: clock.day_floor(cols.issued_at[i])
        column = {
            "issued_at": cols.issued_at,
            "created_at": cols.created_at,
            "status": cols.status,
            "payment_status": cols.payment_status,
        }[key]
        return column.__getitem__

    def ordering(self, key: str) -> Ordering:
        if key not in self._orderings:
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
            self._orderings[key] = Ordering(order, self.cols.status, len(STATUSES))
        return self._orderings[key]

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
        value = self.sort_key(key)
        return [value(i) for i in range(len(cols))]

    def _id_order(self) -> Sequence[int]:
        if self._by_id is None:
            self._by_id = sorted(range(len(self.cols)), key=self.cols.ids.__getitem__)
        return self._by_id

    def scope(self, kind: str | None, index: int, key: str) -> Scope:
        """A customer's or contract's invoices (`kind` None: all of them) in (key, id) order,
        computed once per scope."""
        cache_key = (kind, index, key)
        found = self._scopes.get(cache_key)
        if found is None:
            ordering = self.ordering(key)
            if kind is None:
                members: Sequence[int] = ordering.order
            else:
                group = self.by_customer[index] if kind == "customer" else self.by_contract[index]
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
