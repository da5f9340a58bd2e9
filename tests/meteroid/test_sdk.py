"""The official `meteroid` SDK against a real server process, in the upstream dialect."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from meteroid import AsyncMeteroid, Meteroid
from meteroid.errors import AuthenticationError, BadRequestError, NotFoundError
from meteroid.models import InvoiceStatus, RestErrorResponse

from mockserver.world.ids import to_base62_id
from tests.meteroid.helpers import expected_customers, expected_ids, uuid_of
from tests.support import TOKEN, running_server

ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
UMBRELLA_SUPPORT = "8c9d0e1f-2a3b-4c4d-8e5f-6a7b8c9d0e1f"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_server(None, "--dialect", "upstream") as base:
        yield base


@pytest.fixture(scope="module")
def client(base_url) -> Iterator[Meteroid]:
    with Meteroid(api_key=TOKEN, base_url=base_url, max_retries=0) as sdk:
        yield sdk


def ids(invoices) -> list[str]:
    return [uuid_of("inv_", invoice.id) for invoice in invoices]


@pytest.mark.parametrize("per_page", [1, 7, 100])
def test_iterating_walks_every_page_once_in_order(client, default_world, per_page):
    first = client.invoices.list(customer_id="acme", order_by="invoice_number.asc", per_page=per_page)
    expected = expected_ids(default_world, customer=ACME, order="invoice_number.asc")
    assert ids(first) == expected
    pages = list(first.iter_pages())
    assert len(pages) == -(-len(expected) // per_page)
    assert [page.pagination_meta.page for page in pages] == list(range(len(pages)))


@pytest.mark.parametrize("per_page", [7, 100])
def test_iterating_the_whole_world(client, default_world, per_page):
    assert ids(client.invoices.list(per_page=per_page)) == expected_ids(default_world)


def test_statuses(client, default_world):
    listed = client.invoices.list(statuses=[InvoiceStatus.DRAFT, InvoiceStatus.VOID], per_page=50)
    assert ids(listed) == expected_ids(default_world, statuses=("draft", "void"))
    assert {invoice.status for invoice in listed} == {InvoiceStatus.DRAFT, InvoiceStatus.VOID}


def test_customer_by_id_and_alias(client, default_world):
    expected = expected_ids(default_world, customer=ACME, order="amount.desc")
    for value in (to_base62_id("cus_", ACME), "acme"):
        assert ids(client.invoices.list(customer_id=value, order_by="amount.desc", per_page=100)) == expected
    assert list(client.invoices.list(customer_id="nobody")) == []


def test_subscription(client, default_world):
    listed = client.invoices.list(subscription_id=to_base62_id("sub_", UMBRELLA_SUPPORT), per_page=100)
    assert ids(listed) == expected_ids(default_world, contract=UMBRELLA_SUPPORT)
    assert listed.pagination_meta.total_items > 0


def test_retrieve_returns_the_listed_invoice(client):
    for invoice in client.invoices.list(per_page=5, order_by="payment_status.asc").items:
        assert client.invoices.retrieve(invoice.id) == invoice
        assert invoice.tax_inclusive is False and invoice.custom_properties == {}
        assert all(tx.amount_refunded == tx.amount_reversed == 0 for tx in invoice.transactions)


def test_customers(client, default_world):
    listed = list(client.customers.list(per_page=4, order_by="name.asc"))
    assert [uuid_of("cus_", c.id) for c in listed] == expected_customers(default_world, "name.asc")
    acme = client.customers.retrieve("acme")
    assert acme == client.customers.retrieve(to_base62_id("cus_", ACME))
    assert acme.name == "Acme Corporation" and acme.billing_address.country == "US"
    assert [c.name for c in client.customers.list(search="umbrella")] == ["Umbrella Analytics"]


def test_bad_requests_raise_bad_request_error(client):
    with pytest.raises(BadRequestError) as raised:
        client.invoices.list(order_by="total.desc")
    assert isinstance(raised.value.body, RestErrorResponse) and raised.value.body.code == "BAD_REQUEST"
    for call in (
        lambda: client.invoices.list(per_page=0),
        lambda: client.invoices.list(page=-1),
        lambda: client.invoices.list(statuses=["Draft"]),  # the documented spelling, not this server's
        lambda: client.invoices.list(subscription_id="sub_?"),
    ):
        with pytest.raises(BadRequestError) as raised:
            call()
        assert raised.value.body is None  # a text/plain body
        assert raised.value.raw_body.startswith((b"Failed to deserialize query string: ", b"pagination."))


def test_not_found(client):
    with pytest.raises(NotFoundError) as raised:
        client.invoices.retrieve(to_base62_id("inv_", "00000000-0000-4000-8000-000000000000"))
    assert raised.value.body == RestErrorResponse(code="NOT_FOUND", message="Invoice not found")
    with pytest.raises(NotFoundError):
        client.customers.retrieve("nobody")


def test_a_missing_key_raises_authentication_error(base_url):
    with (
        Meteroid(api_key="", base_url=base_url, max_retries=0) as anonymous,
        pytest.raises(AuthenticationError) as raised,
    ):
        anonymous.invoices.list()
    assert raised.value.body.code == "UNAUTHORIZED"


async def test_the_async_client_iterates_too(base_url, default_world):
    async with AsyncMeteroid(api_key=TOKEN, base_url=base_url, max_retries=0) as sdk:
        found = [invoice async for invoice in sdk.invoices.list(customer_id="globex", per_page=3)]
    assert ids(found) == expected_ids(default_world, customer="1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
