"""The application shell the facades and the control plane plug into: auth, CORS and errors.

The shell never imports a facade; each facade hands it routes and its own error shape. The
shell guards each route as it is added instead of running as a middleware: an aiohttp
middleware chain adds a few calls to every request, several percent of a page's cost, and
guarding at registration gives the same single layer for nothing. What no route matches (an
unknown path, another method, a CORS preflight) is answered by fallback routes in the shape of
the facade whose prefix it falls under.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import lru_cache

import orjson
from aiohttp import web
from multidict import CIMultiDict

from mockserver.shell.bearer import bearer_token, readable
from mockserver.shell.plugs import Facade, Handler, Settings
from mockserver.shell.worlds import CONTROL, Worlds
from mockserver.world.clock import shown
from mockserver.world.log import LogError, LogWriteError

log = logging.getLogger("mockserver")

CONTROL_HEADER = "Mock-Control-Token"  # what unlocks /_mock writes on a server locked with one


# The rest of any path, newlines included (a decoded path may hold any character).
ANY_TAIL = r"{tail:[\s\S]*}"

CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    ("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept"),
    ("Access-Control-Max-Age", "600"),
    # What a browser app on another origin may read of an answer: the retry hints (a fault
    # rule's, a loading server's), the Meteroid spelling that answered, a 405's methods, and
    # through `*` any other header a fault rule sends. The names are spelled out as well for
    # browsers that read `*` literally.
    ("Access-Control-Expose-Headers", "Retry-After, retry-after-ms, Meteroid-Dialect, Allow, *"),
)
UNREADABLE = "the Authorization header is not valid UTF-8"
# A JSON response's own headers, CORS included, built once: a response copies them in C.
_JSON_HEADERS = CIMultiDict((("Content-Type", "application/json"), *CORS_HEADERS))


def json_headers(*extra: tuple[str, str]) -> CIMultiDict[str]:
    """A JSON response's headers plus a facade's own, for `json_response`: built once, not per request."""
    return CIMultiDict((*_JSON_HEADERS.items(), *extra))


def json_response(
    payload: bytes, status: int = 200, headers: CIMultiDict[str] = _JSON_HEADERS
) -> web.Response:
    return web.Response(body=payload, status=status, headers=headers)


def plain_error(status: int, message: str) -> web.Response:
    """The shell's own error shape, for routes of no emulated API."""
    return json_response(orjson.dumps({"message": message}), status)


def _preflight(request: web.Request, admitted: bool) -> web.Response:
    """A CORS preflight's answer: any origin may call the APIs and read the control plane;
    writing to the control plane admits none (they are the developer's own)."""
    if not admitted:
        return web.Response(status=204)
    headers = CIMultiDict(CORS_HEADERS)
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        headers["Access-Control-Allow-Headers"] = requested
    return web.Response(status=204, headers=headers)


# Body types a web page may send to any site without a preflight.
SAFELISTED = frozenset(("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"))


def cross_site(request: web.Request) -> str | None:
    """Why a control-plane write may come from a page of another site (None: it cannot): an
    Origin other than the server's own, or a body type any page may send. Scripts send no
    Origin; the inspector sends its own."""
    origin = request.headers.get("Origin")
    own = request.host  # a proxy may end TLS in front: the scheme may differ, the host not
    if origin is not None and origin.partition("://")[2] != own:
        return (
            f"a page of {shown(origin)} may not change this server ({own}): its control plane "
            "takes no cross-site writes"
        )
    if "Content-Type" in request.headers and request.content_type in SAFELISTED:
        return (
            f"a body of type {request.content_type} may come from a page of any site, so the control "
            "plane takes none; send application/json"
        )
    return None


def unlocks(value: str, control_token: str) -> bool:
    """Whether a Mock-Control-Token header carries the control token (compared in constant
    time: a shared server's secret)."""
    return hmac.compare_digest(value.encode(errors="surrogatepass"), control_token.encode())


def authorized(header: str, accepted: frozenset[str]) -> bool:
    """Whether an Authorization header carries a bearer token the fixture accepts."""
    token = bearer_token(header)
    return bool(token) and (not accepted or token in accepted)


class Shell:
    """CORS, bearer auth and errors around every route, in one layer per route.

    Browser front-ends call the mock directly: preflights are answered and every response is
    labelled. A facade's routes need a bearer token. Every failure leaves in the emulated API's
    own error shape: a route refuses a request by raising, and its facade names the answer;
    tracebacks stay in the log. Each request is served by its world (`Worlds.of`): that
    world's handler, journal and fault rules.
    """

    def __init__(self, settings: Settings, worlds: Worlds) -> None:
        self.worlds = worlds
        self.control_token = settings.control_token
        tokens = settings.tokens
        # Clients send the same header on every request: decide once per distinct header.
        self.accepts = lru_cache(maxsize=256)(lambda header: authorized(header, tokens))

    def guard(
        self,
        facade: Facade | None,
        api: str | None,
        operation: str | None,
        method: str = "GET",
        handler: Handler | None = None,
    ) -> Handler:
        """The route named `operation` (`metronome.listInvoices`), as each world binds it (or
        `handler`), behind the facade's token check and error shape (None: no token, plain
        errors).

        `api` names the route's API for the journal, which records every request but the
        control plane's, and for the fault rules, which answer only the emulated APIs'
        requests (the harness stays reachable). A request of any method but GET may change its
        world: a world still shared is copied first."""
        accepts, of = self.accepts, self.worlds.of
        recorded = api != "control"
        faulted = facade is not None
        writes = method not in ("GET", "HEAD", "*")
        guarded_plane = api == "control" and writes  # no web page of another site may call it
        control_token = self.control_token if guarded_plane else None
        # One world for every request (its handlers are bound again when a fixture replaces it).
        fixed = None if self.worlds.isolated else self.worlds.base

        async def guarded(request: web.Request) -> web.StreamResponse:
            if not readable(request.headers.get("Authorization", "")):
                return _with_cors(_error(facade, 401 if facade else 400, UNREADABLE))
            if guarded_plane and (refusal := cross_site(request)) is not None:
                return _without_cors(plain_error(403, refusal))
            started = time.time()
            served, fault = fixed, None
            try:
                if served is None:
                    served = await of(request)
                    served.inflight += 1
                if served.before is not None:
                    await served.before()
                if writes and not served.owned:
                    served.own()
                response: web.StreamResponse | None = None
                faults = served.faults
                if (
                    faulted
                    and faults is not None
                    and (picked := await faults.pick(request, api, operation)) is not None
                ):
                    fault = picked.effect
                    response = await faults.answer(picked, request, facade)
                if response is None:
                    if facade is not None and not accepts(request.headers.get("Authorization", "")):
                        response = facade.unauthorized()
                    elif control_token is not None and not unlocks(
                        request.headers.get(CONTROL_HEADER, ""), control_token
                    ):
                        response = plain_error(401, f"the control plane is locked: send {CONTROL_HEADER}")
                    else:
                        response = await (handler or served.handlers[operation])(request)
                        if writes and (durable := served.timeline.log.durable) is not None:
                            await durable()
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                response = _error(facade, exc.status, f"{exc.reason}: {request.method} {request.path}")
                if "Allow" in exc.headers:
                    response.headers["Allow"] = exc.headers["Allow"]
            except LogWriteError as exc:  # the change was refused: nothing of it applied
                log.error("the change log cannot be written (%s): %s %s", exc, request.method, request.path)
                response = _error(facade, 503, f"the change log cannot be written: {exc}")
            except LogError as exc:  # its log of changes holds one that cannot be applied
                log.error(
                    "the world of %s %s cannot be brought up to date: %s", request.method, request.path, exc
                )
                response = _error(facade, 503, f"the world's log of changes cannot be applied: {exc}")
            except Exception as exc:
                refused = facade.rejection(exc) if facade is not None else None
                if refused is None:
                    log.exception("unhandled error on %s %s", request.method, request.path_qs)
                    refused = _error(facade, 500, "internal error")
                response = refused
            finally:
                if fixed is None and served is not None:
                    served.release()
            if guarded_plane:
                _without_cors(response)
            else:
                _with_cors(response)
            if recorded and served is not None and served.journal is not None:
                served.journal.record(request, api, operation, response, started, fault)
            return response

        return guarded

    def fallback(self, facade: Facade | None, allowed: Sequence[str] | None, api: str | None) -> Handler:
        """What answers a request no route takes: a CORS preflight, else 405 on a known path
        (`allowed` its methods), else 404."""

        async def unmatched(request: web.Request) -> web.StreamResponse:
            if allowed is None:
                raise web.HTTPNotFound()
            raise web.HTTPMethodNotAllowed(request.method, allowed)

        guarded = self.guard(facade, api, None, handler=unmatched)

        async def answer(request: web.Request) -> web.StreamResponse:
            requested = request.headers.get("Access-Control-Request-Method")
            if request.method == "OPTIONS" and requested is not None:
                return _preflight(request, api != "control" or requested in ("GET", "HEAD"))
            return await guarded(request)

        return answer


def _without_cors(response: web.StreamResponse) -> web.StreamResponse:
    """The response readable by no other origin (`json_response` labels every answer)."""
    for name, _ in CORS_HEADERS:
        response.headers.popall(name, None)
    return response


def _with_cors(response: web.StreamResponse) -> web.StreamResponse:
    """The response labelled for browsers (`json_response` answers carry the labels already)."""
    headers = response.headers
    if CORS_HEADERS[0][0] not in headers:
        for name, value in CORS_HEADERS:
            headers.setdefault(name, value)
    return response


def _error(facade: Facade | None, status: int, message: str) -> web.Response:
    return facade.error(status, message) if facade is not None else plain_error(status, message)


WORLDS = web.AppKey("worlds", Worlds)


def create_app(worlds: Worlds) -> web.Application:
    """The application factory: the routes of every facade of `worlds` and its open routes
    (the control plane, served without a token in the shell's own error shape), each request
    answered by its world."""
    app = web.Application()
    app[WORLDS] = worlds
    shell = Shell(worlds.settings, worlds)
    router = app.router
    routes = worlds.base.routes
    _register(router, shell, None, CONTROL, routes.get(CONTROL, ()))
    for facade in worlds.facades:
        _register(router, shell, facade, facade.name, routes.get(facade.name, ()))
        router.add_route(
            "*",
            facade.prefix + ANY_TAIL,
            shell.fallback(facade, None, facade.name),
            name=f"{facade.name}.unmatched",
        )
    router.add_route("*", "/" + ANY_TAIL, shell.fallback(None, None, None), name="unmatched")
    app.on_cleanup.append(_close(worlds))
    return app


def _close(worlds: Worlds) -> Callable[[web.Application], Awaitable[None]]:
    async def close(_app: web.Application) -> None:
        await worlds.close()

    return close


def _register(
    router: web.UrlDispatcher, shell: Shell, facade: Facade | None, api: str, routes: Iterable[web.RouteDef]
) -> None:
    """Each route behind the shell's guard, named by its operation, and a fallback for other
    methods on its path. Operations on one path are resources of their own (a resource has one
    name); the router tries them in turn, so the fallback goes on the last, allowing them all."""
    resources: dict[str, list[web.Resource]] = {}
    for route in routes:
        name = route.kwargs.get("name")
        if name is None:
            raise ValueError(f"route {route.method} {route.path} has no name: its handler is found by it")
        guarded = shell.guard(facade, api, name, route.method)
        for added in web.RouteDef(route.method, route.path, guarded, route.kwargs).register(router):
            resource = added.resource
            assert isinstance(resource, web.Resource)
            on_path = resources.setdefault(resource.canonical, [])
            if resource not in on_path:
                on_path.append(resource)
    for on_path in resources.values():
        allowed = sorted({route.method for resource in on_path for route in resource})
        on_path[-1].add_route("*", shell.fallback(facade, allowed, api))
