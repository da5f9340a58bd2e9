"""Run the app: one process, or several serving one pre-built world on one port.

The port is bound before the world is built (`ports`), and answers while it loads (`loading`).

With `--workers N` the world is built once and forked into N worker processes. On Linux each
worker listens on its own socket bound with SO_REUSEPORT, so the kernel spreads connections
evenly; a single socket shared by every worker would let whichever wakes first take nearly all
of them. Elsewhere the workers share one listening socket. The parent only supervises: it
announces `ready` once every worker accepts, forwards SIGINT/SIGTERM, and replaces a worker
that dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from aiohttp import web

from mockserver.control.faults import Faults
from mockserver.control.fixture import world_of
from mockserver.control.journal import Journal, declared_queries
from mockserver.control.routes import ControlPlane, Published
from mockserver.control.shared import shared_list
from mockserver.control.tally import tally_of
from mockserver.control.webhooks import Deliveries
from mockserver.meteroid import MeteroidFacade
from mockserver.metronome import MetronomeFacade
from mockserver.shell.accesslog import runner_options
from mockserver.shell.app import WORLDS, Facade, Settings, create_app
from mockserver.shell.ports import BACKLOG, Listener
from mockserver.shell.protocol import ShellRunner
from mockserver.shell.worlds import CONTROL, Branches, ServedWorld, Worlds, file_branches
from mockserver.webhooks.delivery import RECORDS, Dispatcher, close_session
from mockserver.webhooks.pending import pending_store
from mockserver.world.log import FileLog, LogError
from mockserver.world.state import World
from mockserver.world.timeline import Timeline

RESPAWN_WINDOW = 10.0  # seconds: more than `workers` deaths within it and the server gives up
PARENT_CHECK = 1.0  # seconds between a worker's checks that its supervisor is still alive
CURRENT = 0.1  # seconds between a worker's (and the supervisor's) reads of what others logged

log = logging.getLogger("mockserver")


def facades() -> list[Facade]:
    """The APIs served, in the order their prefixes are tried."""
    return [MetronomeFacade(), MeteroidFacade()]


def build_app(
    world: World,
    settings: Settings | None = None,
    timeline: Timeline | None = None,
    logs: Path | Branches | None = None,
) -> web.Application:
    """The composition root: the shell with both facades and the control plane mounted on the
    world, or under isolation on a world per token whose changes go to files in `logs` (the
    same directory for every worker; by default one of the app's own), or to the logs it makes."""
    settings = settings or Settings.from_world(world)
    timeline = timeline or Timeline(world, build=world_of)
    if timeline.build is None:  # a fixture put replaces the world: built as the server reads fixtures
        timeline.build = world_of
    served = facades()
    documents = {facade.name: facade.openapi(settings) for facade in served}
    published = Published(documents)
    declared = declared_queries(documents)

    def bind(one: ServedWorld) -> dict[str, list[web.RouteDef]]:
        routes = {facade.name: facade.routes(one.timeline, settings) for facade in served}
        return {CONTROL: ControlPlane(one, settings, published).routes(), **routes}

    def journal(on: Timeline) -> Journal | None:
        size = settings.journal_size
        return Journal(size, declared, shared_list(on.log, directory, "journal", size)) if size else None

    isolated = settings.isolation == "token"
    scratch = tempfile.TemporaryDirectory(prefix="mockserver-worlds-") if isolated and logs is None else None
    if scratch is not None:
        logs = Path(scratch.name)
    directory = logs if isinstance(logs, Path) else None

    def deliveries(on: Timeline) -> Deliveries:
        dispatcher = Dispatcher(on, pending_store(on.log, directory))
        return Deliveries(dispatcher, shared_list(on.log, directory, "deliveries", RECORDS))

    def serve_on(on: Timeline, owned: bool = True) -> ServedWorld:
        return ServedWorld(
            on, bind, journal(on), Faults(on, tally_of(on.log, directory)), owned, deliveries(on)
        )

    base = serve_on(timeline)
    if not isolated:
        return _stopping_deliveries(create_app(Worlds(served, settings, base)), base)
    world.freeze()  # every request is a token's: the starting world is only ever copied
    branches = logs if callable(logs) else file_branches(logs)

    async def spawn(token: str) -> ServedWorld:
        """A token's world: the starting world, shared until it changes, and its logged changes."""
        branch = serve_on(Timeline(world, branches(token), build=world_of), owned=False)
        try:
            await branch.timeline.log.touch()  # kept from expiring before it is read
            await branch.catch_up()
        except LogError:
            await branch.close()
            raise
        return branch

    app = _stopping_deliveries(create_app(Worlds(served, settings, base, spawn, settings.worlds)), base)
    if scratch is not None:
        app.on_cleanup.append(lambda _app: _removed(scratch))
    return app


def _stopping_deliveries(app: web.Application, base: ServedWorld) -> web.Application:
    """Deliveries under way stop with the app (a token's world stops its own when dropped)."""

    async def stop(_app: web.Application) -> None:
        if base.webhooks is not None:
            await base.webhooks.closed()
        await close_session()

    app.on_cleanup.append(stop)
    return app


async def _removed(scratch: tempfile.TemporaryDirectory) -> None:
    scratch.cleanup()


def serve(
    world: World,
    settings: Settings,
    listener: Listener,
    workers: int = 1,
    log_format: str | None = "text",
    out: TextIO = sys.stdout,
    timeline: Timeline | None = None,
    logs: Path | Branches | None = None,
) -> int:
    """Serve on the bound `listener` until SIGINT or SIGTERM (`log_format` None: no access log);
    under isolation, the workers keep each token's changes in `logs` (a directory, or what
    makes each token's log).

    Returns the exit status: 0 after a requested stop, 1 when workers kept dying.
    """
    timeline = timeline or Timeline(world, build=world_of)
    world.warm()
    gc.collect()
    gc.freeze()  # the world lives as long as the process: keep the collector off it
    sock, base = listener.sock, listener.url
    if workers == 1:
        asyncio.run(
            _run_worker(
                timeline,
                settings,
                lambda: sock,
                log_format,
                lambda: _announce(out, base, world, settings),
                logs=logs,
            )
        )
        return 0
    return _Supervisor(timeline, settings, sock, listener.balanced, log_format, logs).run(
        workers, lambda: _announce(out, base, world, settings, workers)
    )


def _announce(out: TextIO, base: str, world: World, settings: Settings, workers: int = 1) -> None:
    fixture = world.fixture
    out.write(
        f"mockserver: fixture {fixture.name!r} (seed {fixture.seed}), {len(world.customers)} customers, "
        f"{len(world)} invoices, {workers} worker(s)\n"
        f"  Metronome-style API: {base}/v1/customers/{{customer_id}}/invoices\n"
        f"  Meteroid-style API:  {base}/api/v1/invoices  (dialects: both; {settings.dialect} unless asked)\n"
        f"  Health:              {base}/_mock/health\n"
        f"  Inspector:           {base}/_mock/\n"
        f"  OpenAPI documents:   {base}/_mock/openapi/{{metronome,meteroid,control}}.json\n"
        f"ready {base}\n"
    )
    out.flush()


async def _run_worker(
    timeline: Timeline,
    settings: Settings,
    listen: Callable[[], socket.socket],
    log_format: str | None,
    on_ready: Callable[[], None] | None,
    parent: int | None = None,
    logs: Path | Branches | None = None,
) -> None:
    """Serve on the socket `listen` gives, once the app is built and its world current, until
    SIGINT or SIGTERM (or, for a forked worker, until `parent` is gone)."""
    app = build_app(timeline.world, settings, timeline, logs)
    runner = ShellRunner(app, handle_signals=False, **runner_options(app, log_format))
    await runner.setup()
    if timeline.log.shared:
        await app[WORLDS].catch_up()
    site = web.SockSite(runner, listen(), backlog=BACKLOG)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if parent is not None:

        def orphaned() -> None:
            if os.getppid() != parent:
                stop.set()
            else:
                loop.call_later(PARENT_CHECK, orphaned)

        loop.call_later(PARENT_CHECK, orphaned)
    current = None
    if timeline.log.shared or settings.isolation == "token":
        current = loop.create_task(_keep_current(app[WORLDS]))
    if on_ready:
        on_ready()
    try:
        await stop.wait()
    finally:
        if current is not None:
            current.cancel()
        await app[WORLDS].publish()
        await runner.cleanup()


async def _keep_current(worlds: Worlds) -> None:
    """Apply what other workers log as it comes, between requests, so that a request finds
    little or nothing left to apply however long its worker sat idle; and publish what the
    worker recorded to journals others share; take over the webhook deliveries of a worker
    that died."""
    while True:
        await asyncio.sleep(CURRENT)
        await worlds.catch_up()
        await worlds.publish()
        await worlds.take_over()


class _Supervisor:
    """Forks the workers, waits until each accepts, then waits for them and for signals."""

    def __init__(
        self,
        timeline: Timeline,
        settings: Settings,
        sock: socket.socket,
        balanced: bool,
        log_format: str | None,
        logs: Path | Branches | None,
    ) -> None:
        self.timeline, self.settings, self.log_format, self.logs = timeline, settings, log_format, logs
        self.sock, self.balanced = sock, balanced
        self.address = sock.getsockname()[:2]
        self.children: set[int] = set()
        self.stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None  # where it reads what workers log

    def run(self, workers: int, on_ready: Callable[[], None]) -> int:
        ready_read, ready_write = os.pipe()
        for index in range(workers):
            self.spawn(index, ready_write)
        os.close(ready_write)
        # Each worker writes one byte once it accepts; end of file means one died before that.
        with os.fdopen(ready_read, "rb") as ready:
            started = len(ready.read(workers))
        if self.balanced:
            # The first worker took this socket over; were the supervisor to keep it open after
            # that worker died, the port would keep a listener in its group nobody accepts on.
            # Replacements bind sockets of their own. (A shared socket stays open for them.)
            self.sock.close()
        if started < workers:
            log.error("a worker failed to start")
            self.stop_all()
            self.reap(respawn=False)
            return 1
        self.install_signal_handlers()
        on_ready()
        return self.reap(respawn=True)

    def spawn(self, index: int, ready_write: int | None) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid:
            self.children.add(pid)
            return
        code = 0
        try:

            def listen() -> socket.socket:
                """Its socket, bound only once it is ready to accept: a connection the kernel
                hands a replacement never waits for its start."""
                if not self.balanced or (index == 0 and self.sock.fileno() != -1):
                    return self.sock
                sock = socket.create_server(
                    self.address, family=self.sock.family, backlog=BACKLOG, reuse_port=True
                )
                with contextlib.suppress(OSError):
                    self.sock.close()
                return sock

            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

            def ready() -> None:
                if ready_write is not None:
                    os.write(ready_write, b".")
                    os.close(ready_write)

            if isinstance(self.timeline.log, FileLog) and self.timeline.log.shared:
                self.timeline.log.reopen()  # a lock of its own: flock locks belong to an open file
            # The worker reads what was logged meanwhile (a replacement) before it accepts.
            asyncio.run(
                _run_worker(self.timeline, self.settings, listen, self.log_format, ready, parent, self.logs)
            )
        except SystemExit as exc:  # a worker whose world left its log (`Diverged`): replaced
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            log.exception("worker %d failed", os.getpid())
            code = 1
        finally:
            with contextlib.suppress(Exception):
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def _current(self) -> None:
        """Apply what the workers logged, so that a worker forked to replace one starts from a
        world that is current: the supervisor keeps up as the workers do."""
        if not self.timeline.log.shared:
            return
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self.timeline.catch_up())
        except LogError as exc:
            log.error("the supervisor's world cannot be brought up to date: %s", exc)

    def install_signal_handlers(self) -> None:
        def forward(signum: int, _frame: object) -> None:
            self.stopping = True
            self.stop_all(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)

    def stop_all(self, signum: int = signal.SIGTERM) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM if signum == signal.SIGINT else signum)

    def reap(self, respawn: bool) -> int:
        """Wait for every worker; replace one that dies unasked, unless they keep dying."""
        deaths: list[float] = []
        workers = len(self.children)
        status = 0
        while self.children:
            try:
                pid, code = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            if not pid:
                self._current()
                time.sleep(CURRENT)
                continue
            if pid not in self.children:
                continue
            self.children.discard(pid)
            if self.stopping or not respawn:
                continue
            code = os.waitstatus_to_exitcode(code)
            how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            log.error("worker %d stopped unexpectedly (%s); starting another", pid, how)
            now = time.monotonic()
            deaths = [t for t in deaths if now - t < RESPAWN_WINDOW] + [now]
            if len(deaths) > workers:
                log.error("workers keep stopping; shutting down")
                self.stopping, status = True, 1
                self.stop_all()
                continue
            self.spawn(workers, None)
            if self.stopping:  # a stop asked for while the replacement was being forked
                self.stop_all()
        return status
