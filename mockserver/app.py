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

_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept",
    "Access-Control-Max-Age": "600",
}


def json_response(payload: bytes, status: int = 200) -> web.Response:
    return web.Response(body=payload, status=status, content_type="application/json")


def _facade_for(request: web.Request) -> Facade | None:
    for facade in request.app[FACADES]:
        if request.path.startswith(facade.prefix):
            return facade
    return None


def _plain_error(status: int, message: str) -> web.Response:
    return json_response(orjson.dumps({"message": message}), status)


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Browser front-ends call the mock directly: answer preflights, label every response."""
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response: web.StreamResponse = web.Response(status=204)
        requested = request.headers.get("Access-Control-Request-Headers")
        if requested:
            response.headers["Access-Control-Allow-Headers"] = requested
    else:
        response = await handler(request)
    for name, value in _CORS_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves in the emulated API's own error shape; tracebacks stay in the log."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        facade = _facade_for(request)
        message = f"{exc.reason}: {request.method} {request.path}"
        return facade.error(exc.status, message) if facade else _plain_error(exc.status, message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path_qs)
        facade = _facade_for(request)
        message = "internal error"
        return facade.error(500, message) if facade else _plain_error(500, message)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    facade = _facade_for(request)
    if facade is not None and not _authorized(request):
        return facade.unauthorized()
    return await handler(request)


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
    app = web.Application(middlewares=[cors_middleware, error_middleware, auth_middleware])
    app[WORLD] = world
    app[SETTINGS] = settings or Settings.from_world(world)
    app[FACADES] = tuple(facades)
    app.router.add_get("/_mock/health", health)
    for facade in facades:
        app.router.add_routes(list(facade.routes(world, app[SETTINGS])))
    return app
