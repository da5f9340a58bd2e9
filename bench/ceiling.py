"""The ceiling: a bare aiohttp server replaying captured responses from memory.

Whatever the mock does beyond handing these bytes to aiohttp (routing, parsing, querying,
rendering) shows up as the gap between the two. Run as
`python -m bench.ceiling --responses FILE --port 0 [--workers N]`; it prints
`ready http://127.0.0.1:PORT` like the mock server.
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

from bench.responses import CapturedResponse, load_responses


def make_app(responses: dict[str, CapturedResponse]) -> web.Application:
    """One catch-all route looking the raw request target up in a dict."""
    table = {target: (r.status, CIMultiDict(r.headers), r.body) for target, r in responses.items()}

    async def replay(request: web.Request) -> web.Response:
        try:
            status, headers, body = table[request.raw_path]
        except KeyError:
            return web.Response(status=404, text="not captured")
        return web.Response(status=status, headers=headers, body=body)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", replay)
    return app


def serve(app: web.Application, sock: socket.socket) -> None:
    web.run_app(app, sock=sock, print=None, access_log=None)


def serve_workers(app: web.Application, sock: socket.socket, workers: int) -> None:
    """Pre-fork: every worker accepts on the same listening socket, like a multi-worker mock."""
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=serve, args=(app, sock)) for _ in range(workers)]
    for process in processes:
        process.start()

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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(1024)
    print(f"ready http://{args.host}:{sock.getsockname()[1]}", flush=True)
    if args.workers > 1:
        serve_workers(app, sock, args.workers)
    else:
        serve(app, sock)


if __name__ == "__main__":
    main()
