"""The access log: one line per request, cheap enough to leave on.

aiohttp's own access logger formats every line through the logging module, a handler and a
stream flushed per line; that cost about 40 % of a page's throughput. Here a line is one
f-string (or one orjson call) appended to a list, and the lines are written to the file
descriptor in batches: at most FLUSH_DELAY after the first line of a batch, or at once when
FLUSH_LINES are waiting. Each line names the operation (the route's name) and, for a 4xx or
5xx, the error message the client was sent.
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


def _target(request: BaseRequest) -> str:
    """The request target as sent; bytes that are not UTF-8 escaped so that a line stays valid."""
    target = request.raw_path
    return target if target.isascii() else target.encode("utf-8", "backslashreplace").decode("ascii")


class AccessLog:
    """One process's access log: lines kept in memory and written in batches of whole lines.

    Workers share the descriptor they inherit. On a pipe or socket a write of more than
    PIPE_BUF bytes may be interleaved with another process's, so there batches are written in
    chunks of at most that size; a file takes a batch in one write.
    """

    def __init__(self, log_format: str, fd: int) -> None:
        self.fd = fd
        self.line = self.json_line if log_format == "json" else self.text_line
        self.lines: list[bytes] = []
        self.pending: asyncio.TimerHandle | None = None
        mode = os.fstat(fd).st_mode
        self.chunk = select.PIPE_BUF if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else FILE_CHUNK
        self.second, self.prefix = -1, ""
        self.millisecond, self.stamped = -1, ""
        # Route -> operation name: reading it through the route's properties costs more.
        self.names: dict[web.AbstractRoute, str] = {}
        self.writer = type("AccessLogWriter", (_Writer,), {"__slots__": (), "sink": self})

    def record(self, request: BaseRequest, response: web.StreamResponse, seconds: float) -> None:
        lines = self.lines
        lines.append(self.line(request, response, seconds))
        if len(lines) >= FLUSH_LINES:
            self.flush()
        elif self.pending is None:
            self.pending = asyncio.get_running_loop().call_later(FLUSH_DELAY, self.flush)

    def text_line(self, request: BaseRequest, response: web.StreamResponse, seconds: float) -> bytes:
        status = response.status
        line = (
            f"{self.stamp()} {request.remote} {request.method} {_target(request)} {status} "
            f"{response.body_length} {seconds * 1000:.2f}ms {self.operation(request)}"
        )
        if status >= 400:
            line += " " + orjson.dumps(sent_message(response)).decode()
        return (line + "\n").encode()

    def json_line(self, request: BaseRequest, response: web.StreamResponse, seconds: float) -> bytes:
        entry = {
            "time": self.stamp(),
            "remote": request.remote,
            "method": request.method,
            "target": _target(request),
            "status": response.status,
            "bytes": response.body_length,
            "ms": round(seconds * 1000, 3),
            "operation": self.operation(request),
        }
        if response.status >= 400:
            entry["message"] = sent_message(response)
        return orjson.dumps(entry) + b"\n"

    def stamp(self) -> str:
        """UTC time to the millisecond, formatted once per millisecond (a busy server logs
        several requests in one), its part up to the second once per second."""
        millisecond = int(time.time() * 1000)
        if millisecond != self.millisecond:
            second, fraction = divmod(millisecond, 1000)
            if second != self.second:
                self.second, self.prefix = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self.millisecond, self.stamped = millisecond, f"{self.prefix}.{fraction:03d}Z"
        return self.stamped

    def operation(self, request: BaseRequest) -> str:
        """The name of the route that answered (its path pattern if unnamed); "-" when aiohttp
        refused the request before routing it (`match_info` itself asserts that it was routed)."""
        info = getattr(request, "_match_info", None)
        if info is None:
            return "-"
        route = info.route
        name = self.names.get(route)
        if name is None:
            resource = route.resource
            name = self.names[route] = route.name or (resource.canonical if resource is not None else "-")
        return name

    def flush(self) -> None:
        """Write every waiting line; a log nobody can read any more (a closed pipe) drops them."""
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None
        lines, self.lines = self.lines, []
        chunk: list[bytes] = []
        size = 0
        with contextlib.suppress(OSError):
            for line in lines:
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


class _Writer(AbstractAccessLogger):
    """What aiohttp calls per request (it makes one per connection): hands over to the log."""

    __slots__ = ()
    sink: AccessLog  # set on the subclass each AccessLog makes

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.sink.record(request, response, time)


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
