"""Metronome's error shape: `{"message": ...}` as JSON, with the status the SDK maps to an exception."""

from __future__ import annotations

import orjson
from aiohttp import web

from mockserver.shell.body import BodyError


class ApiError(Exception):
    """A request the API refuses: raised anywhere below a handler, answered by `rejection`."""

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


def rejection(exc: Exception) -> web.Response | None:
    """The API's own error response to an ApiError or a body it cannot take; None for anything else."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.message)
    if isinstance(exc, BodyError):
        if exc.problem == "too_large":
            return error_response(413, exc.detail)
        if exc.problem == "syntax":
            return error_response(400, f"the body is not valid JSON: {exc.detail}")
        return error_response(400, exc.detail)
    return None
