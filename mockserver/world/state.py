"""The one world both facades serve: entities, lookups and orderings, built once at load and
kept up to date as changes are applied.

The fixture's world is generated once. A change writes the invoices it touches (and adds
new ones) through `World.changing`; orderings follow the invoices touched (see `ordering`),
the scopes holding them are dropped to be sorted again on their next read, and each touched
invoice gets a new *token*, the key of every cache of its body or bytes, so that nothing
cached for an earlier state is ever served. Reset writes the fixture's columns back.
"""

from __future__ import annotations

import copy
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import compress

from faker import Faker

from mockserver.world.columns import InvoiceColumns
from mockserver.world.faults import Rule
from mockserver.world.generator import Generated, Generator, Progress
from mockserver.world.hooks import Hooks
from mockserver.world.invoice_body import Amounts, Written, build_invoice
from mockserver.world.metering import Aggregate, Metering, copied
from mockserver.world.model import Contract, Customer, Invoice, Line
from mockserver.world.ordering import Ordering
from mockserver.world.orderings import KEY_COLUMNS, Orderings
from mockserver.world.pending import Pending
from mockserver.world.remembered import Remembered
from mockserver.world.scope import Scope, groups_by, index_code
from mockserver.world.spec import PAYMENT_STATUSES, STATUSES, Fixture

_DRAFT = STATUSES.index("draft")
_PROCESSING = PAYMENT_STATUSES.index("processing")


BODIES = 8192  # invoice bodies kept built


class World(Orderings):
    def __init__(self, fixture: Fixture, generated: Generated) -> None:
        self.fixture = fixture
        self.seed, self.now = fixture.seed, fixture.now
        self.customers: list[Customer] = generated.customers
        self._fixture_customers = tuple(self.customers)
        self.contracts: list[Contract] = generated.contracts
        self._fixture_contracts = tuple(self.contracts)  # archiving ends contracts; reset restores them
        self.cols = generated.columns
        self.currencies = generated.currencies
        self.pinned = generated.pinned
        self.customer_by_id: dict[str, int] = {}
        self.customer_by_alias: dict[str, int] = {}
        self._index_customers()
        self.metering = Metering(fixture.metrics)
        # Per contract, the metrics it bills (by index into the fixture's list).
        every = frozenset(range(len(fixture.metrics)))
        self.billed = [
            every if c.metrics is None else frozenset(map(self.metering.index.__getitem__, c.metrics))
            for c in self.contracts
        ]
        self.contract_by_id = {c.id: c.ordinal for c in self.contracts}
        size = len(self.cols)
        self.invoice_by_id = dict(zip(self.cols.ids, range(size), strict=True))
        self._code = index_code(size)
        self.by_customer: list[array] = groups_by(self.cols.customer, len(self.customers), self._code)
        self.by_contract: list[array] = groups_by(self.cols.contract, len(self.contracts), self._code)
        self._orderings: dict[str, Ordering] = {}
        self._fixture_orderings: dict[str, Ordering] = {}  # built on the fixture's world: reset restores them
        self._by_id: Sequence[int] | None = None
        self._scopes: dict[tuple[str | None, int, str], Scope] = {}
        self._faker = Faker("en_US")
        self._body = lru_cache(maxsize=BODIES)(self._build)
        # The living part: what changed since the fixture's world, and the keys caches use.
        self.base_size = size
        self.seq = 0  # the sequence number of the last change applied
        self.tokens = array("q", range(size))
        self._next_token = size
        self._token_ordinal: dict[int, int] = {}
        self.as_of: dict[int, int] = {}  # when a changed invoice was last written
        self.touched: set[int] = set()  # invoices changed or added since the fixture's world
        self._fixture_cols: InvoiceColumns | None = None  # the fixture's columns, once written to
        self.frozen = False  # no change is applied to it any more: its copies change instead
        # What changes add beyond invoice columns; reset empties it all.
        self.usage: dict[int, dict[int, Aggregate]] = {}  # invoice -> metric -> aggregate
        self.voided_at: dict[int, int] = {}
        self.regenerated_from: dict[int, str] = {}
        self.ingested: dict[str, Remembered] = {}  # per API, the keys of events remembered
        self.pending = Pending()  # usage for customer ids and aliases no customer has yet
        self._customer_drafts: dict[int, list[int]] = {}
        # A customer's version changes with it or any of its invoices; values are never reused,
        # so that they can key caches across a reset. The epoch changes with any customer.
        self._versions = 0
        self.customer_version = [0] * len(self.customers)
        self.customer_epoch = 0
        self.status_counts = [0] * len(STATUSES)
        for code in self.cols.status:
            self.status_counts[code] += 1
        self.drafts, self.processing, self.periods = self._lifecycle_sets()
        self.faults: list[Rule] = list(fixture.faults)  # scripted faults; reset restores the fixture's
        self.faults_since = 0  # the seq of the change that last set them: their counters' epoch
        self.hooks = Hooks(fixture.webhooks)  # webhook endpoints and events; reset restores the fixture's

    @classmethod
    def from_fixture(cls, fixture: Fixture, progress: Progress | None = None) -> World:
        return cls(fixture, Generator(fixture, progress).run())

    def __getstate__(self) -> dict:
        """What a snapshot keeps: everything but caches (and the orderings' key functions)."""
        state = dict(self.__dict__)
        del state["_body"]
        state["_scopes"] = {}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("hooks", Hooks(self.fixture.webhooks))  # a snapshot from before webhooks
        self._body = lru_cache(maxsize=BODIES)(self._build)
        for orderings in (self._orderings, self._fixture_orderings):
            for key, ordering in orderings.items():
                ordering.sort_key = self.sort_key(key)

    def freeze(self) -> None:
        """Change no more (every change raises): a world whose copies are the ones that change,
        and share its columns as their fixture's instead of copying them again."""
        self.frozen = True

    def copy(self) -> World:
        """A world of its own in the same state, for a branch that is about to change: nothing
        is generated or sorted again. What no change writes is shared: the fixture, its
        customers as generated and its columns kept for reset, the id order, the fault rules
        (replaced whole by a change, so their counters carry on), and each ordering's base;
        every container a change writes is copied."""
        twin = copy.copy(self)
        twin.frozen = False
        if self.frozen and self._fixture_cols is None:
            twin._fixture_cols = self.cols  # never written again: the fixture's, for reset
        twin.customers = list(self.customers)
        twin.contracts = list(self.contracts)
        twin.cols = self.cols.copy()
        twin.currencies = list(self.currencies)
        twin.pinned = dict(self.pinned)
        twin.customer_by_id = dict(self.customer_by_id)
        twin.customer_by_alias = dict(self.customer_by_alias)
        twin.billed = list(self.billed)
        twin.contract_by_id = dict(self.contract_by_id)
        twin.invoice_by_id = dict(self.invoice_by_id)
        twin.by_customer = [array(self._code, group) for group in self.by_customer]
        twin.by_contract = [array(self._code, group) for group in self.by_contract]
        branched = {id(o): o.branch(twin.sort_key(key)) for key, o in self._orderings.items()}
        for key, o in self._fixture_orderings.items():
            branched.setdefault(id(o), o.branch(twin.sort_key(key)))
        twin._orderings = {key: branched[id(o)] for key, o in self._orderings.items()}
        twin._fixture_orderings = {key: branched[id(o)] for key, o in self._fixture_orderings.items()}
        twin._scopes = {}
        twin._body = lru_cache(maxsize=BODIES)(twin._build)
        twin.tokens = array("q", self.tokens)
        twin._token_ordinal = dict(self._token_ordinal)
        twin.as_of = dict(self.as_of)
        twin.touched = set(self.touched)
        twin.usage = {ordinal: copied(usage) for ordinal, usage in self.usage.items()}
        twin.voided_at = dict(self.voided_at)
        twin.regenerated_from = dict(self.regenerated_from)
        twin.ingested = {api: keys.copy() for api, keys in self.ingested.items()}
        twin.pending = self.pending.copy()
        twin._customer_drafts = {}
        twin.customer_version = list(self.customer_version)
        twin.status_counts = list(self.status_counts)
        twin.drafts, twin.processing = set(self.drafts), set(self.processing)
        twin.periods = dict(self.periods)
        twin.hooks = self.hooks.copy()
        return twin

    # entities

    def _index_customers(self) -> None:
        self.customer_by_id = {c.id: c.ordinal for c in self.customers}
        self.customer_by_alias = {}
        for customer in self.customers:
            for alias in customer.aliases:
                self.customer_by_alias.setdefault(alias, customer.ordinal)

    def customer_ordinal(self, id_or_alias: str) -> int | None:
        """An event's customer: its id, else one of its ingest aliases."""
        found = self.customer_by_id.get(id_or_alias)
        return self.customer_by_alias.get(id_or_alias) if found is None else found

    def invoice(self, ordinal: int) -> Invoice:
        """The invoice as it is now (its body is cached by its token)."""
        return self._body(self.tokens[ordinal])

    def ordinal_of(self, token: int) -> int:
        return token if token < self.base_size and self.tokens[token] == token else self._token_ordinal[token]

    def _build(self, token: int) -> Invoice:
        ordinal = self.ordinal_of(token)
        return self.compose(ordinal, self.usage.get(ordinal))

    def compose(
        self, ordinal: int, usage: dict[int, Aggregate] | None, amounts: Amounts | None = None
    ) -> Invoice:
        """An invoice from its columns, with `usage` metered on it and `amounts` (default: its
        columns'); a preview passes usage and amounts it would have."""
        cols = self.cols
        customer = self.customers[cols.customer[ordinal]]
        contract = self.contracts[cols.contract[ordinal]] if cols.contract[ordinal] >= 0 else None
        currency = self.currencies[cols.currency[ordinal]]
        return build_invoice(
            self.seed,
            self.as_of.get(ordinal, self.fixture.now),
            ordinal,
            cols,
            customer,
            contract,
            currency,
            self.number(ordinal),
            self.pinned.get(ordinal),
            self._faker,
            Written(
                self.usage_lines(ordinal, usage),
                self.voided_at.get(ordinal),
                self.regenerated_from.get(ordinal),
            ),
            amounts,
        )

    def usage_lines(self, ordinal: int, usage: dict[int, Aggregate] | None) -> tuple[Line, ...]:
        """The usage lines an invoice's metered usage bills."""
        if not usage:
            return ()
        cols = self.cols
        return self.metering.lines(
            self.seed,
            cols.ids[ordinal],
            usage,
            self.currencies[cols.currency[ordinal]],
            cols.period_start[ordinal],
            cols.period_end[ordinal],
        )

    def metered_total(self, ordinal: int, usage: dict[int, Aggregate] | None = None) -> int:
        """What an invoice's usage lines add to its subtotal (`usage`: other than its own)."""
        usage = self.usage.get(ordinal) if usage is None else usage
        return self.metering.total(usage, self.currencies[self.cols.currency[ordinal]]) if usage else 0

    def customer_drafts(self, customer: int) -> list[int]:
        """The customer's open drafts that the billing clock prices (pinned ones keep the
        fixture's amounts), in contract order: where its usage lands."""
        found = self._customer_drafts.get(customer)
        if found is None:
            cols = self.cols
            found = sorted(
                (
                    o
                    for o in self.by_customer[customer]
                    if cols.status[o] == _DRAFT and cols.coupon_pct[o] >= 0 and o not in self.pinned
                ),
                key=lambda o: (cols.contract[o], o),
            )
            self._customer_drafts[customer] = found
        return found

    def bump_customer(self, customer: int) -> None:
        """A new version for a customer whose data or invoices changed."""
        self._versions += 1
        if customer == len(self.customer_version):
            self.customer_version.append(self._versions)
        else:
            self.customer_version[customer] = self._versions

    def _lifecycle_sets(self) -> tuple[set[int], set[int], dict[int, int]]:
        """What a clock advance works on: the open drafts, the invoices whose payment is
        processing, and each running contract's current period (its draft that ends last, ties
        by id): the invoice at whose end the contract's next period opens."""
        cols = self.cols
        drafts = set(compress(range(len(cols)), map(_DRAFT.__eq__, cols.status)))
        processing = set(compress(range(len(cols)), map(_PROCESSING.__eq__, cols.payment_status)))
        periods: dict[int, int] = {}
        for ordinal in sorted(drafts, key=lambda o: (cols.period_end[o], cols.ids[o])):
            if cols.contract[ordinal] >= 0:
                periods[cols.contract[ordinal]] = ordinal
        return drafts, processing, periods

    # changes

    @contextmanager
    def changing(self, as_of: int) -> Iterator[Changing]:
        """Write invoices for one change; orderings, scopes and tokens follow when it closes."""
        if self.frozen:
            raise RuntimeError("a frozen world is not changed: change a copy of it")
        if self._fixture_cols is None:
            self._fixture_cols = self.cols.copy()
        change = Changing(self)
        yield change
        self._commit(change, as_of)

    def _commit(self, change: Changing, as_of: int) -> None:
        written = change.written
        if self.hooks.endpoints:  # a world without endpoints observes nothing
            self.hooks.observe(written, change.first_new)
        touched_customers = set()
        for ordinal in written:
            token = self._next_token
            self._next_token += 1
            self._token_ordinal.pop(self.tokens[ordinal], None)
            self.tokens[ordinal] = token
            self._token_ordinal[token] = ordinal
            self.as_of[ordinal] = as_of
            touched_customers.add(self.cols.customer[ordinal])
        self.touched |= written.keys()
        status = self.cols.status
        for key, ordering in self._orderings.items():
            columns = KEY_COLUMNS[key] | {"status"}
            moved = [
                (
                    ordinal,
                    status[ordinal],
                    ordinal >= ordering.size or not fields.isdisjoint(KEY_COLUMNS[key]),
                )
                for ordinal, fields in written.items()
                if ordinal >= ordering.size or not fields.isdisjoint(columns)
            ]
            if moved:
                ordering.follow(moved)
        contracts = {self.cols.contract[o] for o in written} - {-1}
        touched_customers |= change.customers
        if change.customers:
            self.customer_epoch += 1
        for customer in touched_customers:
            self.bump_customer(customer)
        self._follow_scopes(written, touched_customers, contracts)

    def reset(self) -> None:
        """Back to the fixture's world: its clock, faults, customers, columns, usage, orderings and scopes."""
        self.now = self.fixture.now
        self.faults = list(self.fixture.faults)
        self.hooks = Hooks(self.fixture.webhooks)
        self.usage.clear()
        self.voided_at.clear()
        self.regenerated_from.clear()
        self.ingested.clear()
        self.pending.clear()
        self.contracts[:] = self._fixture_contracts
        self._customer_drafts.clear()
        fixture_customers = self._fixture_customers
        if len(self.customers) != len(fixture_customers) or any(
            now is not then for now, then in zip(self.customers, fixture_customers, strict=False)
        ):
            for ordinal, customer in enumerate(self.customers):
                if ordinal >= len(fixture_customers) or customer is not fixture_customers[ordinal]:
                    self._scopes = {k: v for k, v in self._scopes.items() if k[:2] != ("customer", ordinal)}
                    if ordinal < len(fixture_customers):
                        self.bump_customer(ordinal)
            self.customers[:] = fixture_customers
            del self.by_customer[len(fixture_customers) :]
            del self.customer_version[len(fixture_customers) :]
            self._index_customers()
            self.customer_epoch += 1
        if not self.touched:
            return
        for ordinal in self.touched:
            if ordinal < self.base_size:
                self.tokens[ordinal] = ordinal
            else:
                del self.invoice_by_id[self.cols.ids[ordinal]]
        del self.tokens[self.base_size :]
        original = self._fixture_cols
        assert original is not None
        for name, column in original.__dict__.items():
            getattr(self.cols, name)[:] = column
        self._token_ordinal.clear()
        self.as_of.clear()
        for groups in (self.by_customer, self.by_contract):
            for group in groups:
                if group and group[-1] >= self.base_size:
                    del group[bisect_left(group, self.base_size) :]
        for customer in {self.cols.customer[o] for o in self.touched if o < self.base_size}:
            self.bump_customer(customer)
        self.touched.clear()
        self._orderings = dict(self._fixture_orderings)
        if self._by_id is not None:
            self._by_id = array(self._code, (o for o in self._by_id if o < self.base_size))
        for ordering in self._orderings.values():
            ordering.reset()
        self._scopes.clear()
        self.status_counts = [0] * len(STATUSES)
        for code in self.cols.status:
            self.status_counts[code] += 1
        self.drafts, self.processing, self.periods = self._lifecycle_sets()


class Changing:
    """The invoices one change writes and adds, gathered so that the indexes follow once."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.written: dict[int, set[str]] = {}
        self.customers: set[int] = set()  # customers added or replaced
        self.first_new = len(world.cols.ids)  # invoices from this ordinal on are added by it

    def set(self, ordinal: int, **values: int) -> None:
        """Write columns of an existing invoice."""
        world, cols = self.world, self.world.cols
        status = values.get("status")
        if status is not None and status != cols.status[ordinal]:
            self._count(cols.status[ordinal], -1, ordinal)
            self._count(status, 1, ordinal)
        for key, ordering in world._orderings.items():
            if not KEY_COLUMNS[key].isdisjoint(values):
                ordering.freeze(ordinal)
        payment = values.get("payment_status")
        if payment is not None:
            (world.processing.add if payment == _PROCESSING else world.processing.discard)(ordinal)
        for name, value in values.items():
            getattr(cols, name)[ordinal] = value
        self.written.setdefault(ordinal, set()).update(values)

    def add(self, invoice_id: str, **values: int) -> int:
        """A new invoice: every column but `ids` given by name. Returns its ordinal."""
        world, cols = self.world, self.world.cols
        if values.keys() != cols.__dict__.keys() - {"ids"}:
            raise ValueError(f"a new invoice needs every column; got {sorted(values)}")
        ordinal = len(cols)
        cols.ids.append(invoice_id)
        for name, value in values.items():
            getattr(cols, name).append(value)
        world.invoice_by_id[invoice_id] = ordinal
        world.tokens.append(-1)
        world.by_customer[values["customer"]].append(ordinal)
        if values["contract"] >= 0:
            world.by_contract[values["contract"]].append(ordinal)
        self._count(values["status"], 1, ordinal)
        if values["payment_status"] == _PROCESSING:
            world.processing.add(ordinal)
        self.written[ordinal] = set(values)
        return ordinal

    def usage(self, ordinal: int) -> dict[int, Aggregate]:
        """An invoice's usage, to count events into (`Metering.add`); its amounts are priced after."""
        self.written.setdefault(ordinal, set())
        return self.world.usage.setdefault(ordinal, {})

    def note(self, ordinal: int, voided_at: int | None = None, regenerated_from: str | None = None) -> None:
        """When an invoice was voided, or which invoice it was regenerated from."""
        world = self.world
        if voided_at is not None:
            world.voided_at[ordinal] = voided_at
        if regenerated_from is not None:
            world.regenerated_from[ordinal] = regenerated_from
        self.written.setdefault(ordinal, set())

    def customer(self, customer: Customer) -> None:
        """Add a customer (its ordinal is the next one) or replace one. Its invoices are
        written too: they carry its name, aliases and addresses."""
        world = self.world
        ordinal = customer.ordinal
        if ordinal == len(world.customers):
            world.customers.append(customer)
            world.by_customer.append(array(world._code))
        else:
            old = world.customers[ordinal]
            for alias in old.aliases:
                if world.customer_by_alias.get(alias) == ordinal:
                    del world.customer_by_alias[alias]
            renamed = customer.name != old.name
            for invoice in world.by_customer[ordinal]:
                if renamed:
                    self.set(invoice, customer=ordinal)  # its place in customer-name order moves
                else:
                    self.written.setdefault(invoice, set())
            world.customers[ordinal] = customer
        world.customer_by_id[customer.id] = ordinal
        for alias in customer.aliases:
            world.customer_by_alias.setdefault(alias, ordinal)
        self.customers.add(ordinal)

    def _count(self, status: int, delta: int, ordinal: int) -> None:
        world = self.world
        world.status_counts[status] += delta
        if status == _DRAFT:
            (world.drafts.add if delta > 0 else world.drafts.discard)(ordinal)
            world._customer_drafts.pop(world.cols.customer[ordinal], None)
