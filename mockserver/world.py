"""The one world both facades serve: entities, lookups and orderings, all built once at load."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import compress, groupby
from pathlib import Path

from faker import Faker

from mockserver import clock
from mockserver.fixture import STATUSES, Fixture, load_fixture
from mockserver.generator import Generated, Generator, Progress
from mockserver.invoice_body import build_invoice
from mockserver.model import Contract, Customer, Invoice

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
        self._scoped: dict[tuple[str, int, str], array] = {}
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

    def scoped(self, scope: str, index: int, key: str) -> Sequence[int]:
        """A customer's or contract's invoices in (key, id) order, computed once per scope."""
        cache_key = (scope, index, key)
        if cache_key not in self._scoped:
            members = self.by_customer[index] if scope == "customer" else self.by_contract[index]
            rank = self.ordering(key).rank
            self._scoped[cache_key] = array(self._code, sorted(members, key=rank.__getitem__))
        return self._scoped[cache_key]

    def warm(self, keys: tuple[str, ...] = ORDER_KEYS, progress: Progress | None = None) -> None:
        """Pay for orderings at load rather than on a client's first request."""
        for done, key in enumerate(keys, 1):
            self.ordering(key)
            if progress:
                progress(done, len(keys))
        if isinstance(self._by_id, list):
            # A list sorts fastest while orderings are built; an array holds it in a fraction.
            self._by_id = array(self._code, self._by_id)
