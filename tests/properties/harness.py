"""The HTTP API of a world, driven synchronously through aiohttp's test server and client.

One private event loop runs every server and client; a request runs the loop until its answer
is read. Started servers are kept for a few worlds, so that Hypothesis replaying or shrinking
an example does not pay for a new server each time.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol
from urllib.parse import quote

import orjson
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from mockserver.server import build_app
from mockserver.shell.app import Settings
from mockserver.world.state import World

TOKEN = "property-token"
KEEP_SERVERS = 6

Query = list[tuple[str, str]]


def encode(pairs: Query, style: str = "sdk") -> str:
    """A query string: `sdk` percent-encodes every reserved character, as the SDKs do;
    `readable` leaves `:` and `,` as they are (a `+` is always encoded, or it reads as a space)."""
    safe = "" if style == "sdk" else ":,"
    return "&".join(f"{quote(key, safe=safe)}={quote(value, safe=safe)}" for key, value in pairs)


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes

    @cached_property
    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client(Protocol):
    def get(self, path: str, query: Query | str | None = None) -> Reply: ...


class Api:
    """A started test server for one world, and a client with a bearer token."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: TestClient, token: str) -> None:
        self.loop, self.client = loop, client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, query: Query | str | None = None) -> Reply:
        """GET `path`; a list query is encoded as the SDKs do, a string is sent exactly as given."""
        raw = encode(query) if isinstance(query, list) else (query or "")
        url = URL(f"{path}?{raw}" if raw else path, encoded=True)
        return self.loop.run_until_complete(self._get(url))

    async def _get(self, url: URL) -> Reply:
        async with self.client.get(url, headers=self.headers) as response:
            return Reply(response.status, response.content_type, await response.read())

    def post(self, path: str, body: Any = None) -> Reply:
        """POST `body` as JSON (None: no body)."""
        return self.loop.run_until_complete(self._post(path, body))

    async def _post(self, path: str, body: Any) -> Reply:
        headers, data = self.headers, None
        if body is not None:
            headers, data = {**headers, "Content-Type": "application/json"}, orjson.dumps(body)
        async with self.client.post(path, data=data, headers=headers) as response:
            return Reply(response.status, response.content_type, await response.read())


class Servers:
    """Test servers by (world, dialect), least recently used closed first."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._live: OrderedDict[tuple[int, str | None], tuple[World, Api]] = OrderedDict()

    def api(self, world: World, dialect: str | None = None) -> Api:
        key = (id(world), dialect)
        entry = self._live.get(key)
        if entry is not None and entry[0] is world:
            self._live.move_to_end(key)
            return entry[1]
        api = self.start(world, dialect)
        self._live[key] = (world, api)
        while len(self._live) > KEEP_SERVERS:
            _, (_, dropped) = self._live.popitem(last=False)
            self.loop.run_until_complete(dropped.client.close())
        return api

    def start(self, world: World, dialect: str | None = None) -> Api:
        """A new server for `world`, configured by its fixture (dialect, default sort, tokens)."""
        settings = Settings.from_world(world, dialect=dialect)
        token = sorted(settings.tokens)[0] if settings.tokens else TOKEN

        async def started() -> TestClient:
            client = TestClient(TestServer(build_app(world, settings)))
            await client.start_server()
            return client

        return Api(self.loop, self.loop.run_until_complete(started()), token)

    def stop(self, api: Api) -> None:
        self.loop.run_until_complete(api.client.close())

    def close(self) -> None:
        for _, api in self._live.values():
            self.loop.run_until_complete(api.client.close())
        self._live.clear()
        self.loop.close()


# --- walks ------------------------------------------------------------------------------------------


@dataclass
class Walk:
    ids: list[str]
    bodies: list[bytes]
    cursors: list[str]


def metronome_path(customer_id: str) -> str:
    return f"/v1/customers/{customer_id}/invoices"


def metronome_walk(
    api: Client,
    customer_id: str,
    pairs: Query,
    limit: int | None,
    style: str = "sdk",
    max_pages: int = 10_000,
) -> Walk:
    """Follow `next_page` from the first page to the last, as the SDK does; every page but the
    last is full, the last one says `next_page: null`."""
    size = limit or 25
    base = list(pairs) + ([] if limit is None else [("limit", str(limit))])
    walk = Walk([], [], [])
    cursor = None
    while True:
        query = base + ([] if cursor is None else [("next_page", cursor)])
        reply = api.get(metronome_path(customer_id), encode(query, style))
        assert reply.status == 200, (query, reply)
        body = reply.json
        assert list(body) == ["data", "next_page"], body
        walk.bodies.append(reply.body)
        walk.ids += [item["id"] for item in body["data"]]
        cursor = body["next_page"]
        if cursor is None:
            assert len(body["data"]) <= size
            return walk
        assert isinstance(cursor, str) and cursor, body
        assert len(body["data"]) == size, "a page before the last is not full"
        walk.cursors.append(cursor)
        assert len(walk.bodies) < max_pages, "the walk does not end"


METEROID_INVOICES = "/api/v1/invoices"


def meteroid_walk(api: Client, pairs: Query, per_page: int | None, style: str = "sdk") -> Walk:
    """Pages 0, 1, ... up to the last, checking each page's `pagination_meta` and size."""
    size = per_page or 10
    walk = Walk([], [], [])
    page = 0
    while True:
        query = [*pairs, ("page", str(page))] + ([] if per_page is None else [("per_page", str(per_page))])
        reply = api.get(METEROID_INVOICES, encode(query, style))
        assert reply.status == 200, (query, reply)
        body = reply.json
        assert list(body) == ["data", "pagination_meta"], body
        meta = body["pagination_meta"]
        total = meta["total_items"]
        assert meta == {
            "page": page,
            "per_page": size,
            "total_items": total,
            "total_pages": -(-total // size),
        }
        assert len(body["data"]) == max(0, min(size, total - page * size)), meta
        walk.bodies.append(reply.body)
        walk.ids += [item["id"] for item in body["data"]]
        page += 1
        if page >= meta["total_pages"]:
            return walk
