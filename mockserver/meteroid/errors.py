"""Errors as the Meteroid-style API sends them.

JSON errors are `{"code": ErrorCode, "message": string}`. A query string the server cannot
parse is answered, as upstream does, with a bare `text/plain` 400; so is a page size out of
range, which upstream rejects while validating the parsed query.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from mockserver.shell.body import BodyError

_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    429: "TOO_MANY_REQUESTS",
}

INTERNAL = "INTERNAL_SERVER_ERROR"
ERROR_CODES = (*_CODES.values(), INTERNAL)

UNAUTHORIZED_BODY = orjson.dumps(
    {"code": "UNAUTHORIZED", "message": "Invalid or missing Authorization header"}
)


def code_for(status: int) -> str:
    if status >= 500:
        return INTERNAL
    return _CODES.get(status, "BAD_REQUEST")


def json_error(status: int, message: str, code: str | None = None) -> web.Response:
    body = orjson.dumps({"code": code or code_for(status), "message": message})
    return web.Response(body=body, status=status, content_type="application/json")


def plain_error(text: str, status: int = 400) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/plain", charset="utf-8")


class ApiError(Exception):
    """Answered with a JSON error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message

    def response(self) -> web.Response:
        return json_error(self.status, self.message)


class QueryStringError(Exception):
    """A query value upstream's parser rejects: 400 text/plain."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def response(self) -> web.Response:
        return plain_error(f"Failed to deserialize query string: {self.reason}")


class QueryValidationError(Exception):
    """A parsed query value outside its allowed range: 400 text/plain, as upstream's validator."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def response(self) -> web.Response:
        return plain_error(self.text)


class BodyShapeError(Exception):
    """A JSON body that does not deserialize into the request type: 400 text/plain, in axum's words."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)

    def response(self) -> web.Response:
        return plain_error(f"Failed to deserialize the JSON body into the target type: {self}")


def _body_refusal(exc: BodyError) -> web.Response:
    """How axum's JSON extractor refuses a body: a size past the limit, a wrong content type,
    or text that is not JSON."""
    if exc.problem == "too_large":
        return plain_error(f"Failed to buffer the request body: length limit exceeded ({exc.detail})", 413)
    if exc.problem == "content_type":
        return plain_error("Expected request with `Content-Type: application/json`", 415)
    return plain_error(f"Failed to parse the request body as JSON: {exc.detail}")


def rejection(exc: Exception) -> web.Response | None:
    """The answer upstream gives to a refusal raised by a route; None for anything else."""
    if isinstance(exc, ApiError | QueryStringError | QueryValidationError | BodyShapeError):
        return exc.response()
    if isinstance(exc, BodyError):
        return _body_refusal(exc)
    return None


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")
