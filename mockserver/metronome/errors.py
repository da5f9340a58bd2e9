"""Metronome's error shape: `{"message": ...}` as JSON, with the status the SDK maps to an exception."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """A request the API refuses: raised anywhere below a handler, answered by `handles_errors`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def error_response(status: int, message: str) -> web.Response:
    return web.Response(
        body=orjson.dumps({"message": message}), status=status, content_type="application/json"
    )


def handles_errors(handler: Handler) -> Handler:
    """Turn an ApiError raised by the handler into the API's own error response."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message)

    return wrapped
