"""Responses captured from the mock server, stored so the ceiling can replay the same bytes."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

# Managed by the HTTP stack itself; everything else the mock sent is replayed verbatim.
STACK_HEADERS = frozenset(
    {"date", "server", "content-length", "transfer-encoding", "connection", "keep-alive"}
)


@dataclass(frozen=True)
class CapturedResponse:
    """One response as the mock served it: status, its own headers and the body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")


def own_headers(headers: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Drop the headers the server stack adds by itself, keep the application's."""
    return tuple((k, v) for k, v in headers if k.lower() not in STACK_HEADERS)


def save_responses(path: Path, responses: dict[str, CapturedResponse]) -> None:
    """Write request target (path and query, as sent) -> response, bodies in base64."""
    document = {
        target: {
            "status": r.status,
            "content_type": r.content_type,
            "headers": [list(h) for h in r.headers],
            "body_b64": base64.b64encode(r.body).decode(),
        }
        for target, r in responses.items()
    }
    path.write_text(json.dumps(document, indent=1))


def load_responses(path: Path) -> dict[str, CapturedResponse]:
    """Read what `save_responses` wrote."""
    document = json.loads(path.read_text())
    return {
        target: CapturedResponse(
            status=entry["status"],
            headers=tuple((k, v) for k, v in entry["headers"]),
            body=base64.b64decode(entry["body_b64"]),
        )
        for target, entry in document.items()
    }
