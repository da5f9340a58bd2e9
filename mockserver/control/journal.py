"""The request journal: what the clients sent and what they were answered, in a bounded ring.

Recording is on every request of the emulated APIs, so it costs one tuple appended to a
deque (the oldest falls out at the bound); everything else (the path and query split apart,
the ignored parameters, the error message) is worked out when the journal is read. The token
is never kept: only a fingerprint of the Authorization header, so a test can tell its clients
apart. Control-plane requests (`/_mock/*`) are not recorded: they are the harness talking,
and health checks and the inspector would crowd out what the code under test sent. For the
same reason a request marked `Mockserver-Journal: off` is not recorded either: the inspector
marks its own reads of the APIs that way (unless asked to show them), so that a test reading
the journal sees only what its code sent.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aiohttp import web
from multidict import MultiDict
from yarl import URL

from mockserver.control.shared import Publisher, Recorded, SharedList
from mockserver.shell.accesslog import sent_message
from mockserver.shell.bearer import bearer_token
from mockserver.world.faults import glob
from mockserver.world.glob import Glob

DEFAULT_LIMIT = 100
UNRECORDED = ("Mockserver-Journal", "off")  # the header, and its value, of a request kept out
MAX_INTEGER = 2**63 - 1  # what the journal's integer filters (`since`, `limit`) may be, at most

# seq, wall-clock start, seconds taken, method, raw target, api, operation, status (None: dropped),
# the error response (4xx/5xx only), token fingerprint, fault effect
Entry = tuple[
    int,
    float,
    float,
    str,
    str,
    str | None,
    str | None,
    int | None,
    web.StreamResponse | None,
    str | None,
    str | None,
]


@lru_cache(maxsize=256)
def fingerprint(header: str) -> str | None:
    """The first 8 hex digits of the token's SHA-256: enough to tell clients apart, never the
    token. Worked out once per distinct header: a client sends the same one every time."""
    token = bearer_token(header)
    return hashlib.sha256(token.encode()).hexdigest()[:8] if token else None


@dataclass(frozen=True)
class Query:
    """What `GET /_mock/requests` asks for; None matches anything."""

    api: str | None = None
    operation: str | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    since: int = 0
    limit: int = DEFAULT_LIMIT


class Journal:
    """One process's ring of requests; `declared` names each operation's query parameters,
    so that the ones it ignores can be shown. With a `shared` store (a world several processes
    serve), the ring is what this process has yet to publish there, and the store is the
    journal every process lists and clears."""

    def __init__(
        self, size: int, declared: Mapping[str, frozenset[str]], shared: SharedList | None = None
    ) -> None:
        self.size = size
        self.entries: deque[Entry] = deque(maxlen=size)
        self.counter = itertools.count(1)
        self.declared = declared
        self.shared = shared
        self._publisher = None if shared is None else Publisher(shared, "the journal cannot be shared now")

    async def publish(self) -> None:
        """Hand what this process recorded since the last time to the shared store; kept for
        the next time if the store cannot take it."""
        if self._publisher is not None:
            await self._publisher.hand(self._unpublished)

    def _unpublished(self, since: int) -> tuple[int, Recorded]:
        """The seq of the last entry, and the documents of the entries after `since`."""
        if not self.entries or self.entries[-1][0] <= since:
            return since, []
        fresh = [entry for entry in self.entries if entry[0] > since]
        return fresh[-1][0], [(entry[1], self.document(entry)) for entry in fresh]

    def record(
        self,
        request: web.BaseRequest,
        api: str | None,
        operation: str | None,
        response: web.StreamResponse,
        started: float,
        fault: str | None,
    ) -> None:
        name, off = UNRECORDED
        if request.headers.get(name) == off:
            return
        status = response.status
        self.entries.append(
            (
                next(self.counter),
                started,
                time.time() - started,
                request.method,
                request.raw_path,
                api,
                operation,
                None if fault == "dropped" else status,
                response if status >= 400 else None,
                fingerprint(request.headers.get("Authorization", "")),
                fault,
            )
        )

    async def clear(self) -> int:
        """Forget every entry (sequence numbers go on); how many there were."""
        if self.shared is not None:
            await self.publish()
            self.entries.clear()
            return await self.shared.clear()
        count = len(self.entries)
        self.entries.clear()
        return count

    async def _newest_first(self) -> Iterator[dict[str, Any]]:
        if self.shared is None:
            return (self.document(entry) for entry in reversed(self.entries))
        await self.publish()
        return reversed(await self.shared.latest())

    async def select(self, query: Query) -> list[dict[str, Any]]:
        """The latest `limit` entries that match, oldest first."""
        pattern = glob(query.path, "path") if query.path is not None else None
        chosen: list[dict[str, Any]] = []
        for document in await self._newest_first():
            if document["seq"] <= query.since or len(chosen) >= query.limit:
                break
            if _matches(document, query, pattern):
                chosen.append(document)
        chosen.reverse()
        return chosen

    def document(self, entry: Entry) -> dict[str, Any]:
        seq, started, seconds, method, target, api, operation, status, error, token, fault = entry
        url = URL(target)
        query = url.query
        return {
            "seq": seq,
            "time": datetime.fromtimestamp(started, UTC).isoformat(timespec="microseconds"),
            "method": method,
            "path": url.path,
            "query": _pairs(query),
            "api": api,
            "operation": operation,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "error": sent_message(error) if error is not None else None,
            "ignored": self.ignored(operation, query),
            "token": token,
            "fault": fault,
        }

    def ignored(self, operation: str | None, query: MultiDict[str]) -> list[str]:
        """The query names the operation does not read (all of them where no operation matched)."""
        declared = self.declared.get(operation or "", frozenset())
        return [name for name in dict.fromkeys(query) if name not in declared]


def _pairs(query: MultiDict[str]) -> dict[str, str | list[str]]:
    """The query as an object: a repeated name's values as a list."""
    pairs: dict[str, str | list[str]] = {}
    for name in query:
        if name not in pairs:
            values = query.getall(name)
            pairs[name] = values[0] if len(values) == 1 else values
    return pairs


def _matches(document: dict[str, Any], query: Query, pattern: Glob | None) -> bool:
    operation = document["operation"] or ""
    return (
        (query.api is None or document["api"] == query.api)
        and (query.operation is None or query.operation in (operation, operation.partition(".")[2]))
        and (query.method is None or document["method"] == query.method.upper())
        and (pattern is None or pattern.match(document["path"]))
        and (query.status is None or document["status"] == query.status)
    )


def declared_queries(documents: Mapping[str, Mapping[str, Any]]) -> dict[str, frozenset[str]]:
    """`<api>.<operationId>` -> the query parameters it declares, read from the OpenAPI documents
    (which are built from the very tables the parsers read)."""
    return dict(_operations(documents))


def _operations(documents: Mapping[str, Mapping[str, Any]]) -> Iterator[tuple[str, frozenset[str]]]:
    for api, document in documents.items():
        for methods in document["paths"].values():
            for spec in methods.values():
                params: Iterable[Mapping[str, Any]] = spec.get("parameters", ())
                names = frozenset(p["name"] for p in params if p["in"] == "query")
                yield f"{api}.{spec['operationId']}", names
