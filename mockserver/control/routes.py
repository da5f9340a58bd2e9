"""`/_mock`: the server's own routes beside the emulated APIs: health, the billing clock, reset,
the log of changes, the OpenAPI documents and the inspector (to which `/` leads). No token is
needed; errors are `{"message": ...}` naming what was wrong. The routes are the operations of
`openapi.OPERATIONS`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from mockserver import inspector
from mockserver.control import fixture, openapi
from mockserver.control.journal import DEFAULT_LIMIT, MAX_INTEGER, Query
from mockserver.control.shared import StoreError
from mockserver.control.webhooks import Webhooks
from mockserver.shell import body
from mockserver.shell import openapi as shell_openapi
from mockserver.shell.app import CORS_HEADERS, Settings, json_response, plain_error
from mockserver.shell.worlds import ServedWorld
from mockserver.world import clock
from mockserver.world.changes import FIXTURE, Args, ChangeError
from mockserver.world.faults import RuleError
from mockserver.world.spec import DIALECTS, STATUSES

MAX_BODY = 64 * 1024  # bytes: a control request is a few dozen
_INTEGER = re.compile(r"-?[0-9]{1,19}")  # `int` also takes `1_0`, ` 1`, other scripts' digits


class BadRequest(Exception):
    """A control request refused before it reached the world."""


async def read_json(request: web.Request) -> Any:
    """The request's JSON body (None when there is none); BadRequest naming what is wrong with
    it, a 413 when it is over MAX_BODY."""
    if not request.body_exists:
        return None
    try:
        return await body.read_json(request, MAX_BODY)
    except body.BodyError as exc:
        if exc.problem == "too_large":
            raise web.HTTPRequestEntityTooLarge(
                max_size=MAX_BODY, actual_size=request.content_length or 0
            ) from None
        prefix = "the body is not valid JSON: " if exc.problem == "syntax" else ""
        raise BadRequest(prefix + exc.detail) from None


async def read_object(request: web.Request, empty_ok: bool = False) -> dict[str, Any]:
    """The request's JSON object body (`{}` for none when `empty_ok`; a JSON `null` is no
    object); BadRequest naming what is wrong with it."""
    if empty_ok and not request.body_exists:
        return {}
    value = await read_json(request)
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")
    return value


def _integer(request: web.Request, name: str, low: int, high: int = MAX_INTEGER) -> int | None:
    """An integer query parameter within bounds, or None if absent; BadRequest naming it."""
    text = request.query.get(name)
    if text is None:
        return None
    if not _INTEGER.fullmatch(text):
        raise BadRequest(f"{name}: expected an integer, got {clock.shown(text)}")
    value = int(text)
    if not low <= value <= high:
        raise BadRequest(f"{name}: expected an integer from {low} to {high}, got {value}")
    return value


def journal_query(request: web.Request, size: int) -> Query:
    """The filters of `GET /_mock/requests`, checked."""
    query = request.query
    if "api" in query and query["api"] not in openapi.APIS[:2]:
        raise BadRequest(f"api: expected one of {', '.join(openapi.APIS[:2])}, got {query['api']!r}")
    limit = _integer(request, "limit", 1)
    for name in ("operation", "method", "path"):
        if query.get(name) == "":
            raise BadRequest(f"{name}: expected a non-empty value; leave it out to take any")
    return Query(
        api=query.get("api"),
        operation=query.get("operation"),
        method=query.get("method"),
        path=query.get("path"),
        status=_integer(request, "status", 100, 599),
        since=_integer(request, "since", 0) or 0,
        limit=min(limit or DEFAULT_LIMIT, size),
    )


class Published:
    """What the control plane serves alike for every world, encoded once: the OpenAPI documents
    and the inspector's files."""

    def __init__(self, documents: Mapping[str, dict]) -> None:
        """`documents`: the facades' OpenAPI documents by name; the control plane adds its own."""
        served = {**documents, "control": openapi.document()}
        if set(served) != set(openapi.APIS):
            raise ValueError(f"documents {sorted(served)} are served but {list(openapi.APIS)} described")
        self.documents = {name: orjson.dumps(doc, option=orjson.OPT_INDENT_2) for name, doc in served.items()}
        self.page = inspector.read(inspector.INDEX)
        self.assets = {name: inspector.read(name) for name in inspector.ASSETS}


class ControlPlane:
    """The control routes of one served world: its clock, changes, journal and faults."""

    def __init__(self, served: ServedWorld, settings: Settings, published: Published) -> None:
        self.timeline = served.timeline
        self.settings = settings
        self.journal, self.faults = served.journal, served.faults
        self.published = published
        assert served.webhooks is not None
        self.webhooks = Webhooks(served.timeline, served.webhooks, read_object, BadRequest)
        self._health: tuple[tuple[int, str | None], bytes] | None = None

    def routes(self) -> list[web.RouteDef]:
        return shell_openapi.routes(
            "control",
            openapi.OPERATIONS,
            {
                "health": self.health,
                "getClock": self.get_clock,
                "moveClock": self.move_clock,
                "reset": self.reset,
                "listChanges": self.changes,
                "listRequests": self.requests,
                "clearRequests": self.clear_requests,
                "listFaults": self.list_faults,
                "addFaults": self.add_faults,
                "clearFaults": self.clear_faults,
                "getFixture": self.get_fixture,
                "putFixture": self.put_fixture,
                "getDocument": self.document,
                "inspector": self.inspector,
                "inspectorAsset": self.asset,
                "root": self.root,
                **self.webhooks.handlers(),
            },
        )

    async def health(self, request: web.Request) -> web.Response:
        """Encoded once per state of the world and of its log: health checks poll it."""
        state = (self.timeline.world.seq, self.timeline.log.trouble())
        if self._health is None or self._health[0] != state:
            self._health = (state, orjson.dumps(self.health_document()))
        return json_response(self._health[1])

    def health_document(self) -> dict[str, Any]:
        world = self.timeline.world
        trouble = self.timeline.log.trouble()
        return {
            # Still 200 when the log cannot be reached: the last state is served, writes refused.
            "status": "ok" if trouble is None else "degraded",
            **({"log": {"reachable": False, "error": trouble}} if trouble is not None else {}),
            "fixture": world.fixture.name,
            "seed": world.seed,
            "now": clock.format_z(world.now),
            "seq": world.seq,
            "pid": os.getpid(),  # the process that answered: with --workers N, one of them
            "dialect": self.settings.dialect,  # Meteroid-style requests that choose none get this one
            "dialects": list(DIALECTS),  # every one is served, chosen per request
            "isolation": self.settings.isolation or "none",  # "token": this is the caller's world
            "counts": {
                "customers": len(world.customers),
                "contracts": len(world.contracts),
                "invoices": len(world),
                "invoices_by_status": dict(zip(STATUSES, world.status_counts, strict=True)),
                "usage_kept": len(world.pending),
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
        except BadRequest as exc:
            return plain_error(400, str(exc))
        return await self._change(kind, args)

    async def _change(self, kind: str, args: Args) -> web.Response:
        try:
            change, result = await self.timeline.submit(kind, args)
        except ChangeError as exc:  # a move the clock cannot make where it stands: 409
            return plain_error(exc.status(400, 409), str(exc))
        return json_response(orjson.dumps({"seq": change.seq, "kind": kind, **result}))

    async def requests(self, request: web.Request) -> web.Response:
        size = self.journal.size if self.journal is not None else 0
        try:
            query = journal_query(request, max(size, 1))
            entries = await self.journal.select(query) if self.journal is not None else []
        except (BadRequest, RuleError) as exc:
            return plain_error(400, str(exc))
        except StoreError as exc:
            return plain_error(503, str(exc))
        return json_response(orjson.dumps({"requests": entries, "size": size}))

    async def clear_requests(self, request: web.Request) -> web.Response:
        try:
            cleared = await self.journal.clear() if self.journal is not None else 0
        except StoreError as exc:
            return plain_error(503, str(exc))
        return json_response(orjson.dumps({"cleared": cleared}))

    async def list_faults(self, request: web.Request) -> web.Response:
        return json_response(orjson.dumps({"rules": await self.faults.listing()}))

    async def add_faults(self, request: web.Request) -> web.Response:
        """A rule or a list of rules: checked, then logged as a change every worker applies."""
        try:
            rules = await read_json(request)
        except BadRequest as exc:
            return plain_error(400, str(exc))
        if not isinstance(rules, dict | list):
            return plain_error(400, "the body must be a rule (a JSON object) or a list of rules")
        return await self._change("faults", {"rules": rules})

    async def clear_faults(self, request: web.Request) -> web.Response:
        return await self._change("clear_faults", {})

    async def get_fixture(self, request: web.Request) -> web.Response:
        """As written; as JSON if asked for (and it has a JSON form: YAML may say more)."""
        current = self.timeline.world.fixture
        accept = request.headers.get("Accept", "")
        if fixture.JSON_TYPE in accept and "yaml" not in accept:
            try:
                return json_response(orjson.dumps(current.raw or {}, option=orjson.OPT_NON_STR_KEYS))
            except orjson.JSONEncodeError:
                pass
        return web.Response(text=current.text, content_type=fixture.YAML_TYPES[0], charset="utf-8")

    async def put_fixture(self, request: web.Request) -> web.Response:
        """The world replaced by the fixture's, as a logged change; the new world's health."""
        try:
            text = await fixture.read_text(request)
        except fixture.BodyRefused as exc:
            return plain_error(exc.status, str(exc))
        try:
            await self.timeline.submit(FIXTURE, {"text": text})
        except ChangeError as exc:
            return plain_error(400, str(exc))
        return json_response(orjson.dumps(self.health_document()))

    async def changes(self, request: web.Request) -> web.StreamResponse:
        """The log of changes as JSON lines: `mockserver serve --changes FILE` replays it.
        Streamed from where it is kept, a chunk at a time: a log of usage can be large."""
        chunks = self.timeline.log.export()
        first = await anext(chunks, b"")  # a log that cannot be read is refused before the answer starts
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson", **dict(CORS_HEADERS)})
        await response.prepare(request)
        await response.write(first)
        async for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
        return response

    async def document(self, request: web.Request) -> web.Response:
        documents = self.published.documents
        document = documents.get(request.match_info["api"])
        if document is None:
            return plain_error(404, f"no such document; there are {', '.join(documents)}")
        return json_response(document)

    async def inspector(self, request: web.Request) -> web.Response:
        return web.Response(body=self.published.page, content_type="text/html", charset="utf-8")

    async def asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        media = inspector.ASSETS.get(name)
        if media is None:
            return plain_error(404, f"no such file; there are {', '.join(inspector.ASSETS)}")
        return web.Response(body=self.published.assets[name], content_type=media, charset="utf-8")

    async def root(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(openapi.INSPECTOR)
