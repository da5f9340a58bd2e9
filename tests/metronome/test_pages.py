"""Cached parses and plans never mix customers, never turn a refusal into an answer, and a
cursor is honoured only for the walk it was issued for."""

from __future__ import annotations

import pytest

from mockserver.metronome import params
from mockserver.metronome.errors import ApiError
from mockserver.metronome.routes import MetronomeApi
from mockserver.shell.app import Settings
from mockserver.world.state import World
from mockserver.world.timeline import Timeline

EDGE = "e0000000-0000-4000-8000-000000000001"
OTHER = "e0000000-0000-4000-8000-000000000002"


async def test_the_same_query_for_another_customer_is_not_served_from_the_cache(edge_client) -> None:
    mine = await (await edge_client.get(f"/v1/customers/{EDGE}/invoices?limit=1")).json()
    theirs = await (await edge_client.get(f"/v1/customers/{OTHER}/invoices?limit=1")).json()
    assert mine["data"][0]["customer_id"] == EDGE and theirs["data"][0]["customer_id"] == OTHER


async def test_repeated_requests_give_the_same_bytes_and_refusals_stay_refusals(edge_client) -> None:
    path = f"/v1/customers/{EDGE}/invoices?limit=2&sort=date_desc"
    first = await (await edge_client.get(path)).read()
    assert await (await edge_client.get(path)).read() == first
    for _ in range(2):
        response = await edge_client.get(f"/v1/customers/{EDGE}/invoices?limit=0")
        assert response.status == 400


def test_a_signed_cursor_must_name_an_invoice_at_its_place_in_the_walk(edge_world: World) -> None:
    """Cursors the server could have signed but never issued: a place outside the customer's
    invoices, another customer's invoice, an invoice at another place."""
    api = MetronomeApi(Timeline(edge_world), Settings.from_world(edge_world))
    mine = edge_world.customer_by_id[EDGE]
    wanted = api.invoice_filters(mine, 0, (("limit", "1"),))
    members = wanted.plan.scope.members
    theirs = edge_world.by_customer[edge_world.customer_by_id[OTHER]][0]
    filters = wanted.filters
    issued = api.codec.encode(members[1], 1, filters)
    assert api.invoice_list(mine, [("limit", "1"), ("next_page", issued)])  # the genuine article
    for entity, place in ((members[1], len(members)), (members[1], -1), (theirs, 1), (members[2], 1)):
        cursor = api.codec.encode(entity, place, filters)
        with pytest.raises(ApiError) as refused:
            api.invoice_list(mine, [("limit", "1"), ("next_page", cursor)])
        assert refused.value.status == 400
        assert refused.value.message == "next_page is not a cursor this server issued"


def test_a_signed_customer_cursor_must_name_a_customer_at_its_place(edge_world: World) -> None:
    api = MetronomeApi(Timeline(edge_world), Settings.from_world(edge_world))
    filters = params.parse_customer_list([("limit", "1")], edge_world).filters
    listed = api.listed(archived=False)
    issued = api.codec.encode(listed[1], 1, filters)
    assert api.customer_list([("limit", "1"), ("next_page", issued)])  # the genuine article
    for entity, place in ((listed[1], len(listed)), (listed[1], -1), (listed[0], 1)):
        cursor = api.codec.encode(entity, place, filters)
        with pytest.raises(ApiError) as refused:
            api.customer_list([("limit", "1"), ("next_page", cursor)])
        assert refused.value.status == 400
