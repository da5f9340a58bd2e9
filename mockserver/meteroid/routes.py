"""The Meteroid-style endpoints: list and get invoices, list and get customers, each request
served in the dialect it asks for (see `dialect.chooser`)."""

from __future__ import annotations

from functools import lru_cache

from aiohttp import hdrs, web
from multidict import MultiDict

from mockserver.meteroid import params
from mockserver.meteroid.dialect import DIALECT_HEADER, DIALECTS, chooser
from mockserver.meteroid.errors import not_found
from mockserver.meteroid.openapi import operations
from mockserver.meteroid.view import MeteroidView, view_of
from mockserver.meteroid.writes import MeteroidWrites
from mockserver.shell import openapi
from mockserver.shell.app import json_headers, json_response
from mockserver.shell.pages import pages
from mockserver.shell.querystring import Pairs, known_pairs
from mockserver.world.query import InvoiceQuery, Plan
from mockserver.world.timeline import Timeline

PARSED_QUERIES = 4096
# What a response depends on besides its URL: caches must not hand one client's spelling to another.
VARY = f"{DIALECT_HEADER}, {hdrs.USER_AGENT}"


def invoice_query(view: MeteroidView, request: params.InvoiceList) -> InvoiceQuery | None:
    """The neutral query of a parsed request; None when an unknown customer or subscription
    rules out every invoice."""
    customer = contract = None
    if request.customer is not None:
        customer = view.customer_ordinal(request.customer)
        if customer is None:
            return None
    if request.subscription is not None:
        contract = view.world.contract_by_id.get(request.subscription)
        if contract is None:
            return None
    return InvoiceQuery(
        customer=customer,
        contract=contract,
        statuses=request.statuses,
        order=request.order,
        descending=request.descending,
    )


class Served:
    """One dialect as the routes serve it: its view, its parsed queries and its response
    headers, which name the dialect so that a client can see which spelling it got."""

    def __init__(self, view: MeteroidView) -> None:
        self.view = view
        self.headers = json_headers((DIALECT_HEADER, view.dialect.name), (hdrs.VARY, VARY))
        self.invoice_plan = lru_cache(maxsize=PARSED_QUERIES)(self._invoice_plan)

    def _invoice_plan(self, pairs: Pairs, seq: int) -> tuple[Plan | None, params.Paging]:
        """Cached by the known parameters as sent (clients repeat their filters page after
        page) and by the world's last change, after which a plan is made again."""
        parsed = params.invoice_list(MultiDict(pairs), self.view.dialect)
        query = invoice_query(self.view, parsed)
        return (None if query is None else Plan(self.view.world, query)), parsed.paging


def build_routes(timeline: Timeline, default_dialect: str) -> list[web.RouteDef]:
    """The routes over the timeline's world, in every dialect; `default_dialect` for requests
    that choose none. They are the operations of the API's document (see `openapi.operations`)."""
    world = timeline.world
    choose = chooser({name: Served(view_of(world, name)) for name in DIALECTS}, default_dialect)

    async def list_invoices(request: web.Request) -> web.Response:
        served = choose(request.headers)
        pairs = known_pairs(request.rel_url, params.INVOICE_LIST_PARAMS)
        body = pages.page(
            served, world.seq, pairs, lambda: served.view.invoice_page(*served.invoice_plan(pairs, world.seq))
        )
        return json_response(body, headers=served.headers)

    async def get_invoice(request: web.Request) -> web.Response:
        served = choose(request.headers)
        ordinal = served.view.invoice_ordinal(request.match_info["invoice_id"])
        if ordinal is None:
            raise not_found("Invoice")
        return json_response(served.view.invoice_bytes(ordinal), headers=served.headers)

    async def list_customers(request: web.Request) -> web.Response:
        served = choose(request.headers)
        return json_response(
            served.view.customer_page(params.customer_list(request.query)), headers=served.headers
        )

    async def get_customer(request: web.Request) -> web.Response:
        served = choose(request.headers)
        ordinal = served.view.customer_ordinal(request.match_info["id_or_alias"])
        if ordinal is None:
            raise not_found("Customer")
        return json_response(served.view.customer_bytes(ordinal), headers=served.headers)

    return openapi.routes(
        "meteroid",
        operations(default_dialect),
        {
            "listInvoices": list_invoices,
            "getInvoice": get_invoice,
            "listCustomers": list_customers,
            "getCustomer": get_customer,
            **MeteroidWrites(timeline, choose).handlers(),
        },
    )
