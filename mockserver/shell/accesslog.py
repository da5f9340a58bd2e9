"""The access log: one line per request, cheap enough to leave on.

aiohttp's own access logger formats every line through the logging module, a handler and a
stream flushed per line; that cost about 40 % of a page's throughput. Here a request leaves a
tuple in a list, and the lines are formatted and written to the file descriptor in batches: at
most FLUSH_DELAY after the first request of a batch, or at once when FLUSH_LINES are waiting.
Each line names the operation (the route's name) and, for a 4xx or 5xx, the error message the
client was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import stat
import time
from typing import Any

import orjson
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest

FORMATS = ("text", "json")
FLUSH_DELAY = 0.2  # seconds a line may wait for its batch
FLUSH_LINES = 1024  # a batch written at once
FILE_CHUNK = 1 << 20

# When, client, method, target, status, bytes sent, seconds taken, route (None: not routed),
# and the error message sent (None below 400).
Entry = tuple[float, str | None, str, str, int, int, float, web.AbstractRoute | None, str | None]


def sent_message(response: web.StreamResponse) -> str:
    """The message an error response carried: a JSON body's `message`, else its text."""
    body = response.body if isinstance(response, web.Response) else None
    if not isinstance(body, bytes):
        return ""
    if response.content_type == "application/json":
        with contextlib.suppress(orjson.JSONDecodeError):
            document = orjson.loads(body)
            if isinstance(document, dict) and isinstance(document.get("message"), str):
                return document["message"]
    return body.decode("utf-8", "replace")


def _printable(target: str) -> str:
    """The request target as sent; bytes that are not UTF-8 escaped so that a line stays valid."""
    return target if target.isascii() else target.encode("utf-8", "backslashreplace").decode("ascii")


class AccessLog:
    """One process's access log: requests noted as they end, written in batches of lines.

    A request costs a tuple of what its line needs; the lines are formatted when a batch is
    written, in one loop (formatted one per request, between requests, they cost a third
    more). Workers share the descriptor they inherit. On a pipe or socket a write of more than
    PIPE_BUF bytes may be interleaved with another process's, so there batches are written in
    chunks of at most that size; a file takes a batch in one write.
    """

    def __init__(self, log_format: str, fd: int) -> None:
        self.fd = fd
        self.format = self.json_lines if log_format == "json" else self.text_lines
        self.entries: list[Entry] = []
        self.pending: asyncio.TimerHandle | None = None
        mode = os.fstat(fd).st_mode
        self.chunk = select.PIPE_BUF if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else FILE_CHUNK
        self.second, self.prefix = -1, ""
        self.millisecond, self.stamped = -1, ""
        self.names: dict[web.AbstractRoute | None, str] = {None: "-"}
        # What aiohttp makes per connection and calls per request: its `log` is `record` itself.
        self.writer = type(
            "AccessLogWriter", (AbstractAccessLogger,), {"__slots__": (), "log": staticmethod(self.record)}
        )

    def record(self, request: BaseRequest, response: web.StreamResponse, seconds: float) -> None:
        """Note a request that has been answered; its route is None when aiohttp refused it
        before routing it (`match_info` itself asserts that it was routed)."""
        status = response.status
        info = getattr(request, "_match_info", None)
        entries = self.entries
        entries.append(
            (
                time.time(),
                request.remote,
                request.method,
                request.raw_path,
                status,
                response.body_length,
                seconds,
                None if info is None else info.route,
                sent_message(response) if status >= 400 else None,
            )
        )
        if len(entries) >= FLUSH_LINES:
            self.flush()
        elif self.pending is None:
            self.pending = asyncio.get_running_loop().call_later(FLUSH_DELAY, self.flush)

    def text_lines(self, entries: list[Entry]) -> list[bytes]:
        stamp, operation = self.stamp, self.operation
        lines = []
        for when, remote, method, target, status, size, seconds, route, message in entries:
            line = (
                f"{stamp(when)} {remote} {method} {_printable(target)} {status} {size} "
                f"{seconds * 1000:.2f}ms {operation(route)}"
            )
            if message is not None:
                line += " " + orjson.dumps(message).decode()
            lines.append((line + "\n").encode())
        return lines

    def json_lines(self, entries: list[Entry]) -> list[bytes]:
        lines = []
        for when, remote, method, target, status, size, seconds, route, message in entries:
            entry = {
                "time": self.stamp(when),
                "remote": remote,
                "method": method,
                "target": _printable(target),
                "status": status,
                "bytes": size,
                "ms": round(seconds * 1000, 3),
                "operation": self.operation(route),
            }
            if message is not None:
                entry["message"] = message
            lines.append(orjson.dumps(entry) + b"\n")
        return lines

    def stamp(self, when: float) -> str:
        """UTC time to the millisecond, formatted once per millisecond (a busy server answers
        several requests in one), its part up to the second once per second."""
        millisecond = int(when * 1000)
        if millisecond != self.millisecond:
            second, fraction = divmod(millisecond, 1000)
            if second != self.second:
                self.second, self.prefix = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self.millisecond, self.stamped = millisecond, f"{self.prefix}.{fraction:03d}Z"
        return self.stamped

    def operation(self, route: web.AbstractRoute | None) -> str:
        """The route's name, else its path pattern; looked up once per route."""
        name = self.names.get(route)
        if name is None:
            assert route is not None
            resource = route.resource
            name = self.names[route] = route.name or (resource.canonical if resource is not None else "-")
        return name

    def flush(self) -> None:
        """Write every waiting line; a log nobody can read any more (a closed pipe) drops them."""
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None
        entries, self.entries = self.entries, []
        chunk: list[bytes] = []
        size = 0
        with contextlib.suppress(OSError):
            for line in self.format(entries):
                if size + len(line) > self.chunk and chunk:
                    write_all(self.fd, b"".join(chunk))
                    chunk, size = [], 0
                chunk.append(line)
                size += len(line)
            if chunk:
                write_all(self.fd, b"".join(chunk))


def write_all(fd: int, data: bytes) -> None:
    """Every byte of `data` to `fd`: one write may take only part of it (a pipe whose reader
    leaves mid-write takes what fitted, and only the next write fails)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def runner_options(app: web.Application, log_format: str | None, fd: int = 2) -> dict[str, Any]:
    """`web.AppRunner`'s access-log arguments (`log_format` None: no log); the lines still
    waiting are written when the app is cleaned up, after its connections are closed."""
    if log_format is None:
        return {"access_log": None}
    log = AccessLog(log_format, fd)

    async def flush(_app: web.Application) -> None:
        log.flush()

    app.on_cleanup.append(flush)
    return {"access_log_class": log.writer, "access_log": logging.getLogger("mockserver.access")}
