"""Run the app: one process, or several sharing one listening socket and one pre-built world."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
from typing import TextIO

from aiohttp import web

from mockserver.app import Settings, create_app
from mockserver.meteroid import MeteroidFacade
from mockserver.metronome import MetronomeFacade
from mockserver.world import World

ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'


def build_app(world: World, settings: Settings | None = None) -> web.Application:
    """The composition root: the shell with both facades mounted."""
    return create_app(world, [MetronomeFacade(), MeteroidFacade()], settings)


def serve(
    world: World,
    settings: Settings,
    host: str,
    port: int,
    workers: int = 1,
    access_log: bool = True,
    out: TextIO = sys.stdout,
) -> None:
    """Bind first (so `--port 0` can be announced), then serve until SIGINT or SIGTERM."""
    world.warm()
    gc.collect()
    gc.freeze()  # the world lives as long as the process: keep the collector off it
    sock = socket.create_server((host, port), backlog=2048)
    bound = sock.getsockname()[1]
    base = f"http://{host}:{bound}"
    if workers == 1:
        asyncio.run(
            _run_worker(world, settings, sock, access_log, lambda: _announce(out, base, world, settings))
        )
        return
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                asyncio.run(_run_worker(world, settings, sock, access_log, None))
            except BaseException:
                code = 1
            os._exit(code)
        children.append(pid)
    sock.close()
    _announce(out, base, world, settings, workers)
    _supervise(children)


def _announce(out: TextIO, base: str, world: World, settings: Settings, workers: int = 1) -> None:
    fixture = world.fixture
    out.write(
        f"mockserver: fixture {fixture.name!r} (seed {fixture.seed}), {len(world.customers)} customers, "
        f"{len(world)} invoices, {workers} worker(s)\n"
        f"  Metronome-style API: {base}/v1/customers/{{customer_id}}/invoices\n"
        f"  Meteroid-style API:  {base}/api/v1/invoices  (dialect: {settings.dialect})\n"
        f"  Health:              {base}/_mock/health\n"
        f"ready {base}\n"
    )
    out.flush()


async def _run_worker(world, settings, sock, access_log, on_ready) -> None:
    app = build_app(world, settings)
    runner = web.AppRunner(
        app,
        access_log=logging.getLogger("mockserver.access") if access_log else None,
        access_log_format=ACCESS_LOG_FORMAT,
        handle_signals=False,
    )
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if on_ready:
        on_ready()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _supervise(children: list[int]) -> None:
    def forward(signum, _frame) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for pid in children:
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except ChildProcessError:
                break
            except InterruptedError:
                continue
