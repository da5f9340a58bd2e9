"""The official `meteroid` SDK against a real server process started as shipped (no
`--dialect`): the SDK is served the upstream spelling it speaks, other clients of the same
server the documented one, and either can ask for the other."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
from meteroid import AsyncMeteroid, Meteroid
from meteroid.errors import AuthenticationError, BadRequestError, NotFoundError
from meteroid.models import InvoicePaymentStatus, InvoiceStatus, InvoiceType, RestErrorResponse

from mockserver.world.ids import to_base62_id
from tests.meteroid.helpers import AUTH, expected_customers, expected_ids, uuid_of
from tests.support import TOKEN, running_server

ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
UMBRELLA_SUPPORT = "8c9d0e1f-2a3b-4c4d-8e5f-6a7b8c9d0e1f"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with running_server(None) as base:
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


def test_every_enum_value_is_one_the_sdk_declares(client):
    """The SDK keeps an unknown value as received, so a wrong spelling would decode silently."""
    for invoice in client.invoices.list(per_page=100):
        assert invoice.status in set(InvoiceStatus)
        assert invoice.payment_status in set(InvoicePaymentStatus)
        assert invoice.invoice_type in set(InvoiceType)


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
        lambda: client.invoices.list(statuses=["Draft"]),  # the documented spelling, not the SDK's
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


# --- one server, both spellings ------------------------------------------------------------------

SDK_AGENT = "meteroid-python/0.30.1"


@dataclass
class Reply:
    status: int
    content_type: str
    dialect: str | None  # the `Meteroid-Dialect` it was served in
    body: bytes


def raw_get(base_url: str, path: str, **headers: str) -> Reply:
    """A request as a client other than the SDK sends it."""
    request = urllib.request.Request(f"{base_url}{path}", headers={**AUTH, **headers})
    try:
        response = urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        sent = response.headers
        return Reply(response.status, sent.get_content_type(), sent["Meteroid-Dialect"], response.read())


def statuses_of(body: bytes) -> set[str]:
    return {invoice["status"] for invoice in orjson.loads(body)["data"]}


def test_a_documented_client_of_the_same_server_keeps_its_spelling(client, base_url):
    query = "?statuses=Finalized&statuses=Void&order_by=invoice_number.asc&per_page=50"
    reply = raw_get(base_url, f"/api/v1/invoices{query}")
    assert (reply.status, reply.content_type, reply.dialect) == (200, "application/json", "documented")
    documents = orjson.loads(reply.body)["data"]
    assert {d["status"] for d in documents} == {"Finalized", "Void"}
    assert all(d["created_at"].endswith("Z") for d in documents)
    listed = client.invoices.list(
        statuses=[InvoiceStatus.FINALIZED, InvoiceStatus.VOID], order_by="invoice_number.asc", per_page=50
    ).items
    assert [d["id"] for d in documents] == [invoice.id for invoice in listed]
    assert {invoice.status for invoice in listed} == {InvoiceStatus.FINALIZED, InvoiceStatus.VOID}
    reply = raw_get(base_url, f"/api/v1/invoices/{listed[0].id}")
    assert reply.dialect == "documented" and orjson.loads(reply.body)["status"] in ("Finalized", "Void")


@pytest.mark.parametrize(
    ("agent", "asked", "spelled"),
    [("Python-urllib/3", "upstream", "FINALIZED"), (SDK_AGENT, "documented", "Finalized")],
)
def test_the_header_chooses_the_spelling_whoever_asks(base_url, agent, asked, spelled):
    path = f"/api/v1/invoices?statuses={spelled}&per_page=5"
    reply = raw_get(base_url, path, **{"User-Agent": agent, "Meteroid-Dialect": asked})
    assert (reply.status, reply.dialect) == (200, asked) and statuses_of(reply.body) == {spelled}
    assert raw_get(base_url, path, **{"User-Agent": agent}).status == 400


def test_the_sdk_can_name_its_dialect_too(base_url):
    with Meteroid(
        api_key=TOKEN, base_url=base_url, max_retries=0, default_headers={"Meteroid-Dialect": "documented"}
    ) as documented:
        listed = documented.invoices.list(statuses=["Void"], per_page=5).items
    assert listed and {invoice.status for invoice in listed} == {"Void"}


def test_a_status_in_the_other_spelling_names_the_header_that_asks_for_it(client, base_url):
    with pytest.raises(BadRequestError) as raised:
        client.invoices.list(statuses=["Finalized"])
    assert raised.value.raw_body.decode().endswith(
        "; `Finalized` is the documented spelling: send `Meteroid-Dialect: documented` to use it"
    )
    reply = raw_get(base_url, "/api/v1/invoices?statuses=FINALIZED")
    assert (reply.status, reply.content_type) == (400, "text/plain")
    assert reply.body.decode() == (
        "Failed to deserialize query string: unknown variant `FINALIZED`, expected one of `Draft`, "
        "`Finalized`, `Uncollectible`, `Void`; `FINALIZED` is the upstream spelling: "
        "send `Meteroid-Dialect: upstream` to use it"
    )


def test_an_unknown_dialect_is_a_json_400(base_url):
    reply = raw_get(base_url, "/api/v1/customers/acme", **{"Meteroid-Dialect": "pascal"})
    assert (reply.status, reply.content_type) == (400, "application/json")
    assert orjson.loads(reply.body) == {
        "code": "BAD_REQUEST",
        "message": "Invalid Meteroid-Dialect header 'pascal': expected documented or upstream",
    }
