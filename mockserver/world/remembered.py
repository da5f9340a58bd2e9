"""Keys of ingested events, remembered for a window of the world's clock and then forgotten,
in a few bytes each: a million remembered keys take 32 MB, not the hundred a dictionary of
strings takes.

A key is kept as a 64-bit digest (BLAKE2b, the same in every process, so that every process
decides alike) with the time it was ingested, in an open-addressing table of two integer
arrays. Two different keys share a digest with a chance of about one in 10^7 for a million
keys remembered at once; the later would be taken for a duplicate. Keys past the window stay
in the table, as if absent, until they are as many as the live ones; then the table is built
again from the live ones alone, so that its size follows what the window holds.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from collections.abc import Iterable

from mockserver.world.clock import DAY

_EMPTY = 0
_SMALLEST = 1 << 10  # slots of an empty table


def digest(*parts: str) -> int:
    """The 64-bit digest a key is remembered by (never 0, which marks an empty slot)."""
    value = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(value, "little", signed=True) or 1


class Remembered:
    """Digests of keys, each with when it was ingested, remembered for `window` seconds."""

    def __init__(self, window: int, slots: int = _SMALLEST) -> None:
        self.window = window
        self._keys = array("q", bytes(8 * slots))
        self._times = array("q", bytes(8 * slots))
        self._mask = slots - 1
        self._used = 0  # slots holding a key, live or past the window
        self._days: Counter[int] = Counter()  # keys held per day they were ingested on

    def __len__(self) -> int:
        return self._used

    def seen(self, key: int, now: int) -> bool:
        """Whether `key` was ingested less than the window before `now`."""
        keys, mask = self._keys, self._mask
        slot = key & mask
        held = keys[slot]
        while held:
            if held == key:
                return now - self._times[slot] < self.window
            slot = (slot + 1) & mask
            held = keys[slot]
        return False

    def add(self, key: int, now: int) -> None:
        """Remember `key` as ingested at `now` (the world's clock, which only moves forward)."""
        keys, mask = self._keys, self._mask
        slot = key & mask
        held = keys[slot]
        while held:
            if held == key:
                self._days[self._times[slot] // DAY] -= 1
                self._days[now // DAY] += 1
                self._times[slot] = now
                return
            slot = (slot + 1) & mask
            held = keys[slot]
        keys[slot], self._times[slot] = key, now
        self._days[now // DAY] += 1
        self._used += 1
        if self._used * 4 > (mask + 1) * 3:
            self._rebuild(now)

    def forget(self, now: int) -> None:
        """Drop the keys past the window once they are as many as those still in it."""
        cutoff = (now - self.window) // DAY  # days wholly before the window
        past = sum(count for day, count in self._days.items() if day < cutoff)
        if past and past * 2 >= self._used:
            self._rebuild(now)

    def _rebuild(self, now: int) -> None:
        live = [
            (key, at)
            for key, at in zip(self._keys, self._times, strict=True)
            if key != _EMPTY and now - at < self.window
        ]
        slots = _SMALLEST
        while slots < 2 * len(live):  # at most half full after a rebuild, three quarters before
            slots *= 2
        self.__init__(self.window, slots)  # type: ignore[misc]
        self._fill(live)

    def _fill(self, entries: Iterable[tuple[int, int]]) -> None:
        keys, times, mask, days = self._keys, self._times, self._mask, self._days
        for key, at in entries:
            slot = key & mask
            while keys[slot]:
                slot = (slot + 1) & mask
            keys[slot], times[slot] = key, at
            days[at // DAY] += 1
            self._used += 1

    def copy(self) -> Remembered:
        twin = Remembered.__new__(Remembered)
        twin.window, twin._mask, twin._used = self.window, self._mask, self._used
        twin._keys, twin._times = array("q", self._keys), array("q", self._times)
        twin._days = Counter(self._days)
        return twin

    def clear(self) -> None:
        self.__init__(self.window)  # type: ignore[misc]
