"""Usage for a customer id or ingest alias that no customer has yet, kept until one does.

Metronome stores such events and attributes them once a customer with that id or alias
exists, within the 34 days it keeps usage. They are kept here by the day of their timestamp,
each as its logged event's JSON bytes, so that the 34-day window forgets them a day at a time
and a name that never appears costs one small bytes object per event.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from mockserver.world import clock
from mockserver.world.errors import Args

KEPT_FOR = 34 * clock.DAY  # as long as Metronome accepts backdated usage, counted back from now


class Pending:
    """Events by the day of their timestamp, then by the customer id or alias they name."""

    def __init__(self) -> None:
        self._days: dict[int, dict[str, list[bytes]]] = {}

    def __len__(self) -> int:
        return sum(len(events) for names in self._days.values() for events in names.values())

    def copy(self) -> Pending:
        twin = Pending()
        twin._days = {
            day: {name: list(kept) for name, kept in names.items()} for day, names in self._days.items()
        }
        return twin

    def clear(self) -> None:
        self._days.clear()

    def keep(self, name: str, at: int, event: Args) -> None:
        """Keep an event (as logged) for the customer id or alias `name`, stamped `at`."""
        # A copy: the bytes orjson returns keep its whole 4 KiB buffer (measured by RSS), 20
        # times what the event takes.
        line = bytes(memoryview(orjson.dumps(event)))
        self._days.setdefault(at // clock.DAY, {}).setdefault(name, []).append(line)

    def forget(self, now: int) -> None:
        """Drop the days wholly older than the window; a claim drops the rest of the oldest day."""
        oldest = (now - KEPT_FOR) // clock.DAY
        for day in [day for day in self._days if day < oldest]:
            del self._days[day]

    def claim(self, names: Iterable[str], now: int) -> list[Args]:
        """The events kept for any of `names` and still inside the window, in the order they
        were kept within each day, oldest day first; they are no longer kept."""
        self.forget(now)
        earliest = now - KEPT_FOR
        claimed: list[Args] = []
        for day in sorted(self._days):
            found = self._days[day]
            for name in names:
                for line in found.pop(name, ()):
                    event = orjson.loads(line)
                    if clock.parse_timestamp(event["timestamp"]).floor >= earliest:
                        claimed.append(event)
            if not found:
                del self._days[day]
        return claimed
