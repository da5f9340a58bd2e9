"""The application shell the facades plug into: auth, CORS, errors and health, once for all.

The shell never imports a facade; each facade hands it routes and its own error shape.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson
from aiohttp import web
from multidict import CIMultiDict

from mockserver import clock
from mockserver.fixture import STATUSES
from mockserver.world import World

log = logging.getLogger("mockserver")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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


WORLD = web.AppKey("world", World)
SETTINGS = web.AppKey("settings", Settings)
FACADES = web.AppKey("facades", tuple)

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


def _facade_for(request: web.Request) -> Facade | None:
    path = request.path
    for facade in request.app[FACADES]:
        if path.startswith(facade.prefix):
            return facade
    return None


def _plain_error(status: int, message: str) -> web.Response:
    return json_response(orjson.dumps({"message": message}), status)


def _preflight(request: web.Request) -> web.Response:
    response = web.Response(status=204)
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        response.headers["Access-Control-Allow-Headers"] = requested
    return response


@web.middleware
async def shell_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CORS, bearer auth and errors around every route, in one layer (each layer costs a call).

    Browser front-ends call the mock directly: preflights are answered and every response is
    labelled. A facade's routes need a bearer token. Every failure leaves in the emulated API's
    own error shape; tracebacks stay in the log.
    """
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response: web.StreamResponse = _preflight(request)
    else:
        facade = _facade_for(request)
        try:
            if facade is not None and not _authorized(request):
                response = facade.unauthorized()
            else:
                response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            message = f"{exc.reason}: {request.method} {request.path}"
            response = facade.error(exc.status, message) if facade else _plain_error(exc.status, message)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path_qs)
            message = "internal error"
            response = facade.error(500, message) if facade else _plain_error(500, message)
    headers = response.headers
    for name, value in _CORS_HEADERS:
        headers.setdefault(name, value)
    return response


def _authorized(request: web.Request) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return False
    accepted = request.app[SETTINGS].tokens
    return not accepted or token in accepted


async def health(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    statuses = {name: 0 for name in STATUSES}
    for code in world.cols.status:
        statuses[STATUSES[code]] += 1
    body = {
        "status": "ok",
        "fixture": world.fixture.name,
        "seed": world.seed,
        "now": clock.format_z(world.now),
        "dialect": request.app[SETTINGS].dialect,
        "counts": {
            "customers": len(world.customers),
            "contracts": len(world.contracts),
            "invoices": len(world),
            "invoices_by_status": statuses,
        },
    }
    return json_response(orjson.dumps(body))


def create_app(world: World, facades: Sequence[Facade], settings: Settings | None = None) -> web.Application:
    """The application factory: one world, any number of facades, shared cross-cutting concerns."""
    app = web.Application(middlewares=[shell_middleware])
    app[WORLD] = world
    app[SETTINGS] = settings or Settings.from_world(world)
    app[FACADES] = tuple(facades)
    app.router.add_get("/_mock/health", health)
    for facade in facades:
        app.router.add_routes(list(facade.routes(world, app[SETTINGS])))
    return app
