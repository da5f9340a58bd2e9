"""A real HTTP receiver on a free port, and the mock in-process, for the webhook tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import orjson
import pytest
from aiohttp import web

from mockserver.generation.fixture import load_fixture
from mockserver.server import build_app
from mockserver.world.state import World

JSON = {"Content-Type": "application/json"}
SCALE = 0.001  # retry delays in milliseconds, not minutes


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """Answers 200 unless told otherwise per path: `statuses` in turn, after `delays` seconds."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    released: asyncio.Event = field(default_factory=asyncio.Event)  # ends every delay at once

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.released.wait(), self.delays.get(request.path, 0))
        self.received.append(Received(request.path, dict(request.headers), body))
        answers = self.statuses.get(request.path)
        return web.Response(status=answers.pop(0) if answers else 200)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def until(self, done: Callable[[], bool], timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"not received in {timeout} s: {len(self.received)} so far"
            await asyncio.sleep(0.01)


@pytest.fixture
async def receiver(aiohttp_server) -> AsyncIterator[Receiver]:
    made = Receiver()
    app = web.Application()
    app.router.add_post("/{path:.*}", made.handle)
    # Stopping, it waits at most a second for the deliveries under way (a request that came
    # as it stopped would otherwise hold it until the mock's client times out: 15 s).
    server = await aiohttp_server(app, shutdown_timeout=1)
    made.url = str(server.make_url("")).rstrip("/")
    yield made
    made.released.set()


@pytest.fixture
async def client(aiohttp_client):
    """The mock serving a world of its own."""
    return await aiohttp_client(build_app(World.from_fixture(load_fixture(None))))


async def register(client, receiver: Receiver, api: str, path: str = "", **extra) -> dict:
    body = {"url": f"{receiver.url}/{path or api}", "api": api, "retry_scale": SCALE, **extra}
    answer = await client.post("/_mock/webhooks", data=orjson.dumps(body), headers=JSON)
    assert answer.status == 201, await answer.text()
    return await answer.json()


async def post(client, path: str, body: object) -> tuple[int, dict]:
    answer = await client.post(path, data=orjson.dumps(body), headers=JSON)
    return answer.status, await answer.json()
