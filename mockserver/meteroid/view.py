"""The world as the Meteroid-style API sees it, in one dialect: id lookups and cached bytes.

One view per (world, dialect), shared by every app built on that world, so that an invoice
is rendered once per dialect however many apps or requests ask for it.
"""

from __future__ import annotations

import uuid
import weakref
from functools import lru_cache, partial

from mockserver.meteroid import render
from mockserver.meteroid.dialect import SDK_DIALECT, Dialect, dialect
from mockserver.meteroid.params import CustomerList, Paging
from mockserver.shell.jsonbytes import dumps_kept
from mockserver.world.ids import derive_uuid, from_base62_id, to_base62_id
from mockserver.world.query import Plan, page_at
from mockserver.world.state import World

CACHE_SIZE = 65_536

_VIEWS: weakref.WeakKeyDictionary[World, dict[str, MeteroidView]] = weakref.WeakKeyDictionary()


def view_of(world: World, dialect_name: str) -> MeteroidView:
    views = _VIEWS.setdefault(world, {})
    if dialect_name not in views:
        views[dialect_name] = MeteroidView(world, dialect(dialect_name))
    return views[dialect_name]


def _uuid_text(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


class MeteroidView:
    def __init__(self, world: World, spelling: Dialect) -> None:
        # A proxy, so that the views cached for a world do not keep it alive.
        self.world: World = weakref.proxy(world)
        self.dialect = spelling
        self._public_customer_id = lru_cache(maxsize=CACHE_SIZE)(partial(to_base62_id, "cus_"))
        self._subscription_ids: list[str | None] = [None] * len(world.contracts)
        self.invoicing_entity_id = to_base62_id(
            "ive_", derive_uuid(world.seed, "meteroid", "invoicing-entity")
        )
        # What follows the customers is kept for one epoch of them (see `World.customer_epoch`).
        self._epoch = -1
        self._by_alias: dict[str, int] = {}
        self._customer_orders: dict[tuple[str, bool], list[int]] = {}
        self._token_bytes = lru_cache(maxsize=CACHE_SIZE)(self._render_invoice)
        self.invoice_ordinal = lru_cache(maxsize=CACHE_SIZE)(self._invoice_ordinal)
        self._customer_bytes = lru_cache(maxsize=CACHE_SIZE)(self._render_customer)

    def _follow_customers(self) -> None:
        if self._epoch != self.world.customer_epoch:
            self._epoch = self.world.customer_epoch
            self._customer_orders = {}
            # A Meteroid customer has one alias: the first of the neutral customer's.
            self._by_alias = {}
            for customer in self.world.customers:
                if customer.alias is not None:
                    self._by_alias.setdefault(customer.alias, customer.ordinal)

    # ids

    def customer_id(self, ordinal: int) -> str:
        return self._public_customer_id(self.world.customers[ordinal].id)

    def subscription_id(self, ordinal: int) -> str | None:
        if ordinal < 0:
            return None
        rendered = self._subscription_ids[ordinal]
        if rendered is None:
            rendered = self._subscription_ids[ordinal] = to_base62_id(
                "sub_", self.world.contracts[ordinal].id
            )
        return rendered

    def customer_ordinal(self, id_or_alias: str) -> int | None:
        """A `cus_` value that decodes is an id; anything else is an alias, matched exactly."""
        if id_or_alias.startswith("cus_"):
            decoded = from_base62_id("cus_", id_or_alias)
            if decoded is not None:
                return self.world.customer_by_id.get(decoded)
        self._follow_customers()
        return self._by_alias.get(id_or_alias)

    def _invoice_ordinal(self, text: str) -> int | None:
        decoded = from_base62_id("inv_", text) if text.startswith("inv_") else _uuid_text(text)
        return None if decoded is None else self.world.invoice_by_id.get(decoded)

    # invoices

    def invoice_bytes(self, ordinal: int) -> bytes:
        """An invoice's bytes, cached by its token: a change that writes it gives it a new one."""
        return self._token_bytes(self.world.tokens[ordinal])

    def _render_invoice(self, token: int) -> bytes:
        world = self.world
        ordinal = world.ordinal_of(token)
        doc = render.invoice(
            world.seed,
            world.invoice(ordinal),
            self.dialect,
            self.customer_id(world.cols.customer[ordinal]),
            self.subscription_id(world.cols.contract[ordinal]),
        )
        return dumps_kept(doc)

    def invoice_page(self, plan: Plan | None, paging: Paging) -> bytes:
        """A page of invoices; `plan` None stands for a filter nothing can match."""
        if plan is None:
            items: list[int] = []
            total = 0
        else:
            found = page_at(plan, paging.offset, paging.per_page)
            items, total = found.items, found.total or 0
        tokens = self.world.tokens
        return render.list_body(
            list(map(self._token_bytes, map(tokens.__getitem__, items))), paging.meta(total)
        )

    # customers

    def customer_bytes(self, ordinal: int) -> bytes:
        """Cached by the customer's version: a change to it gives it a new one."""
        return self._customer_bytes(ordinal, self.world.customer_version[ordinal])

    def _render_customer(self, ordinal: int, version: int) -> bytes:
        customer = self.world.customers[ordinal]
        return dumps_kept(
            render.customer(
                customer,
                self.customer_id(ordinal),
                self.invoicing_entity_id,
                self.dialect.name == SDK_DIALECT,
            )
        )

    def _customers_in_order(self, key: str, archived: bool) -> list[int]:
        """Customers of one archive state by (key, id) ascending; a missing value sorts last."""
        self._follow_customers()
        cache_key = (key, archived)
        if cache_key not in self._customer_orders:
            members = [c for c in self.world.customers if (c.archived_at is not None) == archived]

            def sort_key(customer):
                value = getattr(customer, key)
                return (value is None, "" if value is None else value, customer.id)

            members.sort(key=sort_key)
            self._customer_orders[cache_key] = [c.ordinal for c in members]
        return self._customer_orders[cache_key]

    def customer_page(self, params: CustomerList) -> bytes:
        ordered = self._customers_in_order(params.order, params.archived)
        if params.search is not None:
            needle = params.search.casefold()
            customers = self.world.customers
            ordered = [
                i
                for i in ordered
                if needle in customers[i].name.casefold() or needle in (customers[i].alias or "").casefold()
            ]
        paging, total = params.paging, len(ordered)
        if params.descending:
            high = max(total - paging.offset, 0)
            window = ordered[max(high - paging.per_page, 0) : high][::-1]
        else:
            window = ordered[paging.offset : paging.offset + paging.per_page]
        return render.list_body(list(map(self.customer_bytes, window)), paging.meta(total))
