"""With `--workers 2`, each event is sent once: by the process that logged its change, or by
another once that one died; the attempts of both are listed by either, and removing an
endpoint stops its retries in both."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import aiohttp
import orjson
import pytest

from mockserver.world.endpoints import MAX_ENDPOINTS
from tests.shell.test_server import LINUX, children, server_process
from tests.support import running_server
from tests.webhooks.conftest import JSON, SCALE, Receiver

linux = pytest.mark.skipif(not LINUX, reason="workers share a port through SO_REUSEPORT on Linux")


async def send(base: str, method: str, path: str, body: object = None) -> tuple[int, dict]:
    """One request on a connection of its own, so that successive requests reach any worker."""
    async with (
        aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(force_close=True)) as session,
        session.request(
            method, path, data=None if body is None else orjson.dumps(body), headers=JSON
        ) as answer,
    ):
        return answer.status, await answer.json()


async def listed(base: str, **query: str) -> list[dict]:
    """The deliveries listed by whichever worker takes the connection."""
    status, body = await send(
        base, "GET", "/_mock/webhooks/deliveries?" + "&".join(f"{k}={v}" for k, v in query.items())
    )
    assert status == 200, body
    return body["data"]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.05)


async def register(base: str, receiver: Receiver, api: str, **extra: object) -> dict:
    body = {"url": f"{receiver.url}/{api}", "api": api, "retry_scale": SCALE, **extra}
    status, endpoint = await send(base, "POST", "/_mock/webhooks", body)
    assert status == 201, endpoint
    return endpoint


async def trigger(base: str) -> str:
    status, sent = await send(
        base, "POST", "/_mock/webhooks/trigger", {"api": "meteroid", "type": "plan.created"}
    )
    assert status == 202, sent
    return sent["event_id"]


async def test_two_workers_send_each_finalized_invoice_once_to_each_api(receiver) -> None:
    with running_server(None, "--workers", "2") as base:
        async with aiohttp.ClientSession(base) as session:
            for api in ("metronome", "meteroid"):
                body = {"url": f"{receiver.url}/{api}", "api": api, "retry_scale": SCALE}
                async with session.post("/_mock/webhooks", data=orjson.dumps(body), headers=JSON) as answer:
                    assert answer.status == 201
            body = {"advance": "P1M"}
            async with session.post("/_mock/clock", data=orjson.dumps(body), headers=JSON) as answer:
                changed = (await answer.json())["changed"]
            finalized = changed["finalized"] + changed["issued"]

            def finalized_at(path: str) -> list[str]:
                return [r.event["id"] for r in receiver.at(path) if r.event["type"] == "invoice.finalized"]

            await receiver.until(lambda: len(finalized_at("/metronome")) >= finalized, timeout=10)
            await receiver.until(lambda: len(finalized_at("/meteroid")) >= finalized, timeout=10)
            await asyncio.sleep(0.5)  # the other worker has read the change by now (it reads every 0.1 s)
        for path in ("/metronome", "/meteroid"):
            ids = finalized_at(path)
            assert len(ids) == finalized and len(set(ids)) == finalized


@linux
async def test_either_worker_lists_the_attempts_of_both(receiver) -> None:
    with server_process("--workers", "2") as (process, base):
        workers = children(process.pid)
        await register(base, receiver, "meteroid")
        events = {await trigger(base) for _ in range(24)}  # on fresh connections: logged by both
        await receiver.until(lambda: len(receiver.received) == len(events), timeout=10)

        async def complete() -> bool:
            return {d["event_id"] for d in await listed(base, limit="1000")} == events

        for _ in range(8):  # whichever worker answers
            await eventually(complete, timeout=5, what="every attempt listed")
        attempts = await listed(base, limit="1000")
        assert len(attempts) == len(events) and {d["attempt"] for d in attempts} == {1}
        assert {d["pid"] for d in attempts} == workers  # each made some
        assert sorted(d["at"] for d in attempts) == [d["at"] for d in reversed(attempts)]  # newest first
        one = attempts[5]
        assert await listed(base, event_id=one["event_id"]) == [one]
        assert len(await listed(base, limit="3", type="plan.created")) == 3
    assert sorted(r.event["id"] for r in receiver.received) == sorted(events)  # each once


@linux
async def test_a_retry_left_by_a_worker_killed_is_made_by_another(receiver) -> None:
    receiver.statuses["/meteroid"] = [500]
    with server_process("--workers", "2") as (process, base):
        await register(base, receiver, "meteroid", retry_scale=1)  # the second attempt 5 s after the first
        event = await trigger(base)
        first: list[dict] = []

        async def failed_once() -> bool:
            first[:] = await listed(base, event_id=event)
            return bool(first)

        await eventually(failed_once, what="the first attempt listed")
        (attempt,) = first
        assert (attempt["attempt"], attempt["response_status"]) == (1, 500)
        assert attempt["next_attempt_at"] is not None
        os.kill(attempt["pid"], signal.SIGKILL)
        await receiver.until(lambda: len(receiver.received) == 2, timeout=20)

        async def retried() -> bool:
            return len(await listed(base, event_id=event)) == 2

        await eventually(retried, what="the second attempt listed")
        second = (await listed(base, event_id=event))[0]
        assert (second["attempt"], second["response_status"]) == (2, 200)
        assert second["pid"] != attempt["pid"] and second["pid"] in children(process.pid)
        await asyncio.sleep(0.5)  # were it made twice, the second would be in by now
    assert [r.event["id"] for r in receiver.received] == [event, event]
    assert receiver.received[0].body == receiver.received[1].body


@linux
async def test_removing_an_endpoint_stops_its_retries_in_every_worker(receiver) -> None:
    receiver.statuses["/meteroid"] = [500] * 100
    with server_process("--workers", "2") as (_process, base):
        endpoint = await register(base, receiver, "meteroid")  # at once, then 5 ms, 300 ms, 1.8 s ... later
        events = {await trigger(base) for _ in range(8)}  # on fresh connections: held by both workers
        await receiver.until(lambda: len(receiver.received) == 3 * len(events), timeout=10)
        status, _ = await send(base, "DELETE", f"/_mock/webhooks/{endpoint['id']}")
        assert status == 200
        made = len(receiver.received)
        due = max(datetime.fromisoformat(d["next_attempt_at"]) for d in await listed(base, limit="1000"))
        await asyncio.sleep(max(0.0, due.timestamp() - time.time()) + 1.5)  # past the fourth attempts' time
        assert len(receiver.received) == made == 3 * len(events)
        assert len(await listed(base, limit="1000")) == made


@linux
async def test_a_move_of_years_over_every_endpoint_holds_up_no_worker() -> None:
    """The workers' pending deliveries are a file each operation reads and writes whole: few
    are kept under way, so that a move's thousands of deliveries never queue behind it."""
    with running_server(None, "--workers", "2") as base:
        for _ in range(MAX_ENDPOINTS):
            status, _ = await send(
                base, "POST", "/_mock/webhooks", {"url": "http://127.0.0.1:9/", "api": "metronome"}
            )
            assert status == 201
        move = asyncio.create_task(send(base, "POST", "/_mock/clock", {"advance": "P4Y11M"}))
        waits = []
        started = time.monotonic()
        while time.monotonic() - started < 4:
            asked = time.monotonic()
            assert (await send(base, "GET", "/_mock/health"))[0] == 200
            waits.append(time.monotonic() - asked)
            await asyncio.sleep(0.1)
        assert (await move)[0] == 200
    assert max(waits) < 1, waits
