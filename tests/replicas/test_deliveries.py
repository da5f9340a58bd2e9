"""Servers on one Redis send one world's webhooks: each attempt once, listed by every server, a
retry left by a server killed made by another, and the list answered 503 while Redis is down."""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable

import pytest

from tests.replicas.conftest import RedisServer
from tests.shell.test_server import LINUX, server_process
from tests.webhooks.conftest import Receiver
from tests.webhooks.test_workers import eventually, listed, register, send, trigger

pytestmark = pytest.mark.skipif(not LINUX, reason="workers share a port through SO_REUSEPORT on Linux")


async def test_each_attempt_is_made_once_and_listed_by_every_server(
    redis_server: RedisServer, receiver: Receiver
) -> None:
    options = ("--changes", redis_server.url)
    with server_process("--workers", "2", *options) as (_a, first), server_process(*options) as (b, second):
        await register(first, receiver, "meteroid")
        events = {await trigger((first, second)[index % 2]) for index in range(12)}
        await receiver.until(lambda: len(receiver.received) == len(events), timeout=10)

        async def complete(base: str) -> bool:
            return {d["event_id"] for d in await listed(base, limit="1000")} == events

        for base in (first, second, first, second):
            await eventually(
                lambda base=base: complete(base), timeout=5, what=f"every attempt listed by {base}"
            )
        attempts = await listed(second, limit="1000")
        assert len(attempts) == len(events) and b.pid in {d["pid"] for d in attempts}
        redis_server.stop()
        status, body = await send(first, "GET", "/_mock/webhooks/deliveries")
        assert status == 503 and redis_server.url in body["message"]
        redis_server.start()
    assert sorted(r.event["id"] for r in receiver.received) == sorted(events)  # each once


async def test_a_retry_left_by_a_server_killed_is_made_by_another(
    redis_server: RedisServer, receiver: Receiver
) -> None:
    receiver.statuses["/meteroid"] = [500]
    options = ("--changes", redis_server.url)
    with server_process(*options) as (doomed, first), server_process(*options) as (survivor, second):
        await register(first, receiver, "meteroid", retry_scale=1)  # the second attempt 5 s after the first
        event = await trigger(first)

        def attempts(count: int, *bases: str) -> Callable[[], Awaitable[bool]]:
            async def listed_by_each() -> bool:
                return all([len(await listed(base, event_id=event)) == count for base in bases])

            return listed_by_each

        await eventually(attempts(1, first, second), what="the first attempt listed")
        os.kill(doomed.pid, signal.SIGKILL)
        await receiver.until(lambda: len(receiver.received) == 2, timeout=20)
        await eventually(attempts(2, second), what="both attempts listed")
        second_attempt, first_attempt = await listed(second, event_id=event)
        assert (first_attempt["pid"], first_attempt["response_status"]) == (doomed.pid, 500)
        assert (second_attempt["pid"], second_attempt["attempt"]) == (survivor.pid, 2)
    assert [r.event["id"] for r in receiver.received] == [event, event]
