"""The application shell the facades plug into: auth, CORS, errors and health, once for all.

The shell never imports a facade; each facade hands it routes and its own error shape. The
shell guards each route as it is added instead of running as a middleware: an aiohttp
middleware chain adds a few calls to every request, several percent of a page's cost, and
guarding at registration gives the same single layer for nothing. What no route matches (an
unknown path, another method, a CORS preflight) is answered by fallback routes in the shape of
the facade whose prefix it falls under.
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

from mockserver.generation.fixture import STATUSES
from mockserver.world import clock
from mockserver.world.state import World

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

    def rejection(self, exc: Exception) -> web.Response | None:
        """The API's answer to an exception its routes raise to refuse a request; None for
        any other exception, which is a bug."""
        ...


WORLD = web.AppKey("world", World)

# The rest of any path, newlines included (a decoded path may hold any character).
ANY_TAIL = r"{tail:[\s\S]*}"
SETTINGS = web.AppKey("settings", Settings)

CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, OPTIONS"),
    ("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept"),
    ("Access-Control-Max-Age", "600"),
)
# A JSON response's own headers, CORS included, built once: a response copies them in C.
_JSON_HEADERS = CIMultiDict((("Content-Type", "application/json"), *CORS_HEADERS))


def json_response(payload: bytes, status: int = 200) -> web.Response:
    return web.Response(body=payload, status=status, headers=_JSON_HEADERS)


def plain_error(status: int, message: str) -> web.Response:
    return json_response(orjson.dumps({"message": message}), status)


def _preflight(request: web.Request) -> web.Response:
    headers = CIMultiDict(CORS_HEADERS)
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        headers["Access-Control-Allow-Headers"] = requested
    return web.Response(status=204, headers=headers)


def authorized(header: str, accepted: frozenset[str]) -> bool:
    """Whether an Authorization header carries a bearer token the fixture accepts."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return False
    return not accepted or token in accepted


class Shell:
    """CORS, bearer auth and errors around every route, in one layer per route.

    Browser front-ends call the mock directly: preflights are answered and every response is
    labelled. A facade's routes need a bearer token. Every failure leaves in the emulated API's
    own error shape: a route refuses a request by raising, and its facade names the answer;
    tracebacks stay in the log.
    """

    def __init__(self, settings: Settings) -> None:
        tokens = settings.tokens
        # Clients send the same header on every request: decide once per distinct header.
        self.accepts = lru_cache(maxsize=256)(lambda header: authorized(header, tokens))

    def guard(self, facade: Facade | None, handler: Handler) -> Handler:
        """`handler` behind the facade's token check and error shape (None: no token, plain errors)."""
        accepts = self.accepts
        cors_marker = CORS_HEADERS[0][0]

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                if facade is not None and not accepts(request.headers.get("Authorization", "")):
                    response: web.StreamResponse = facade.unauthorized()
                else:
                    response = await handler(request)
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                response = _error(facade, exc.status, f"{exc.reason}: {request.method} {request.path}")
                if "Allow" in exc.headers:
                    response.headers["Allow"] = exc.headers["Allow"]
            except Exception as exc:
                refused = facade.rejection(exc) if facade is not None else None
                if refused is None:
                    log.exception("unhandled error on %s %s", request.method, request.path_qs)
                    refused = _error(facade, 500, "internal error")
                response = refused
            headers = response.headers
            if cors_marker not in headers:  # `json_response` answers carry them already
                for name, value in CORS_HEADERS:
                    headers.setdefault(name, value)
            return response

        return guarded

    def fallback(self, facade: Facade | None, allowed: Sequence[str] | None) -> Handler:
        """What answers a request no route takes: a CORS preflight, else 405 on a known path
        (`allowed` its methods), else 404."""

        async def unmatched(request: web.Request) -> web.StreamResponse:
            if allowed is None:
                raise web.HTTPNotFound()
            raise web.HTTPMethodNotAllowed(request.method, allowed)

        guarded = self.guard(facade, unmatched)

        async def answer(request: web.Request) -> web.StreamResponse:
            if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
                return _preflight(request)
            return await guarded(request)

        return answer


def _error(facade: Facade | None, status: int, message: str) -> web.Response:
    return facade.error(status, message) if facade is not None else plain_error(status, message)


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
    app = web.Application()
    app[WORLD] = world
    app[SETTINGS] = settings
    shell = Shell(settings)
    router = app.router
    health = health_body(world, settings)

    async def report_health(request: web.Request) -> web.Response:
        return json_response(health)

    health_route = router.add_get("/_mock/health", shell.guard(None, report_health), name="mock.health")
    _add_fallback(shell, None, health_route.resource)
    for facade in facades:
        resources: dict[str, web.AbstractResource] = {}
        for route in facade.routes(world, settings):
            guarded = web.RouteDef(route.method, route.path, shell.guard(facade, route.handler), route.kwargs)
            for added in guarded.register(router):
                resources[added.resource.canonical] = added.resource
        for resource in resources.values():
            _add_fallback(shell, facade, resource)
        router.add_route(
            "*", facade.prefix + ANY_TAIL, shell.fallback(facade, None), name=f"{facade.name}.unmatched"
        )
    router.add_route("*", "/" + ANY_TAIL, shell.fallback(None, None), name="unmatched")
    return app


def _add_fallback(shell: Shell, facade: Facade | None, resource: web.AbstractResource | None) -> None:
    """Any other method on a route's path: 405 naming the methods it has, or a preflight."""
    assert isinstance(resource, web.Resource)
    allowed = sorted({route.method for route in resource})
    resource.add_route("*", shell.fallback(facade, allowed))
