"""The one world both facades serve: entities, lookups and orderings, all built once at load."""

from __future__ import annotations

from array import array
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from faker import Faker

from mockserver import clock
from mockserver.fixture import Fixture, load_fixture
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


class Ordering:
    """One total order of every invoice by (key, id), and per-status slices of it.

    `rank[i]` is invoice i's position; sorting any subset by rank sorts it by (key, id).
    """

    def __init__(self, order: list[int], statuses: array, status_count: int) -> None:
        self.order = array("l", order)
        self.order_ranks = range(len(order))
        self.rank = array("l", bytes(8 * len(order)))
        self.by_status = [array("l") for _ in range(status_count)]
        for position, ordinal in enumerate(order):
            self.rank[ordinal] = position
            self.by_status[statuses[ordinal]].append(position)


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
        self.invoice_by_id = {uid: i for i, uid in enumerate(self.cols.ids)}
        self.by_customer: list[list[int]] = [[] for _ in self.customers]
        self.by_contract: list[list[int]] = [[] for _ in self.contracts]
        for i in range(len(self.cols)):
            self.by_customer[self.cols.customer[i]].append(i)
            self.by_contract[self.cols.contract[i]].append(i)
        self._orderings: dict[str, Ordering] = {}
        self._by_id: list[int] | None = None
        self._scoped: dict[tuple[str, int, str], list[int]] = {}
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
            # A stable sort over the id order breaks ties by id without building tuples.
            order = sorted(self._id_order(), key=values.__getitem__)
            self._orderings[key] = Ordering(order, self.cols.status, 4)
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

    def _id_order(self) -> list[int]:
        if self._by_id is None:
            self._by_id = sorted(range(len(self.cols)), key=self.cols.ids.__getitem__)
        return self._by_id

    def scoped(self, scope: str, index: int, key: str) -> list[int]:
        """A customer's or contract's invoices in (key, id) order, computed once per scope."""
        cache_key = (scope, index, key)
        if cache_key not in self._scoped:
            members = self.by_customer[index] if scope == "customer" else self.by_contract[index]
            rank = self.ordering(key).rank
            self._scoped[cache_key] = sorted(members, key=rank.__getitem__)
        return self._scoped[cache_key]

    def warm(self, keys: tuple[str, ...] = ORDER_KEYS) -> None:
        """Pay for orderings at load rather than on a client's first request."""
        for key in keys:
            self.ordering(key)
