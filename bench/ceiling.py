"""The ceiling: a bare aiohttp server replaying captured responses from memory.

Whatever the mock does beyond handing these bytes to aiohttp (routing, parsing, querying,
rendering) shows up as the gap between the two. Run as
`python -m bench.ceiling --responses FILE --port 0 [--workers N]`; it prints
`ready http://127.0.0.1:PORT` like the mock server. With several workers it forks them the way
the mock does: on Linux each listens on its own SO_REUSEPORT socket so that the kernel spreads
connections evenly; elsewhere they share one socket.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import socket
import sys
from pathlib import Path

from aiohttp import web
from multidict import CIMultiDict

from bench.load import without_nonce
from bench.responses import CapturedResponse, load_responses

BACKLOG = 2048
BALANCED = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def make_app(responses: dict[str, CapturedResponse]) -> web.Application:
    """One catch-all route looking the raw request target up in a dict (a `bench_nonce`
    parameter, which the mock ignores, left out)."""
    table = {target: (r.status, CIMultiDict(r.headers), r.body) for target, r in responses.items()}

    async def replay(request: web.Request) -> web.Response:
        try:
            status, headers, body = table[request.raw_path]
        except KeyError:
            try:
                status, headers, body = table[without_nonce(request.raw_path)]
            except KeyError:
                return web.Response(status=404, text="not captured")
        return web.Response(status=status, headers=headers, body=body)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", replay)
    return app


def serve(app: web.Application, sock: socket.socket) -> None:
    web.run_app(app, sock=sock, print=None, access_log=None, backlog=BACKLOG)


def serve_worker(app: web.Application, sock: socket.socket, own_socket: bool, started) -> None:
    """One worker; with `own_socket` it listens on a socket of its own bound to the same address."""
    if own_socket:
        shared = sock
        sock = socket.create_server(
            shared.getsockname()[:2], family=shared.family, backlog=BACKLOG, reuse_port=True
        )
        shared.close()
    started.release()
    serve(app, sock)


def serve_workers(
    app: web.Application, sock: socket.socket, workers: int, balanced: bool, ready: str
) -> None:
    """Pre-fork; `ready` is printed once every worker listens."""
    context = multiprocessing.get_context("fork")
    started = context.Semaphore(0)
    processes = [
        context.Process(target=serve_worker, args=(app, sock, balanced and index > 0, started))
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        started.acquire()
    if balanced:
        sock.close()  # the first worker has it now
    print(ready, flush=True)

    def stop(signum: int, frame: object) -> None:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    for process in processes:
        process.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__)
    parser.add_argument("--responses", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    app = make_app(load_responses(args.responses))
    balanced = args.workers > 1 and BALANCED
    sock = socket.create_server((args.host, args.port), backlog=BACKLOG, reuse_port=balanced)
    ready = f"ready http://{args.host}:{sock.getsockname()[1]}"
    if args.workers > 1:
        serve_workers(app, sock, args.workers, balanced, ready)
    else:
        print(ready, flush=True)
        serve(app, sock)


if __name__ == "__main__":
    main()
