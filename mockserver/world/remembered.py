"""Keys of ingested events, remembered for a window of the world's clock and then forgotten,
in a few bytes each: a million remembered keys take 32 MB, not the hundred a dictionary of
strings takes.

A key is kept as a 64-bit digest (BLAKE2b, the same in every process, so that every process
decides alike) with the time it was ingested, in an open-addressing table of two integer
arrays. Two different keys share a digest with a chance of about 3 in 10^8 for a million
keys remembered at once; the later would be taken for a duplicate. Keys past the window stay
in the table, as if absent, until they are as many as the live ones; then the table is built
again from the live ones alone, so that its size follows what the window holds.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable
from functools import partial
from hashlib import blake2b
from itertools import compress
from operator import methodcaller

from mockserver.world.clock import DAY

_EMPTY = 0
_SMALLEST = 1 << 14  # slots of an empty table


def digest(*parts: str) -> int:
    """The 64-bit digest a key is remembered by (never 0, which marks an empty slot)."""
    value = blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(value, "little", signed=True) or 1


_EIGHT_BYTES = partial(blake2b, digest_size=8)
_DIGEST = methodcaller("digest")
_SIGNED = partial(int.from_bytes, byteorder="little", signed=True)


def digests(keys: Iterable[str]) -> list[int]:
    """`digest` of each key: a batch at a time, as ingestion reads them, iterated in C."""
    found = list(map(_SIGNED, map(_DIGEST, map(_EIGHT_BYTES, map(str.encode, keys)))))
    if _EMPTY in found:  # one chance in 2^64
        found = [key or 1 for key in found]
    return found


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
        return not self.unseen([key], now)[0]

    def unseen(self, batch: list[int], now: int) -> list[bool]:
        """For each key of a batch, whether it is not remembered at `now` (one call a batch:
        the table's loop inlined)."""
        keys, times, mask, oldest = self._keys, self._times, self._mask, now - self.window
        found = []
        for key in batch:
            slot = key & mask
            held = keys[slot]
            while held and held != key:
                slot = (slot + 1) & mask
                held = keys[slot]
            found.append(not held or times[slot] <= oldest)
        return found

    def add(self, batch: list[int], now: int) -> None:
        """Remember each key of a batch as ingested at `now` (the world's clock, which only
        moves forward)."""
        if (self._used + len(batch)) * 4 > (self._mask + 1) * 3:
            self._rebuild(now, self._used + len(batch))
        keys, times, mask, days = self._keys, self._times, self._mask, self._days
        new = 0
        for key in batch:
            slot = key & mask
            held = keys[slot]
            while held and held != key:
                slot = (slot + 1) & mask
                held = keys[slot]
            if held:  # again, past the window: remembered from now
                days[times[slot] // DAY] -= 1
            else:
                keys[slot] = key
                new += 1
            times[slot] = now
        self._used += new
        days[now // DAY] += len(batch)

    def forget(self, now: int) -> None:
        """Drop the keys past the window once they are as many as those still in it."""
        past = sum(count for day, count in self._days.items() if day < self._cutoff(now))
        if past and past * 2 >= self._used:
            self._rebuild(now)

    def _cutoff(self, now: int) -> int:
        """The first day of which a key may still be in the window."""
        return (now - self.window) // DAY

    def _rebuild(self, now: int, coming: int = 0) -> None:
        """The table again, of the keys still in the window alone, at most half full with
        `coming` keys in it."""
        cutoff = self._cutoff(now)
        live = sum(count for day, count in self._days.items() if day >= cutoff)  # or a few more
        slots = _SMALLEST
        while slots < 2 * max(live, coming):
            slots *= 2
        # The slots that hold a key, picked in C; of those, the keys still in the window.
        kept = [
            (key, at)
            for key, at in zip(
                compress(self._keys, self._keys), compress(self._times, self._keys), strict=True
            )
            if now - at < self.window
        ]
        self.__init__(self.window, slots)  # type: ignore[misc]
        keys, times, mask, days = self._keys, self._times, self._mask, self._days
        for key, at in kept:
            slot = key & mask
            while keys[slot]:
                slot = (slot + 1) & mask
            keys[slot], times[slot] = key, at
        days.update(at // DAY for _key, at in kept)
        self._used = len(kept)

    def copy(self) -> Remembered:
        twin = Remembered.__new__(Remembered)
        twin.window, twin._mask, twin._used = self.window, self._mask, self._used
        twin._keys, twin._times = array("q", self._keys), array("q", self._times)
        twin._days = Counter(self._days)
        return twin

    def clear(self) -> None:
        self.__init__(self.window)  # type: ignore[misc]
