"""The official `metronome-sdk`, with strict response validation, against a real server process."""

from __future__ import annotations

import datetime as dt

import metronome
import pytest
from metronome import Metronome

from mockserver.world.state import World
from tests.metronome.conftest import EDGES
from tests.support import TOKEN, running_server

UMBRELLA = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
ACME_ONE_OFF = "9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
# The upstream vocabulary, written out independently of the facade.
STATUS = {"DRAFT": {"draft"}, "FINALIZED": {"finalized", "uncollectible"}, "VOID": {"void"}}
TYPE = {
    "USAGE": {"usage", "usage_threshold"},
    "USAGE_CONSOLIDATED": {"usage_consolidated"},
    "SCHEDULED": {"scheduled", "one_off", "adjustment"},
}


def oracle(world: World, customer: str, **filters) -> list[str]:
    """Brute force over whole invoices: what the list must return, in order."""
    found = []
    for ordinal in world.by_customer[world.customer_by_id[customer]]:
        invoice = world.invoice(ordinal)
        if "status" in filters and invoice.status not in STATUS[filters["status"]]:
            continue
        if "type" in filters and invoice.kind not in TYPE[filters["type"]]:
            continue
        if "currency" in filters and invoice.currency != filters["currency"]:
            continue
        if "contract_id" in filters and invoice.contract.id != filters["contract_id"]:
            continue
        if "start" in filters and invoice.period_start < filters["start"]:
            continue
        if "end" in filters and invoice.period_end > filters["end"]:
            continue
        found.append(invoice)
    found.sort(key=lambda i: (i.issued_at, i.id), reverse=filters.get("descending", False))
    return [i.id for i in found]


def epoch(year: int, month: int, day: int = 1) -> int:
    return int(dt.datetime(year, month, day, tzinfo=dt.UTC).timestamp())


@pytest.fixture(scope="module")
def usd(sdk: Metronome) -> str:
    first = sdk.v1.customers.invoices.list(customer_id=UMBRELLA, limit=1).data[0]
    assert first.credit_type.name == "USD (cents)"
    return first.credit_type.id


@pytest.mark.parametrize("limit", [1, 7, 100])
def test_auto_pagination_returns_every_invoice_once_in_order(sdk, default_world, limit) -> None:
    expected = oracle(default_world, UMBRELLA)
    assert len(expected) > 250
    assert [
        invoice.id for invoice in sdk.v1.customers.invoices.list(customer_id=UMBRELLA, limit=limit)
    ] == expected
    pages = list(sdk.v1.customers.invoices.list(customer_id=UMBRELLA, limit=limit).iter_pages())
    assert [invoice.id for page in pages for invoice in page.data] == expected
    assert all(page.next_page for page in pages[:-1]) and pages[-1].next_page is None
    assert len(pages) == -(-len(expected) // limit)


def test_date_desc(sdk, default_world) -> None:
    found = [i.id for i in sdk.v1.customers.invoices.list(customer_id=UMBRELLA, sort="date_desc", limit=50)]
    assert found == oracle(default_world, UMBRELLA, descending=True)


@pytest.mark.parametrize("status", ["DRAFT", "FINALIZED", "VOID"])
def test_status_filter(sdk, default_world, status) -> None:
    found = [i.id for i in sdk.v1.customers.invoices.list(customer_id=UMBRELLA, status=status, limit=100)]
    assert found == oracle(default_world, UMBRELLA, status=status) and found


@pytest.mark.parametrize("kind", ["USAGE", "USAGE_CONSOLIDATED", "SCHEDULED"])
def test_type_filter(sdk, default_world, kind) -> None:
    found = list(sdk.v1.customers.invoices.list(customer_id=UMBRELLA, type=kind, limit=100))
    assert [i.id for i in found] == oracle(default_world, UMBRELLA, type=kind) and found
    assert {i.type for i in found} == {kind}


def test_credit_type_filter(sdk, default_world, usd) -> None:
    found = [
        i.id for i in sdk.v1.customers.invoices.list(customer_id=UMBRELLA, credit_type_id=usd, limit=100)
    ]
    assert found == oracle(default_world, UMBRELLA, currency="USD")
    assert list(sdk.v1.customers.invoices.list(customer_id=UMBRELLA, credit_type_id=UNKNOWN)) == []


def test_contract_filter(sdk, default_world) -> None:
    contract = "8c9d0e1f-2a3b-4c4d-8e5f-6a7b8c9d0e1f"
    found = [
        i.id for i in sdk.v1.customers.invoices.list(customer_id=UMBRELLA, contract_id=contract, limit=100)
    ]
    assert found == oracle(default_world, UMBRELLA, contract_id=contract) and found


@pytest.mark.parametrize(
    ("starting_on", "start"),
    [
        (dt.datetime(2024, 3, 1, tzinfo=dt.UTC), epoch(2024, 3)),  # sent as ...T00:00:00.000Z
        (
            dt.datetime(2024, 3, 1, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
            epoch(2024, 3),
        ),
        (dt.datetime(2024, 3, 1), epoch(2024, 3)),  # naive: UTC
        (dt.date(2024, 3, 1), epoch(2024, 3)),
        ("2024-02-29T19:00:00-05:00", epoch(2024, 3)),
        (dt.datetime(2024, 3, 1, 0, 0, 0, 1000, tzinfo=dt.UTC), epoch(2024, 3) + 1),
    ],
)
def test_starting_on_in_every_form(sdk, default_world, starting_on, start) -> None:
    found = [
        i.id for i in sdk.v1.customers.invoices.list(customer_id=UMBRELLA, starting_on=starting_on, limit=100)
    ]
    assert found == oracle(default_world, UMBRELLA, start=start) and found


def test_billing_period_window(sdk, default_world) -> None:
    found = list(
        sdk.v1.customers.invoices.list(
            customer_id=UMBRELLA,
            starting_on=dt.date(2024, 1, 1),
            ending_before=dt.date(2025, 1, 1),
            limit=100,
        )
    )
    assert [i.id for i in found] == oracle(default_world, UMBRELLA, start=epoch(2024, 1), end=epoch(2025, 1))
    assert found[0].start_timestamp == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert max(i.end_timestamp for i in found) == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def test_every_filter_at_once(sdk, default_world, usd) -> None:
    contract = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d"
    found = list(
        sdk.v1.customers.invoices.list(
            customer_id=UMBRELLA,
            status="FINALIZED",
            type="USAGE",
            credit_type_id=usd,
            contract_id=contract,
            starting_on=dt.datetime(2021, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            ending_before="2025-06-01T00:00:00Z",
            sort="date_desc",
            skip_zero_qty_line_items=True,
            include_historical_commit_invoices=False,
            webhook_notification_id="wh_123",
            limit=3,
        )
    )
    expected = oracle(
        default_world,
        UMBRELLA,
        status="FINALIZED",
        type="USAGE",
        currency="USD",
        contract_id=contract,
        start=epoch(2021, 1),
        end=epoch(2025, 6),
        descending=True,
    )
    assert [i.id for i in found] == expected and len(expected) > 3
    assert all(line.quantity != 0 for i in found for line in i.line_items if line.quantity is not None)


def test_retrieve(sdk) -> None:
    invoice = sdk.v1.customers.invoices.retrieve(customer_id=ACME, invoice_id=ACME_ONE_OFF).data
    assert (invoice.id, invoice.customer_id, invoice.status, invoice.type) == (
        ACME_ONE_OFF,
        ACME,
        "FINALIZED",
        "SCHEDULED",
    )
    assert [line.quantity for line in invoice.line_items if line.type != "applied_commit_or_credit"] == [
        2,
        1,
        0,
    ]
    skipped = sdk.v1.customers.invoices.retrieve(
        customer_id=ACME, invoice_id=ACME_ONE_OFF, skip_zero_qty_line_items=True
    ).data
    assert [line.name for line in skipped.line_items if line.type != "applied_commit_or_credit"] == [
        "Onboarding workshop",
        "Travel",
    ]
    assert skipped.total == invoice.total
    assert invoice.external_invoice is not None and invoice.external_invoice.billing_provider_type == "stripe"


def test_list_and_retrieve_customers(sdk, default_world) -> None:
    active = [c.id for c in default_world.customers if c.archived_at is None]
    archived = [c.id for c in default_world.customers if c.archived_at is not None]
    assert [c.id for c in sdk.v1.customers.list(limit=4)] == active
    assert [c.id for c in sdk.v1.customers.list(only_archived=True)] == archived and archived
    assert [c.id for c in sdk.v1.customers.list(customer_ids=[UMBRELLA, ACME, UNKNOWN])] == [ACME, UMBRELLA]
    assert [c.name for c in sdk.v1.customers.list(ingest_alias="umbrella")] == ["Umbrella Analytics"]
    umbrella = sdk.v1.customers.retrieve(customer_id=UMBRELLA).data
    assert (umbrella.name, umbrella.ingest_aliases, umbrella.archived_at) == (
        "Umbrella Analytics",
        ["umbrella"],
        None,
    )
    gone = sdk.v1.customers.retrieve(customer_id=archived[0]).data
    assert gone.archived_at is not None and gone.current_billable_status.value == "unbillable"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"limit": 101}, "limit must be an integer from 1 to 100, got '101'"),
        ({"limit": 0}, "limit must be an integer from 1 to 100, got '0'"),
        ({"status": "PAID"}, "status must be one of DRAFT, FINALIZED, VOID, got 'PAID'"),
        ({"next_page": "forged"}, "next_page is not a cursor this server issued"),
        ({"credit_type_id": "USD"}, "credit_type_id must be a UUID, got 'USD'"),
        ({"contract_id": "main"}, "contract_id must be a UUID, got 'main'"),
        ({"starting_on": "last tuesday"}, None),
    ],
)
def test_bad_requests_raise_bad_request_error(sdk, call, message) -> None:
    with pytest.raises(metronome.BadRequestError) as caught:
        sdk.v1.customers.invoices.list(customer_id=UMBRELLA, **call)
    assert caught.value.status_code == 400
    assert set(caught.value.body) == {"message"}
    if message is not None:
        assert caught.value.body["message"] == message


def test_a_cursor_reused_with_other_filters_raises_bad_request(sdk) -> None:
    cursor = sdk.v1.customers.invoices.list(customer_id=UMBRELLA, limit=5).next_page
    with pytest.raises(metronome.BadRequestError, match="different filters"):
        sdk.v1.customers.invoices.list(customer_id=UMBRELLA, limit=5, status="VOID", next_page=cursor)


def test_not_found(sdk) -> None:
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.customers.invoices.list(customer_id=UNKNOWN)
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.customers.invoices.retrieve(customer_id=UMBRELLA, invoice_id=UNKNOWN)
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.customers.invoices.retrieve(customer_id=UMBRELLA, invoice_id=ACME_ONE_OFF)
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.customers.retrieve(customer_id=UNKNOWN)


def test_authentication_error(sdk, edge_sdk) -> None:
    with pytest.raises(metronome.AuthenticationError):
        sdk.with_options(default_headers={"Authorization": "Basic dXNlcg=="}).v1.customers.list()
    with pytest.raises(metronome.AuthenticationError):
        edge_sdk.with_options(bearer_token="not-the-token").v1.customers.list()
    assert edge_sdk.v1.customers.list().data


def test_another_process_on_the_same_fixture_continues_the_walk(edge_sdk) -> None:
    edge = "e0000000-0000-4000-8000-000000000001"
    whole = [i.id for i in edge_sdk.v1.customers.invoices.list(customer_id=edge, limit=100)]
    first = edge_sdk.v1.customers.invoices.list(customer_id=edge, limit=4)
    assert first.next_page
    with running_server(EDGES) as other_base:
        other = Metronome(
            bearer_token=TOKEN, base_url=other_base, max_retries=0, _strict_response_validation=True
        )
        rest = other.v1.customers.invoices.list(customer_id=edge, limit=4, next_page=first.next_page)
        assert [i.id for i in first.data] + [i.id for i in rest] == whole
