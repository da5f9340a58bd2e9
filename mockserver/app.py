"""The application shell the facades plug into: auth, CORS, errors and health, once for all.

The shell never imports a facade; each facade hands it routes and its own error shape.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import orjson
from aiohttp import web
from multidict import CIMultiDict

from mockserver import clock
from mockserver.fixture import STATUSES
from mockserver.world import World

log = logging.getLogger("mockserver")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Settings:
    """What the command line may override on top of the fixture."""

    tokens: frozenset[str] = frozenset()
    dialect: str = "documented"
    default_sort: str = "date_asc"

    @classmethod
    def from_world(cls, world: World, dialect: str | None = None) -> Settings:
        fixture = world.fixture
        return cls(frozenset(fixture.tokens), dialect or fixture.dialect, fixture.default_sort)


class Facade(Protocol):
    """One emulated API: a URL prefix, its routes, and the error body that API would send."""

    name: str
    prefix: str

    def routes(self, world: World, settings: Settings) -> Iterable[web.RouteDef]: ...

    def error(self, status: int, message: str) -> web.Response: ...

    def unauthorized(self) -> web.Response: ...

    def rejection(self, exc: Exception) -> web.Response | None:
        """The API's answer to an exception its routes raise to refuse a request; None for
        any other exception, which is a bug."""
        ...


WORLD = web.AppKey("world", World)
SETTINGS = web.AppKey("settings", Settings)

_CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, OPTIONS"),
    ("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept"),
    ("Access-Control-Max-Age", "600"),
)
# A JSON response's own headers, CORS included, built once: a response copies them in C.
_JSON_HEADERS = CIMultiDict((("Content-Type", "application/json"), *_CORS_HEADERS))


def json_response(payload: bytes, status: int = 200) -> web.Response:
    return web.Response(body=payload, status=status, headers=_JSON_HEADERS)


def _plain_error(status: int, message: str) -> web.Response:
    return json_response(orjson.dumps({"message": message}), status)


def _preflight(request: web.Request) -> web.Response:
    response = web.Response(status=204)
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        response.headers["Access-Control-Allow-Headers"] = requested
    return response


def authorized(header: str, accepted: frozenset[str]) -> bool:
    """Whether an Authorization header carries a bearer token the fixture accepts."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return False
    return not accepted or token in accepted


def shell_middleware(facades: Sequence[Facade], settings: Settings) -> Middleware:
    """CORS, bearer auth and errors around every route, in one layer (each layer costs a call).

    Browser front-ends call the mock directly: preflights are answered and every response is
    labelled. A facade's routes need a bearer token. Every failure leaves in the emulated API's
    own error shape: a route refuses a request by raising, and its facade names the answer;
    tracebacks stay in the log. What the layer needs is bound here, once.
    """
    prefixes = tuple((facade.prefix, facade) for facade in facades)
    cors_marker = _CORS_HEADERS[0][0]
    tokens = settings.tokens
    # Clients send the same header on every request: decide once per distinct header.
    accepts = lru_cache(maxsize=256)(lambda header: authorized(header, tokens))

    @web.middleware
    async def shell(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response: web.StreamResponse = _preflight(request)
        else:
            path = request.path
            facade = None
            for prefix, candidate in prefixes:
                if path.startswith(prefix):
                    facade = candidate
                    break
            try:
                if facade is not None and not accepts(request.headers.get("Authorization", "")):
                    response = facade.unauthorized()
                else:
                    response = await handler(request)
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                message = f"{exc.reason}: {request.method} {path}"
                response = facade.error(exc.status, message) if facade else _plain_error(exc.status, message)
            except Exception as exc:
                refused = facade.rejection(exc) if facade else None
                if refused is None:
                    log.exception("unhandled error on %s %s", request.method, request.path_qs)
                    message = "internal error"
                    refused = facade.error(500, message) if facade else _plain_error(500, message)
                response = refused
        headers = response.headers
        if cors_marker not in headers:  # `json_response` answers carry them already
            for name, value in _CORS_HEADERS:
                headers.setdefault(name, value)
        return response

    return shell


def health_body(world: World, settings: Settings) -> bytes:
    """What `/_mock/health` answers: the world never changes, so it is encoded once."""
    counted = Counter(world.cols.status)
    body = {
        "status": "ok",
        "fixture": world.fixture.name,
        "seed": world.seed,
        "now": clock.format_z(world.now),
        "dialect": settings.dialect,
        "counts": {
            "customers": len(world.customers),
            "contracts": len(world.contracts),
            "invoices": len(world),
            "invoices_by_status": {name: counted[code] for code, name in enumerate(STATUSES)},
        },
    }
    return orjson.dumps(body)


def create_app(world: World, facades: Sequence[Facade], settings: Settings | None = None) -> web.Application:
    """The application factory: one world, any number of facades, shared cross-cutting concerns."""
    settings = settings or Settings.from_world(world)
    app = web.Application(middlewares=[shell_middleware(facades, settings)])
    app[WORLD] = world
    app[SETTINGS] = settings
    health = health_body(world, settings)

    async def report_health(request: web.Request) -> web.Response:
        return json_response(health)

    app.router.add_get("/_mock/health", report_health)
    for facade in facades:
        app.router.add_routes(list(facade.routes(world, settings)))
    return app
