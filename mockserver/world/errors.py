"""What a refused change raises: the message names what was wrong, the reason tells an API
which status to answer with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Args = dict[str, Any]
Reason = Literal["invalid", "unknown", "conflict"]


class ChangeError(ValueError):
    """A change that cannot be accepted: `invalid` arguments, an `unknown` entity, or a
    `conflict` with what the world holds (an alias taken, an invoice already void)."""

    def __init__(self, message: str, reason: Reason = "invalid") -> None:
        super().__init__(message)
        self.reason = reason

    def status(self, unknown: int, conflict: int) -> int:
        """The HTTP status an API answers this refusal with, given its own for each reason."""
        return {"unknown": unknown, "conflict": conflict}.get(self.reason, 400)


@dataclass(frozen=True)
class Unchanged:
    """A change accepted that changes nothing (a batch of duplicates): not logged, and
    `result` is what it did."""

    result: Args
