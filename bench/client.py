"""HTTP client for discovery and capture that sends request targets byte for byte.

It sends only what the load generators send (Host and Authorization), asks for no compression
and keeps the body undecoded, so the captured bytes are the ones the benchmark receives.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from bench.responses import CapturedResponse, own_headers

AUTH_HEADERS = {"Authorization": "Bearer bench"}


def request_target(path: str, params: list[tuple[str, str | int]] | None = None) -> str:
    """Path plus percent-encoded query (`:` included, like the official SDKs)."""
    if not params:
        return path
    return f"{path}?{urlencode(params, quote_via=quote, safe='')}"


def path_segment(value: str) -> str:
    return quote(value, safe="")


class ClientError(RuntimeError):
    """The server answered discovery or capture with something unusable."""


class Client:
    """A keep-alive session against one base URL."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        self._session = aiohttp.ClientSession(
            headers=AUTH_HEADERS,
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent"),
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=60),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        await self._session.close()

    async def fetch(self, target: str) -> CapturedResponse:
        assert self._session is not None
        url = URL(self.base_url + target, encoded=True)
        async with self._session.get(url) as response:
            body = await response.read()
            return CapturedResponse(
                status=response.status,
                headers=own_headers(
                    [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
                ),
                body=body,
            )

    async def get_json(self, target: str) -> Any:
        """GET a target that must answer 200 with JSON."""
        response = await self.fetch(target)
        if response.status != 200:
            raise ClientError(f"GET {target} -> {response.status}: {response.body[:300]!r}")
        return json.loads(response.body)


async def walk(
    client: Client, path: str, params: list[tuple[str, str | int]]
) -> AsyncIterator[dict[str, Any]]:
    """Every item of a `next_page`-cursor listing; a repeated cursor is an error, not a loop."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        query = [*params, ("next_page", cursor)] if cursor else params
        page = await client.get_json(request_target(path, query))
        for item in page["data"]:
            yield item
        cursor = page.get("next_page")
        if not cursor:
            return
        if cursor in seen:
            raise ClientError(f"{path}: cursor {cursor!r} came back twice")
        seen.add(cursor)
