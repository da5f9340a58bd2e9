"""What answers a request that is not valid HTTP (a line past aiohttp's limits, a method or a
header that cannot be parsed, a body framed otherwise than its headers say).

No route can run for such a request, so no facade can answer it. aiohttp's own answer is a
`text/plain` 400 quoting Python's `repr` of the bytes it read, and it logs a traceback; here it
is a JSON error that both APIs' clients read (`message`, and Meteroid's `code`), naming the
limit that was passed, and one line in the server's debug log.
"""

from __future__ import annotations

import logging

import orjson
from aiohttp import web
from aiohttp.http_exceptions import (
    BadHttpMessage,
    BadHttpMethod,
    BadStatusLine,
    InvalidHeader,
    LineTooLong,
    PayloadEncodingError,
)
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

LINE_LIMIT = 8190  # bytes of the request line and of each header line: aiohttp's limits

log = logging.getLogger("mockserver")

# The most specific first: a bad method is also a bad status line.
_REASONS: tuple[tuple[type[BadHttpMessage], str], ...] = (
    (
        LineTooLong,
        f"the request line or a header line is longer than {LINE_LIMIT} bytes, the most this server reads",
    ),
    (BadHttpMethod, "the request line does not start with an HTTP method"),
    (BadStatusLine, "the request line is not `METHOD target HTTP/1.1`"),
    (InvalidHeader, "a header of the request is not valid HTTP"),
    (PayloadEncodingError, "the request body is not framed as its headers say"),
)


def refusal(exc: BadHttpMessage) -> str:
    """Why a request aiohttp could not parse is refused, in words of HTTP, not of Python."""
    for kind, message in _REASONS:
        if isinstance(exc, kind):
            return message
    return "the request is not valid HTTP/1.1"


class _Handler(RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, BadHttpMessage) or request.writer.output_size > 0:
            return super().handle_error(request, status, exc, message)
        text = refusal(exc)
        log.debug("refused a request from %s that is not valid HTTP: %s", request.remote, text)
        response = web.Response(
            body=orjson.dumps({"code": "BAD_REQUEST", "message": text}),
            status=400,
            content_type="application/json",
        )
        response.force_close()
        return response


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _Handler(self, loop=self._loop, **self._kwargs)


class ShellRunner(web.AppRunner):
    """`web.AppRunner` whose connections answer a request that is not HTTP as above."""

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return _Server(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,
        )
