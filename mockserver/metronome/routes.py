"""The Metronome read endpoints (resolve the path, parse the query, page the world, join bytes),
served beside the write endpoints of `writes`."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from functools import lru_cache

from aiohttp import web

from mockserver.metronome import params
from mockserver.metronome.catalog import CreditTypes
from mockserver.metronome.errors import ApiError, bad_request, not_found
from mockserver.metronome.openapi import operations
from mockserver.metronome.render import Renderer, item_body, list_body
from mockserver.metronome.writes import MetronomeWrites
from mockserver.shell import openapi
from mockserver.shell.app import Settings, json_response
from mockserver.shell.cursor import CursorCodec, CursorError
from mockserver.shell.pages import pages
from mockserver.shell.querystring import Pairs, known_pairs
from mockserver.world.query import page_from
from mockserver.world.state import World
from mockserver.world.timeline import Timeline

EMPTY_LIST = list_body([], None)
PARSED_FILTERS = 4096


def cursor_secret(world: World) -> str:
    """The same for every process serving the same fixture text and seed, and only for those."""
    return f"metronome/{world.fixture.text_digest}/{world.seed}"


def _by_uuid(table: dict[str, int], name: str, text: str) -> int | None:
    """An id as sent, else its canonical UUID spelling (upper case is accepted); 400 if no UUID."""
    ordinal = table.get(text)
    return ordinal if ordinal is not None else table.get(params.parse_uuid(name, text))


class MetronomeApi:
    def __init__(self, timeline: Timeline, settings: Settings) -> None:
        world = self.world = timeline.world
        self.default_sort = settings.default_sort
        self.credit_types = CreditTypes(world.currencies)
        self.render = Renderer(world, self.credit_types)
        self.writes = MetronomeWrites(timeline, self.render)
        self.codec = CursorCodec(cursor_secret(world))
        self._listed: tuple[int, list[int], list[int]] = (-1, [], [])
        world.ordering("issued_at")  # paid for at load, not by the first request
        # A walk sends the same filters on every page: each customer's are parsed once.
        self.invoice_filters = lru_cache(maxsize=PARSED_FILTERS)(self._invoice_filters)

    def routes(self) -> list[web.RouteDef]:
        """The operations of the API's document (see `openapi.operations`), in its order."""
        return openapi.routes(
            "metronome",
            operations(self.default_sort),
            {
                "listInvoices": self.list_invoices,
                "listCustomers": self.list_customers,
                "getCustomer": self.get_customer,
                "invoiceBreakdowns": self.breakdowns,
                "getInvoice": self.get_invoice,
                **self.writes.handlers(),
            },
        )

    def listed(self, archived: bool) -> list[int]:
        """Active or archived customers in ordinal order, listed again after a customer changes."""
        world = self.world
        if self._listed[0] != world.customer_epoch:
            customers = world.customers
            self._listed = (
                world.customer_epoch,
                [c.ordinal for c in customers if c.archived_at is None],
                [c.ordinal for c in customers if c.archived_at is not None],
            )
        return self._listed[2 if archived else 1]

    # lookups

    def customer(self, request: web.Request) -> int:
        text = request.match_info["customer_id"]
        ordinal = _by_uuid(self.world.customer_by_id, "customer_id", text)
        if ordinal is None:
            raise not_found(f"customer {text} not found")
        return ordinal

    def cursor(
        self,
        token: str,
        filters: bytes,
        walked: Sequence[int],
        key: Callable[[int], tuple] | None = None,
        descending: bool = False,
    ) -> int:
        """Where a cursor's page starts in `walked`. A cursor holds the next page's first entity
        and its place in what is walked. Unless the world has changed, the entity is still at
        that place (else the cursor was not issued here); in a changed world its place is found
        again by its sort `key` (which no change moves), so that what was there before and
        after is walked once, in order."""
        try:
            entity, place = self.codec.decode(token, filters)
        except CursorError as exc:
            raise bad_request(f"next_page {exc}") from None
        if 0 <= place < len(walked) and walked[place] == entity:
            return place
        if key is None or not self.world.seq:
            raise bad_request("next_page is not a cursor this server issued")
        if not 0 <= entity < len(self.world):
            raise bad_request(
                "next_page points at an invoice this world no longer holds; start again without it"
            )
        place = bisect_left(walked, key(entity), key=key)
        found = place < len(walked) and walked[place] == entity
        return place if found or not descending else place - 1

    # invoices

    async def list_invoices(self, request: web.Request) -> web.Response:
        customer = self.customer(request)
        query = known_pairs(request.rel_url, params.INVOICE_LIST_PARAMS)
        return json_response(
            pages.page(self, self.world.seq, (customer, query), lambda: self.invoice_list(customer, query))
        )

    def invoice_list(self, customer: int, query: Pairs) -> bytes:
        """One page of a customer's invoices as response bytes; raises ApiError for a bad query."""
        cursor, given = params.split_invoice_list(query)
        wanted = self.invoice_filters(customer, self.world.customer_version[customer], given)
        plan = wanted.plan
        members = plan.scope.members
        start = None
        if cursor is not None:
            key = plan.ordering.sort_key
            start = self.cursor(cursor, wanted.filters, members, key, plan.query.descending)
        if wanted.matches_nothing:
            return EMPTY_LIST
        page = page_from(plan, start, wanted.limit)
        next_page = None
        if page.has_more:
            next_page = self.codec.encode(members[page.next_start], page.next_start, wanted.filters)
        if page.span is not None:
            return self.render.span_body(
                plan.scope, page.span, wanted.skip_zero, plan.query.descending, next_page
            )
        return list_body(self.render.items(page.items, wanted.skip_zero), next_page)

    def _invoice_filters(self, customer: int, version: int, given: Pairs) -> params.InvoiceListRequest:
        """Cached by the customer's version too: a change to its invoices sorts its scopes again."""
        return params.parse_invoice_filters(given, self.world, customer, self.credit_types, self.default_sort)

    async def get_invoice(self, request: web.Request) -> web.Response:
        customer = self.customer(request)
        text = request.match_info["invoice_id"]
        skip_zero = params.parse_invoice_get(known_pairs(request.rel_url, params.INVOICE_GET_PARAMS))
        ordinal = _by_uuid(self.world.invoice_by_id, "invoice_id", text)
        if ordinal is None or self.world.cols.customer[ordinal] != customer:
            raise not_found(f"invoice {text} not found for customer {self.world.customers[customer].id}")
        return json_response(item_body(self.render.invoice_bytes(ordinal, skip_zero)))

    async def breakdowns(self, request: web.Request) -> web.Response:
        self.customer(request)
        raise ApiError(
            404,
            "GET /v1/customers/{customer_id}/invoices/breakdowns is not emulated by this mock server; "
            "use GET /v1/customers/{customer_id}/invoices",
        )

    # customers

    async def get_customer(self, request: web.Request) -> web.Response:
        return json_response(item_body(self.render.customer_bytes(self.customer(request))))

    async def list_customers(self, request: web.Request) -> web.Response:
        return json_response(self.customer_list(known_pairs(request.rel_url, params.CUSTOMER_LIST_PARAMS)))

    def customer_list(self, query: Pairs) -> bytes:
        world = self.world
        wanted = params.parse_customer_list(query, world)
        if wanted.only is None:
            candidates = self.listed(wanted.archived)
        else:
            archived = wanted.archived
            customers = world.customers
            candidates = sorted(o for o in wanted.only if (customers[o].archived_at is not None) == archived)
        start = 0 if wanted.cursor is None else self.cursor(wanted.cursor, wanted.filters, candidates)
        salesforce = wanted.salesforce_ids
        found: list[int] = []
        next_page = None
        for index in range(start, len(candidates)):
            ordinal = candidates[index]
            if salesforce is not None and world.customers[ordinal].salesforce_account_id not in salesforce:
                continue
            if len(found) == wanted.limit:
                next_page = self.codec.encode(ordinal, index, wanted.filters)
                break
            found.append(ordinal)
        render = self.render.customer_bytes
        return list_body([render(o) for o in found], next_page)
