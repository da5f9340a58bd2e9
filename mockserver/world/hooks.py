"""A world's webhook endpoints and the events its changes gave birth to, as the world holds
them; how changes register endpoints and give birth to events is `world.webhooks`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from mockserver.world.endpoints import Endpoint

KEPT_EVENTS = 1_000  # the latest events, kept for a redelivery asked for by id


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    api: str
    type: str
    body: bytes  # the JSON sent, the same bytes on every attempt
    seq: int  # the change it was born of


class Hooks:
    """A world's endpoints, its latest events, and what the change being applied wrote."""

    def __init__(self, endpoints: Iterable[Endpoint] = ()) -> None:
        self.endpoints: dict[str, Endpoint] = {e.id: e for e in endpoints}
        self.events: OrderedDict[str, Event] = OrderedDict()
        self.born: list[Event] = []  # of the change applied last
        self._observed: list[tuple[dict[int, set[str]], int]] = []

    def copy(self) -> Hooks:
        twin = Hooks(self.endpoints.values())
        twin.events = OrderedDict(self.events)
        return twin

    def observe(self, written: dict[int, set[str]], first_new: int) -> None:
        """The invoices one write wrote (by the columns written) and the first ordinal it added."""
        self._observed.append((written, first_new))

    def take(self) -> list[tuple[dict[int, set[str]], int]]:
        observed, self._observed = self._observed, []
        return observed
