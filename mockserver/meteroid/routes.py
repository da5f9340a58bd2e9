"""The Meteroid-style endpoints: list and get invoices, list and get customers."""

from __future__ import annotations

from functools import lru_cache

from aiohttp import web
from multidict import MultiDict

from mockserver.meteroid import params
from mockserver.meteroid.errors import not_found
from mockserver.meteroid.view import MeteroidView
from mockserver.shell.app import json_response
from mockserver.shell.querystring import Pairs, known_pairs
from mockserver.world.query import InvoiceQuery, Plan

PARSED_QUERIES = 4096


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


def build_routes(view: MeteroidView) -> list[web.RouteDef]:
    @lru_cache(maxsize=PARSED_QUERIES)
    def parse_invoice_list(pairs: Pairs) -> tuple[Plan | None, params.Paging]:
        """Cached by the known parameters as sent: clients repeat their filters page after page."""
        parsed = params.invoice_list(MultiDict(pairs), view.dialect)
        query = invoice_query(view, parsed)
        return (None if query is None else Plan(view.world, query)), parsed.paging

    async def list_invoices(request: web.Request) -> web.Response:
        plan, paging = parse_invoice_list(known_pairs(request.rel_url, params.INVOICE_LIST_PARAMS))
        return json_response(view.invoice_page(plan, paging))

    async def get_invoice(request: web.Request) -> web.Response:
        ordinal = view.invoice_ordinal(request.match_info["invoice_id"])
        if ordinal is None:
            raise not_found("Invoice")
        return json_response(view.invoice_bytes(ordinal))

    async def list_customers(request: web.Request) -> web.Response:
        return json_response(view.customer_page(params.customer_list(request.query)))

    async def get_customer(request: web.Request) -> web.Response:
        ordinal = view.customer_ordinal(request.match_info["id_or_alias"])
        if ordinal is None:
            raise not_found("Customer")
        return json_response(view.customer_bytes(ordinal))

    return [
        web.get("/api/v1/invoices", list_invoices, name="meteroid.invoices.list"),
        web.get("/api/v1/invoices/{invoice_id}", get_invoice, name="meteroid.invoices.get"),
        web.get("/api/v1/customers", list_customers, name="meteroid.customers.list"),
        web.get("/api/v1/customers/{id_or_alias}", get_customer, name="meteroid.customers.get"),
    ]
