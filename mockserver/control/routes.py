"""`/_mock`: the server's own routes beside the emulated APIs: health, the billing clock, reset,
the log of changes, the OpenAPI documents and the inspector (to which `/` leads). No token is
needed; errors are `{"message": ...}` naming what was wrong. The routes are the operations of
`openapi.OPERATIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from mockserver import inspector
from mockserver.control import openapi
from mockserver.generation.fixture import DIALECTS, STATUSES
from mockserver.shell import openapi as shell_openapi
from mockserver.shell.app import Settings, json_response, plain_error
from mockserver.world import clock
from mockserver.world.changes import Args, ChangeError
from mockserver.world.timeline import Timeline

MAX_BODY = 64 * 1024  # bytes: a control request is a few dozen


class BadRequest(Exception):
    """A control request refused before it reached the world."""


async def read_object(request: web.Request, empty_ok: bool = False) -> dict[str, Any]:
    """The request's JSON object body; BadRequest naming what is wrong with it."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    body = await request.read()
    if not body.strip() and empty_ok:
        return {}
    if request.content_type != "application/json":
        raise BadRequest(f"Content-Type must be application/json, got {request.content_type!r}")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")
    return value


class ControlPlane:
    def __init__(self, timeline: Timeline, settings: Settings, documents: Mapping[str, dict]) -> None:
        """`documents`: the facades' OpenAPI documents by name; the control plane adds its own."""
        self.timeline = timeline
        self.settings = settings
        self._health: tuple[int, bytes] | None = None
        served = {**documents, "control": openapi.document()}
        if set(served) != set(openapi.APIS):
            raise ValueError(f"documents {sorted(served)} are served but {list(openapi.APIS)} described")
        self.documents = {name: orjson.dumps(doc, option=orjson.OPT_INDENT_2) for name, doc in served.items()}
        self.page = inspector.read(inspector.INDEX)
        self.assets = {name: inspector.read(name) for name in inspector.ASSETS}

    def routes(self) -> list[web.RouteDef]:
        return shell_openapi.routes(
            openapi.OPERATIONS,
            {
                "health": self.health,
                "getClock": self.get_clock,
                "moveClock": self.move_clock,
                "reset": self.reset,
                "listChanges": self.changes,
                "getDocument": self.document,
                "inspector": self.inspector,
                "inspectorAsset": self.asset,
                "root": self.root,
            },
        )

    async def health(self, request: web.Request) -> web.Response:
        """Encoded once per state of the world: health checks poll it."""
        world = self.timeline.world
        if self._health is None or self._health[0] != world.seq:
            self._health = (world.seq, orjson.dumps(self.health_document()))
        return json_response(self._health[1])

    def health_document(self) -> dict[str, Any]:
        world = self.timeline.world
        return {
            "status": "ok",
            "fixture": world.fixture.name,
            "seed": world.seed,
            "now": clock.format_z(world.now),
            "seq": world.seq,
            "dialect": self.settings.dialect,  # Meteroid-style requests that choose none get this one
            "dialects": list(DIALECTS),  # every one is served, chosen per request
            "counts": {
                "customers": len(world.customers),
                "contracts": len(world.contracts),
                "invoices": len(world),
                "invoices_by_status": dict(zip(STATUSES, world.status_counts, strict=True)),
            },
        }

    async def get_clock(self, request: web.Request) -> web.Response:
        world = self.timeline.world
        return json_response(orjson.dumps({"now": clock.format_z(world.now), "seq": world.seq}))

    async def move_clock(self, request: web.Request) -> web.Response:
        return await self._submit(request, "clock", empty_ok=False)

    async def reset(self, request: web.Request) -> web.Response:
        return await self._submit(request, "reset", empty_ok=True)

    async def _submit(self, request: web.Request, kind: str, empty_ok: bool) -> web.Response:
        try:
            args: Args = await read_object(request, empty_ok)
            change, result = self.timeline.submit(kind, args)
        except (BadRequest, ChangeError) as exc:
            return plain_error(400, str(exc))
        return json_response(orjson.dumps({"seq": change.seq, "kind": kind, **result}))

    async def changes(self, request: web.Request) -> web.Response:
        """The log of changes as JSON lines: `mockserver serve --changes FILE` replays it."""
        return web.Response(body=self.timeline.export(), content_type="application/x-ndjson")

    async def document(self, request: web.Request) -> web.Response:
        document = self.documents.get(request.match_info["api"])
        if document is None:
            return plain_error(404, f"no such document; there are {', '.join(self.documents)}")
        return json_response(document)

    async def inspector(self, request: web.Request) -> web.Response:
        return web.Response(body=self.page, content_type="text/html", charset="utf-8")

    async def asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        media = inspector.ASSETS.get(name)
        if media is None:
            return plain_error(404, f"no such file; there are {', '.join(inspector.ASSETS)}")
        return web.Response(body=self.assets[name], content_type=media, charset="utf-8")

    async def root(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(openapi.INSPECTOR)
