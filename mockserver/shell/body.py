"""JSON request bodies, read once with a size limit; each facade words the refusals its own way."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from aiohttp import web

from mockserver.world.depth import MAX_DEPTH, json_too_deep

MAX_BODY = 512 * 1024  # bytes: a batch of 100 events is a few dozen kilobytes

Problem = Literal["too_large", "content_type", "syntax", "too_deep"]


class BodyError(Exception):
    """A body that cannot be taken: too large, not declared as JSON, not JSON, or nested
    deeper than MAX_DEPTH."""

    def __init__(self, problem: Problem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


async def read_json(request: web.Request, limit: int = MAX_BODY) -> Any:
    """The request's body as a JSON value; BodyError naming what is wrong with it."""
    length = request.content_length
    if length is not None and length > limit:
        raise BodyError("too_large", f"the body is {length} bytes; at most {limit} are accepted")
    if request.content_type != "application/json":
        raise BodyError(
            "content_type", f"Content-Type must be application/json, got {request.content_type!r}"
        )
    try:
        body: bytes | None = await request.read()
    except web.HTTPRequestEntityTooLarge:  # a chunked body past the server's own limit
        body = None
    if body is None or len(body) > limit:
        raise BodyError("too_large", f"the body is larger than {limit} bytes, the most accepted")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError("syntax", str(exc)) from None
    if json_too_deep(body, value):
        raise BodyError("too_deep", f"the body nests deeper than {MAX_DEPTH} levels, the most accepted")
    return value
