"""Serving while the world loads: the port answers from the moment it is bound.

A large world takes seconds to generate and order. Meanwhile `GET /_mock/health` answers 503
`{"status": "loading", ...}` with the load's progress, and every other request 503 with
`Retry-After`, in the error shape of the API its path falls under: health checks and clients
that retry wait instead of being refused a connection. The world is built in a thread of this
process, so that forked workers still share it. Loading answers close their connection: the
server that answers them stops once the world is ready, and the one that follows takes over
the same listening socket, so nothing is refused in between.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import orjson
from aiohttp import web

from mockserver.shell.accesslog import runner_options
from mockserver.shell.app import ANY_TAIL, CORS_HEADERS, Facade, Handler, json_response, plain_error
from mockserver.shell.ports import BACKLOG
from mockserver.shell.protocol import ShellRunner
from mockserver.world.generator import Progress
from mockserver.world.spec import Fixture

Built = TypeVar("Built")  # what a load builds: the world, or its timeline with its changes replayed

RETRY_AFTER = "1"  # seconds
DRAIN = 1.0  # seconds the loading server waits, once loaded, for requests on connections it took


class Loading:
    """How far the load has got, as health reports it; advanced from the loading thread."""

    def __init__(self, fixture: Fixture) -> None:
        self.fixture = fixture
        self.started = time.monotonic()
        # One tuple, replaced whole, so that a reader never sees half an update.
        self.state: tuple[str, str, int, int] = ("starting", "", 0, 0)

    def progress(self, phase: str, unit: str) -> Progress:
        def advance(done: int, total: int) -> None:
            self.state = (phase, unit, done, total)

        return advance

    def health(self) -> bytes:
        phase, unit, done, total = self.state
        message = f"loading fixture {self.fixture.name!r}: {phase}"
        if total:
            message += f", {done}/{total} {unit}"
        return orjson.dumps(
            {
                "status": "loading",
                "message": message,
                "fixture": self.fixture.name,
                "seed": self.fixture.seed,
                "phase": phase,
                "progress": {"done": done, "total": total, "unit": unit},
                "seconds": round(time.monotonic() - self.started, 1),
            }
        )


def loading_app(loading: Loading, facades: Sequence[Facade]) -> web.Application:
    """Health with progress, and 503 in each facade's shape (plain JSON elsewhere)."""
    message = f"the mock server is still loading fixture {loading.fixture.name!r}; retry shortly"

    async def health(request: web.Request) -> web.Response:
        return _unavailable(json_response(loading.health(), 503))

    def refusal(error: Callable[[int, str], web.Response]) -> Handler:
        async def refuse(request: web.Request) -> web.Response:
            return _unavailable(error(503, message))

        return refuse

    app = web.Application()
    router = app.router
    router.add_get("/_mock/health", health, name="control.health")
    for facade in facades:
        router.add_route("*", facade.prefix + ANY_TAIL, refusal(facade.error), name=f"{facade.name}.loading")
    router.add_route("*", "/" + ANY_TAIL, refusal(plain_error), name="loading")
    return app


def _unavailable(response: web.Response) -> web.Response:
    headers = response.headers
    for name, value in CORS_HEADERS:
        headers.setdefault(name, value)
    headers["Retry-After"] = RETRY_AFTER
    response.force_close()
    return response


def load_while_serving(
    sock: socket.socket, app: web.Application, build: Callable[[], Built], log_format: str | None
) -> Built:
    """Run `build` in a thread while `app` answers on `sock`; return what it built.

    `sock` stays open and listening for whatever serves next. Ctrl-C stops the wait (the
    thread, a daemon, ends with the process).
    """
    return asyncio.run(_serve_until_built(sock, app, build, log_format))


async def _serve_until_built(
    sock: socket.socket, app: web.Application, build: Callable[[], Built], log_format: str | None
) -> Built:
    runner = ShellRunner(app, handle_signals=False, **runner_options(app, log_format))
    await runner.setup()
    # A site closes the socket it served when it stops: it gets a duplicate.
    listening = sock.dup()
    site = web.SockSite(runner, listening, backlog=BACKLOG)
    await site.start()
    built: concurrent.futures.Future[Built] = concurrent.futures.Future()
    thread = threading.Thread(target=_build_into, args=(build, built), name="mockserver-load", daemon=True)
    thread.start()
    try:
        result = await asyncio.wrap_future(built)
    finally:
        # Connections not accepted yet wait on the socket for the server that follows; those
        # accepted get their answer (which closes them) rather than being cut mid-request. The
        # site stops accepting first and stops only then: a connection it has accepted but not
        # yet handed to the server would be dropped if the site stopped before.
        asyncio.get_running_loop().remove_reader(listening.fileno())
        await _answered(runner, DRAIN)
        await site.stop()
        await runner.cleanup()
    thread.join()  # it has handed the world over and only has to end, before anything forks
    return result


async def _answered(runner: web.AppRunner, within: float) -> None:
    """Wait until the server has no connection left (or `within` seconds have passed); first
    a moment, as a connection just accepted joins the server a few turns of the loop later."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    assert runner.server is not None
    await asyncio.sleep(0.005)
    while runner.server.connections and loop.time() < deadline:
        await asyncio.sleep(0.005)


def _build_into(build: Callable[[], Built], built: concurrent.futures.Future[Built]) -> None:
    built.set_running_or_notify_cancel()  # from now on the future cannot be cancelled
    try:
        built.set_result(build())
    except BaseException as exc:
        built.set_exception(exc)
