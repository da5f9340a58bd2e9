"""List and get invoices over HTTP, on a world whose billing periods sit on the filter boundaries."""

from __future__ import annotations

from typing import Any

import pytest
from yarl import URL

from mockserver.generation.fixture import load_world
from mockserver.metronome.catalog import credit_type_id
from mockserver.server import build_app
from mockserver.world.state import World
from tests.metronome.conftest import AUTH

EDGE = "e0000000-0000-4000-8000-000000000001"
OTHER = "e0000000-0000-4000-8000-000000000002"
GONE = "e0000000-0000-4000-8000-000000000003"
MAIN, ADDON = "c0000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002"
OTHER_CONTRACT = "c0000000-0000-4000-8000-000000000003"
# Pinned invoices (see fixtures/edges.yaml); periods are [start, end) and issued at the end.
A = "a0000000-0000-4000-8000-00000000000a"  # Jan, usage, finalized, a zero-quantity line
F = "f0000000-0000-4000-8000-00000000000f"  # Jan, usage_consolidated, add-on contract
B = "b0000000-0000-4000-8000-00000000000b"  # Feb, scheduled, credits and a coupon
G = "90000000-0000-4000-8000-000000000009"  # Feb, EUR
C = "c0000000-0000-4000-8000-00000000000c"  # 2025-03-10T12:00Z .. 2025-04-10T12:00Z, one_off
D = "d0000000-0000-4000-8000-00000000000d"  # Apr, void adjustment, add-on contract
E = "e0000000-0000-4000-8000-00000000000e"  # May, uncollectible usage_threshold
PINNED = [A, F, G, B, C, D, E]  # by issued_at, ties by id
LIST = f"/v1/customers/{EDGE}/invoices"


@pytest.fixture(scope="module")
def drafts(edge_world: World) -> list[str]:
    """The two generated June drafts (one per contract), in id order."""
    customer = edge_world.customer_by_id[EDGE]
    ids = [edge_world.cols.ids[i] for i in edge_world.by_customer[customer]]
    return sorted(i for i in ids if i not in PINNED)


async def fetch(client, path: str, **query: Any) -> tuple[int, Any]:
    response = await client.get(path, params=query)
    assert response.content_type == "application/json"
    return response.status, await response.json()


async def ids(client, path: str = LIST, **query: Any) -> list[str]:
    status, body = await fetch(client, path, **query)
    assert status == 200, body
    return [item["id"] for item in body["data"]]


async def walk(client, path: str = LIST, **query: Any) -> list[str]:
    """Every page, as the SDK walks them: same filters plus the last page's cursor."""
    seen, cursor = [], None
    while True:
        status, body = await fetch(client, path, **query, **({"next_page": cursor} if cursor else {}))
        assert status == 200, body
        seen += [item["id"] for item in body["data"]]
        cursor = body["next_page"]
        if cursor is None:
            return seen
        assert body["data"], "a page with a cursor must not be empty"


# --- order, sort and the default ----------------------------------------------------------------


async def test_default_order_is_issued_at_ascending_ties_by_id(edge_client, drafts) -> None:
    assert await ids(edge_client) == [*PINNED, *drafts]
    assert await ids(edge_client, sort="date_asc") == [*PINNED, *drafts]


async def test_date_desc_is_the_exact_reverse(edge_client, drafts) -> None:
    assert await ids(edge_client, sort="date_desc") == [*PINNED, *drafts][::-1]


async def test_a_fixture_may_switch_the_default_sort(aiohttp_client, edge_world, drafts) -> None:
    from mockserver.shell.app import Settings

    settings = Settings(default_sort="date_desc")
    client = await aiohttp_client(build_app(edge_world, settings), headers=AUTH)
    assert await ids(client) == [*PINNED, *drafts][::-1]
    assert await ids(client, sort="date_asc") == [*PINNED, *drafts]


# --- limit --------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "", "2.0"])
async def test_bad_limits_are_400_naming_the_range(edge_client, limit) -> None:
    status, body = await fetch(edge_client, LIST, limit=limit)
    assert status == 400
    assert body == {"message": f"limit must be an integer from 1 to 100, got {limit!r}"}


async def test_limit_1_gives_one_item_and_a_cursor(edge_client) -> None:
    status, body = await fetch(edge_client, LIST, limit=1)
    assert status == 200 and [i["id"] for i in body["data"]] == [A]
    assert isinstance(body["next_page"], str) and body["next_page"]


async def test_limit_100_gives_everything_and_a_null_cursor(edge_client, drafts) -> None:
    status, body = await fetch(edge_client, LIST, limit=100)
    assert status == 200 and [i["id"] for i in body["data"]] == [*PINNED, *drafts]
    assert "next_page" in body and body["next_page"] is None


async def test_default_limit_is_25(client, default_world) -> None:
    umbrella = default_world.customers[default_world.customer_by_alias["umbrella"]].id
    status, body = await fetch(client, f"/v1/customers/{umbrella}/invoices")
    assert status == 200 and len(body["data"]) == 25 and body["next_page"]


# --- pagination ---------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3, 8, 9, 10])
async def test_walking_every_page_returns_each_invoice_once_in_order(edge_client, drafts, limit) -> None:
    # 9 invoices: limit 3 and 9 end exactly on a page boundary, which must still close with null
    assert await walk(edge_client, limit=limit) == [*PINNED, *drafts]
    assert await walk(edge_client, limit=limit, sort="date_desc") == [*PINNED, *drafts][::-1]


async def test_filtered_walk(edge_client) -> None:
    assert await walk(edge_client, limit=2, status="FINALIZED", ending_before="2025-05-01") == [A, F, G, B, C]


async def test_a_cursor_survives_another_server_on_the_same_fixture(aiohttp_client, edge_world) -> None:
    first = await aiohttp_client(build_app(edge_world), headers=AUTH)
    _, page = await fetch(first, LIST, limit=3, status="FINALIZED")
    reloaded = load_world(edge_world.fixture.source)
    second = await aiohttp_client(build_app(reloaded), headers=AUTH)
    status, body = await fetch(second, LIST, limit=3, status="FINALIZED", next_page=page["next_page"])
    assert status == 200 and [i["id"] for i in body["data"]] == [B, C, E]


@pytest.mark.parametrize("sort", ["date_asc", "date_desc"])
async def test_the_page_size_may_change_mid_walk(edge_client, sort) -> None:
    everything = await ids(edge_client, sort=sort)
    _, first = await fetch(edge_client, LIST, limit=2, sort=sort)
    status, rest = await fetch(edge_client, LIST, limit=100, sort=sort, next_page=first["next_page"])
    assert status == 200 and rest["next_page"] is None
    assert [i["id"] for i in first["data"] + rest["data"]] == everything


async def _first_cursor(client, **query: Any) -> str:
    _, body = await fetch(client, LIST, limit=2, **query)
    return body["next_page"]


async def test_a_forged_cursor_is_400(edge_client) -> None:
    status, body = await fetch(edge_client, LIST, next_page="bm90LWEtY3Vyc29y")
    assert status == 400 and body["message"] == "next_page is not a cursor this server issued"


async def test_an_altered_cursor_is_400(edge_client) -> None:
    cursor = await _first_cursor(edge_client)
    middle = len(cursor) // 2
    altered = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]
    status, body = await fetch(edge_client, LIST, limit=2, next_page=altered)
    assert status == 400 and "next_page" in body["message"]


@pytest.mark.parametrize(
    "changed",
    [
        {"status": "DRAFT"},
        {"sort": "date_desc"},
        {"type": "USAGE"},
        {"starting_on": "2025-01-01"},
        {"ending_before": "2026-01-01"},
        {"credit_type_id": credit_type_id("USD")},
        {"contract_id": MAIN},
        {"include_historical_commit_invoices": "true"},
    ],
)
async def test_a_cursor_reused_with_other_filters_is_400(edge_client, changed) -> None:
    cursor = await _first_cursor(edge_client)
    status, body = await fetch(edge_client, LIST, limit=2, next_page=cursor, **changed)
    assert status == 400
    assert body["message"] == "next_page was issued for different filters; start again without it"


async def test_a_cursor_may_change_page_size_and_spelling(edge_client) -> None:
    cursor = await _first_cursor(edge_client, starting_on="2025-01-01")
    status, body = await fetch(
        edge_client, LIST, limit=3, starting_on="2025-01-01T00:00:00.000Z", next_page=cursor
    )
    assert status == 200 and [i["id"] for i in body["data"]] == [G, B, C]


async def test_a_cursor_for_another_customer_or_endpoint_is_400(edge_client) -> None:
    cursor = await _first_cursor(edge_client)
    status, _ = await fetch(edge_client, f"/v1/customers/{OTHER}/invoices", limit=2, next_page=cursor)
    assert status == 400
    _, customers = await fetch(edge_client, "/v1/customers", limit=1)
    status, _ = await fetch(edge_client, LIST, next_page=customers["next_page"])
    assert status == 400


async def test_a_cursor_from_another_fixture_is_400(edge_client, client, default_world) -> None:
    umbrella = default_world.customers[default_world.customer_by_alias["umbrella"]].id
    _, body = await fetch(client, f"/v1/customers/{umbrella}/invoices", limit=1)
    status, _ = await fetch(edge_client, LIST, next_page=body["next_page"])
    assert status == 400


# --- filters ------------------------------------------------------------------------------------


async def test_status_filter(edge_client, drafts) -> None:
    assert await ids(edge_client, status="DRAFT") == drafts
    assert await ids(edge_client, status="FINALIZED") == [A, F, G, B, C, E]  # E is uncollectible
    assert await ids(edge_client, status="VOID") == [D]


async def test_voided_invoices_are_included_by_default(edge_client) -> None:
    assert D in await ids(edge_client)


@pytest.mark.parametrize(
    ("kind", "pinned"),
    [("USAGE", {A, G, E}), ("USAGE_CONSOLIDATED", {F}), ("SCHEDULED", {B, C, D})],
)
async def test_type_filter(edge_client, kind, pinned) -> None:
    status, body = await fetch(edge_client, LIST, type=kind)
    assert status == 200 and body["data"]
    assert {i["id"] for i in body["data"]} & set(PINNED) == pinned
    assert {i["type"] for i in body["data"]} == {kind}


async def test_credit_type_filter(edge_client, drafts) -> None:
    assert await ids(edge_client, credit_type_id=credit_type_id("EUR")) == [G]
    assert await ids(edge_client, credit_type_id=credit_type_id("USD")) == [A, F, B, C, D, E, *drafts]
    unknown = "00000000-0000-4000-8000-000000000000"
    assert await fetch(edge_client, LIST, credit_type_id=unknown) == (200, {"data": [], "next_page": None})
    status, body = await fetch(edge_client, LIST, credit_type_id="USD")
    assert status == 400 and body["message"] == "credit_type_id must be a UUID, got 'USD'"


async def test_contract_filter(edge_client, edge_world) -> None:
    found = await ids(edge_client, contract_id=ADDON)
    assert found[:2] == [F, D] and len(found) == 3  # and the add-on's June draft
    assert await fetch(edge_client, LIST, contract_id=OTHER_CONTRACT) == (
        200,
        {"data": [], "next_page": None},
    )
    status, body = await fetch(edge_client, LIST, contract_id="addon")
    assert status == 400 and body["message"].startswith("contract_id must be a UUID")


async def test_a_period_starting_exactly_at_starting_on_is_included(edge_client, drafts) -> None:
    assert await ids(edge_client, starting_on="2025-02-01T00:00:00Z") == [G, B, C, D, E, *drafts]
    assert await ids(edge_client, starting_on="2025-02-01T00:00:00.001Z") == [C, D, E, *drafts]


async def test_a_period_ending_exactly_at_ending_before_is_included(edge_client) -> None:
    # January is [Jan 1, Feb 1): it ends before Feb 1 (decision 2)
    assert await ids(edge_client, ending_before="2025-02-01T00:00:00Z") == [A, F]
    assert await ids(edge_client, ending_before="2025-02-01T00:00:00.999Z") == [A, F]
    assert await ids(edge_client, ending_before="2025-01-31T23:59:59.999Z") == []


async def test_a_window_returns_exactly_the_periods_inside_it(edge_client) -> None:
    assert await ids(edge_client, starting_on="2025-02-01", ending_before="2025-03-01") == [G, B]
    assert await ids(edge_client, starting_on="2025-03-01", ending_before="2025-02-01") == []


@pytest.mark.parametrize(
    ("starting_on", "includes_c"),
    [
        ("2025-03-10T12:00:00Z", True),
        ("2025-03-10T12:00:00.000Z", True),
        ("2025-03-10T12:00:00", True),  # naive is UTC
        ("2025-03-10T17:30:00+05:30", True),
        ("2025-03-10T07:00:00-05:00", True),
        ("2025-03-10T17:30:00.001+05:30", False),
        ("2025-03-10T07:00:01-05:00", False),
        ("2025-03-10T12:30:00+00:30", True),
        ("2025-03-10", True),
        ("2025-03-11", False),
    ],
)
async def test_starting_on_with_offsets(edge_client, starting_on, includes_c) -> None:
    found = await ids(edge_client, starting_on=starting_on, ending_before="2025-05-01")
    assert found == ([C, D] if includes_c else [D])


@pytest.mark.parametrize(
    ("ending_before", "includes_c"),
    [
        ("2025-04-10T12:00:00Z", True),
        ("2025-04-10T07:00:00-05:00", True),
        ("2025-04-10T17:29:59.999+05:30", False),
        ("2025-04-10T11:59:59Z", False),
    ],
)
async def test_ending_before_with_offsets(edge_client, ending_before, includes_c) -> None:
    found = await ids(edge_client, starting_on="2025-03-01", ending_before=ending_before)
    assert found == ([C] if includes_c else [])


async def test_an_unencoded_plus_in_an_offset_is_understood(edge_client) -> None:
    url = URL(f"{LIST}?starting_on=2025-03-10T17:30:00+05:30&ending_before=2025-05-01", encoded=True)
    response = await edge_client.get(url)
    assert response.status == 200
    assert [i["id"] for i in (await response.json())["data"]] == [C, D]


@pytest.mark.parametrize("name", ["starting_on", "ending_before"])
@pytest.mark.parametrize("value", ["tomorrow", "2025-02-30", "2025-01-01T00:00:00+25:00", ""])
async def test_malformed_timestamps_are_400(edge_client, name, value) -> None:
    status, body = await fetch(edge_client, LIST, **{name: value})
    assert status == 400 and body["message"].startswith(f"{name} must be an RFC 3339 timestamp")


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("status", "PAID", "DRAFT, FINALIZED, VOID"),
        ("status", "", "DRAFT, FINALIZED, VOID"),
        ("type", "CREDIT_PURCHASE", "USAGE, USAGE_CONSOLIDATED, SCHEDULED"),
        ("sort", "date", "date_asc, date_desc"),
    ],
)
async def test_unknown_values_are_400_naming_the_allowed_ones(edge_client, name, value, allowed) -> None:
    status, body = await fetch(edge_client, LIST, **{name: value})
    assert status == 400
    assert body == {"message": f"{name} must be one of {allowed}, got {value!r}"}


@pytest.mark.parametrize("name", ["skip_zero_qty_line_items", "include_historical_commit_invoices"])
async def test_booleans_are_validated(edge_client, name) -> None:
    assert (await fetch(edge_client, LIST, **{name: "true"}))[0] == 200
    assert (await fetch(edge_client, LIST, **{name: "false"}))[0] == 200
    status, body = await fetch(edge_client, LIST, **{name: "yes"})
    assert status == 400 and body["message"] == f"{name} must be true or false, got 'yes'"


async def test_webhook_notification_id_is_accepted_and_ignored(edge_client, drafts) -> None:
    assert await ids(edge_client, webhook_notification_id="wh_123") == [*PINNED, *drafts]


async def test_a_repeated_parameter_is_400(edge_client) -> None:
    response = await edge_client.get(f"{LIST}?status=DRAFT&status=VOID")
    assert response.status == 400
    assert (await response.json())["message"] == "status was given more than once; give it at most once"


async def test_skip_zero_qty_line_items_on_list(edge_client) -> None:
    _, plain = await fetch(edge_client, LIST, limit=1)
    _, skipped = await fetch(edge_client, LIST, limit=1, skip_zero_qty_line_items="true")
    names = [line["name"] for line in plain["data"][0]["line_items"]]
    assert names == ["API calls", "Idle seats"]
    assert [line["name"] for line in skipped["data"][0]["line_items"]] == ["API calls"]


# --- get ----------------------------------------------------------------------------------------


async def test_get_an_invoice(edge_client) -> None:
    status, body = await fetch(edge_client, f"{LIST}/{B}")
    assert status == 200 and set(body) == {"data"}
    invoice = body["data"]
    assert invoice["id"] == B and invoice["customer_id"] == EDGE and invoice["contract_id"] == MAIN
    assert (invoice["status"], invoice["type"]) == ("FINALIZED", "SCHEDULED")
    assert invoice["start_timestamp"] == "2025-02-01T00:00:00Z"
    assert invoice["end_timestamp"] == invoice["issued_at"] == "2025-03-01T00:00:00Z"
    listed = await fetch(edge_client, LIST, starting_on="2025-02-01", ending_before="2025-03-01")
    assert listed[1]["data"][1] == invoice


async def test_get_with_skip_zero_qty_line_items(edge_client) -> None:
    _, plain = await fetch(edge_client, f"{LIST}/{A}")
    _, skipped = await fetch(edge_client, f"{LIST}/{A}", skip_zero_qty_line_items="true")
    assert [line["quantity"] for line in plain["data"]["line_items"]] == [1000, 0]
    assert [line["quantity"] for line in skipped["data"]["line_items"]] == [1000]
    assert skipped["data"]["total"] == plain["data"]["total"]
    status, body = await fetch(edge_client, f"{LIST}/{A}", skip_zero_qty_line_items="1")
    assert status == 400 and body["message"].startswith("skip_zero_qty_line_items must be true or false")


async def test_percent_encoded_and_uppercase_ids_resolve(edge_client) -> None:
    encoded = EDGE.replace("-", "%2D")
    response = await edge_client.get(URL(f"/v1/customers/{encoded}/invoices/{A.upper()}", encoded=True))
    assert response.status == 200 and (await response.json())["data"]["id"] == A


async def test_unknown_invoice_is_404(edge_client) -> None:
    status, body = await fetch(edge_client, f"{LIST}/00000000-0000-4000-8000-000000000000")
    assert status == 404 and "invoice 00000000-0000-4000-8000-000000000000 not found" in body["message"]


async def test_another_customers_invoice_is_404(edge_client) -> None:
    status, _ = await fetch(edge_client, f"/v1/customers/{OTHER}/invoices/{A}")
    assert status == 404


async def test_malformed_invoice_id_is_400(edge_client) -> None:
    status, body = await fetch(edge_client, f"{LIST}/INV-0001")
    assert status == 400 and body == {"message": "invoice_id must be a UUID, got 'INV-0001'"}


@pytest.mark.parametrize("suffix", ["/invoices", f"/invoices/{A}", "/invoices/breakdowns", ""])
async def test_unknown_customer_is_404_and_malformed_one_is_400(edge_client, suffix) -> None:
    status, body = await fetch(edge_client, f"/v1/customers/00000000-0000-4000-8000-000000000000{suffix}")
    assert status == 404 and body == {"message": "customer 00000000-0000-4000-8000-000000000000 not found"}
    status, body = await fetch(edge_client, f"/v1/customers/edge{suffix}")
    assert status == 400 and body == {"message": "customer_id must be a UUID, got 'edge'"}


async def test_an_archived_customers_invoices_can_be_listed(edge_client) -> None:
    assert await fetch(edge_client, f"/v1/customers/{GONE}/invoices") == (
        200,
        {"data": [], "next_page": None},
    )


async def test_breakdowns_is_never_taken_for_an_invoice_id(edge_client) -> None:
    status, body = await fetch(edge_client, f"{LIST}/breakdowns")
    assert status == 404
    assert "breakdowns is not emulated" in body["message"] and "invoice" in body["message"]
    assert "not found for customer" not in body["message"]


# --- the shell around the routes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic x"}]
)
async def test_without_a_valid_bearer_token_it_is_401(bare_client, headers) -> None:
    response = await bare_client.get(LIST, headers=headers)
    assert response.status == 401 and response.content_type == "application/json"
    assert set(await response.json()) == {"message"}
    assert (await bare_client.get(LIST, headers=AUTH)).status == 200


async def test_other_methods_and_paths_answer_in_the_api_shape(edge_client) -> None:
    response = await edge_client.post(LIST, json={})
    assert response.status == 405 and set(await response.json()) == {"message"}
    response = await edge_client.get(f"{LIST}/{A}/pdf")
    assert response.status == 404 and set(await response.json()) == {"message"}
