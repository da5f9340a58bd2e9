"""Delivery as the providers deliver: off the request path, one receiver's slowness delaying
no other, a refusal retried with the same event, every attempt listed; a redelivery and a
trigger on request."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.webhooks.delivery import SCHEDULES
from mockserver.world.endpoints import MAX_ENDPOINTS
from mockserver.world.state import World
from mockserver.world.timeline import Timeline
from tests.webhooks.conftest import SCALE, post, register

LOW_BALANCE = "alerts.low_remaining_credit_balance_reached"
FURTHEST = "P4Y11M"  # the default world's clock, nearly to its horizon
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")


async def _deliveries(client, **query) -> list[dict]:
    answer = await client.get("/_mock/webhooks/deliveries", params=query)
    assert answer.status == 200, await answer.text()
    return (await answer.json())["data"]


async def _listed(client, count: int, timeout: float = 5, **query) -> list[dict]:
    """The attempts listed, once there are `count` of them."""
    deadline = time.monotonic() + timeout
    while len(listed := await _deliveries(client, **query)) < count:
        assert time.monotonic() < deadline, f"{len(listed)} attempts listed in {timeout} s"
        await asyncio.sleep(0.01)
    return listed


async def test_a_refusal_is_retried_with_the_same_event_and_every_attempt_is_listed(client, receiver) -> None:
    receiver.statuses["/metronome"] = [500, 503]
    endpoint = await register(client, receiver, "metronome")
    status, sent = await post(client, "/_mock/webhooks/trigger", {"api": "metronome", "type": LOW_BALANCE})
    assert status == 202 and sent["endpoints"] == [endpoint["id"]]
    await receiver.until(lambda: len(receiver.received) == 3)
    assert {r.event["id"] for r in receiver.received} == {sent["event_id"]}
    # an attempt is listed once its answer is read, a moment after the receiver has the request
    listed = await _listed(client, 3, event_id=sent["event_id"])
    assert [(d["attempt"], d["response_status"]) for d in listed] == [(3, 200), (2, 503), (1, 500)]
    assert listed[0]["next_attempt_at"] is None and listed[1]["next_attempt_at"] is not None
    assert all(d["endpoint"] == endpoint["id"] and d["type"] == LOW_BALANCE for d in listed)


async def test_an_unreachable_receiver_is_retried_on_the_whole_schedule(client, receiver) -> None:
    body = {"url": "http://127.0.0.1:9/", "api": "meteroid", "retry_scale": SCALE / 1000}
    status, endpoint = await post(client, "/_mock/webhooks", body)
    assert status == 201
    status, _ = await post(client, "/_mock/webhooks/trigger", {"api": "meteroid", "type": "plan.created"})
    assert status == 202
    schedule = SCHEDULES["meteroid"]
    listed = await _listed(client, len(schedule), timeout=10, endpoint=endpoint["id"])
    assert [d["attempt"] for d in listed] == list(range(len(schedule), 0, -1))
    assert all(d["response_status"] is None and d["error"] for d in listed)


async def test_a_slow_receiver_delays_neither_the_request_nor_another_endpoint(client, receiver) -> None:
    receiver.delays["/slow"] = 3
    await register(client, receiver, "metronome", path="slow")
    await register(client, receiver, "metronome", path="fast")
    started = time.monotonic()
    status, moved = await post(client, "/_mock/clock", {"advance": "P1M"})
    assert status == 200 and time.monotonic() - started < 1
    finalized = moved["changed"]["finalized"] + moved["changed"]["issued"]
    await receiver.until(lambda: len(receiver.at("/fast")) == finalized, timeout=2)
    assert time.monotonic() - started < 2.5 and not receiver.at("/slow")


async def test_an_endpoint_gets_only_the_types_it_wants(client, receiver) -> None:
    await register(client, receiver, "meteroid", types=["invoice.paid"])
    await post(client, "/_mock/clock", {"advance": "P1M"})
    await receiver.until(lambda: bool(receiver.received))
    assert {r.event["type"] for r in receiver.received} == {"invoice.paid"}


async def test_a_redelivery_sends_the_same_event_again(client, receiver) -> None:
    first = await register(client, receiver, "meteroid", path="one")
    second = await register(client, receiver, "meteroid", path="two")
    payload = {"plan_id": "plan_1"}
    status, sent = await post(
        client, "/_mock/webhooks/trigger", {"api": "meteroid", "type": "plan.created", "payload": payload}
    )
    assert status == 202 and sent["endpoints"] == [first["id"], second["id"]]
    await receiver.until(lambda: len(receiver.received) == 2)
    status, again = await post(
        client, "/_mock/webhooks/redeliver", {"event_id": sent["event_id"], "endpoint": second["id"]}
    )
    assert status == 202 and again == {"event_id": sent["event_id"], "endpoints": [second["id"]]}
    await receiver.until(lambda: len(receiver.at("/two")) == 2)
    repeated = receiver.at("/two")
    assert repeated[0].body == repeated[1].body and repeated[0].event["plan_id"] == "plan_1"


async def test_redeliver_and_trigger_refuse_what_is_not_there(client, receiver) -> None:
    status, answer = await post(
        client, "/_mock/webhooks/trigger", {"api": "meteroid", "type": "plan.created"}
    )
    assert status == 409 and "no meteroid endpoint" in answer["message"]
    await register(client, receiver, "metronome")
    status, answer = await post(
        client, "/_mock/webhooks/trigger", {"api": "metronome", "type": "invoice.paid"}
    )
    assert status == 400 and answer["message"].startswith("type:")
    status, answer = await post(client, "/_mock/webhooks/redeliver", {"event_id": "nope"})
    assert status == 404 and answer["message"].startswith("event_id:")
    status, sent = await post(client, "/_mock/webhooks/trigger", {"api": "metronome", "type": LOW_BALANCE})
    status, answer = await post(
        client, "/_mock/webhooks/redeliver", {"event_id": sent["event_id"], "endpoint": "x"}
    )
    assert status == 404 and answer["message"].startswith("endpoint:")
    assert (await client.get("/_mock/webhooks/deliveries", params={"limit": "0"})).status == 400


async def _metronome_events_of_a_move(advance: str) -> list[str]:
    """The ids of the Metronome events the default world's clock move gives birth to, with an
    endpoint that wants them (a world without endpoints makes none)."""
    timeline = Timeline(World.from_fixture(load_fixture(None)))
    await timeline.submit("webhook.create", {"url": "http://x.test/", "api": "metronome"})
    await timeline.submit("clock", {"advance": advance})
    return [event.id for event in timeline.world.hooks.born if event.api == "metronome"]


async def test_a_move_of_years_delivers_every_event_once_however_many_wait(client, receiver) -> None:
    expected = await _metronome_events_of_a_move(FURTHEST)
    assert len(expected) > 1000  # more than one endpoint's deliveries kept under way at once
    await register(client, receiver, "metronome")
    status, _ = await post(client, "/_mock/clock", {"advance": FURTHEST})
    assert status == 200
    await receiver.until(lambda: len(receiver.received) >= len(expected), timeout=60)
    await asyncio.sleep(0.2)  # none more comes
    assert sorted(r.event["id"] for r in receiver.received) == sorted(expected)


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@linux
async def test_a_move_of_years_over_every_endpoint_costs_little_and_holds_up_no_request(client) -> None:
    """A hundred endpoints that refuse every connection, then the furthest move: its thousands
    of events each for each endpoint start a bounded number of deliveries at a time."""
    for _ in range(MAX_ENDPOINTS):
        status, _ = await post(client, "/_mock/webhooks", {"url": "http://127.0.0.1:9/", "api": "metronome"})
        assert status == 201
    before = _resident_bytes()
    started = time.monotonic()
    move = asyncio.create_task(post(client, "/_mock/clock", {"advance": FURTHEST}))
    waits = []  # of the requests asked once the move was answered, its deliveries under way
    while time.monotonic() - started < 3:
        asked, moved = time.monotonic(), move.done()
        assert (await client.get("/_mock/health")).status == 200
        if moved:
            waits.append(time.monotonic() - asked)
        await asyncio.sleep(0.05)
    assert move.done() and (await move)[0] == 200  # the move itself, within 3 s
    assert len(waits) > 20 and max(waits) < 0.5, waits
    assert _resident_bytes() - before < 200 * 2**20
