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

import sys
from array import array
from collections import Counter
from collections.abc import Iterable
from functools import partial
from hashlib import blake2b
from itertools import compress, repeat
from operator import and_, floordiv, gt, lshift, methodcaller

from mockserver.world.clock import DAY

_EMPTY = 0
_SMALLEST = 1 << 14  # slots of an empty table


def digest(*parts: str) -> int:
    """The 64-bit digest a key is remembered by (never 0, which marks an empty slot)."""
    return digests(["\x1f".join(parts)])[0]


_EIGHT_BYTES = partial(blake2b, digest_size=8)
_DIGEST = methodcaller("digest")


def digests(keys: Iterable[str]) -> list[int]:
    """`digest` of each key: a batch at a time, as ingestion reads them, iterated in C."""
    found = array("q", b"".join(map(_DIGEST, map(_EIGHT_BYTES, map(str.encode, keys)))))
    if sys.byteorder == "big":  # the digest's bytes read little-endian on every machine
        found.byteswap()
    if _EMPTY in found:  # one chance in 2^64
        return [key or 1 for key in found]
    return found.tolist()


class Remembered:
    """Digests of keys, each with when it was ingested, remembered for `window` seconds.

    One array holds both: a slot's key, then its time, side by side, so that a look-up reads
    one place in memory. A batch is looked up (`unseen`) and then added with the slots the
    look-up found, unless the table was built again in between."""

    def __init__(self, window: int, slots: int = _SMALLEST) -> None:
        self.window = window
        self._table = array("q", bytes(16 * slots))  # slot s: its key at 2s, its time at 2s + 1
        self._mask = slots - 1
        self._used = 0  # slots holding a key, live or past the window
        self._days: Counter[int] = Counter()  # keys held per day they were ingested on
        self.built = 0  # how many times the table was built again: slots found before are stale

    def __len__(self) -> int:
        return self._used

    def seen(self, key: int, now: int) -> bool:
        """Whether `key` was ingested less than the window before `now`."""
        return self.unseen([key], now)[0] < 0

    def unseen(self, batch: list[int], now: int) -> list[int]:
        """For each key of a batch, -1 if it is remembered at `now`, else the place it is to be
        remembered at (one call a batch: the table's loop inlined)."""
        table, wrap, oldest = self._table, 2 * self._mask + 1, now - self.window
        found = []
        for key in batch:
            place = (key << 1) & wrap
            held = table[place]
            while held and held != key:
                place = (place + 2) & wrap
                held = table[place]
            found.append(place if not held or table[place + 1] <= oldest else -1)
        return found

    def add(self, batch: list[int], now: int, places: list[int] | None = None, built: int = -1) -> None:
        """Remember each key of a batch as ingested at `now` (the world's clock, which only
        moves forward); `places`, where `unseen` found them while the table was `built`."""
        if (self._used + len(batch)) * 4 > (self._mask + 1) * 3:
            self._rebuild(now, self._used + len(batch))
        if places is None or built != self.built:
            places = _homes(batch, 2 * self._mask + 1)
        table, wrap, days = self._table, 2 * self._mask + 1, self._days
        new = 0
        for key, place in zip(batch, places, strict=True):
            held = table[place]
            while held and held != key:  # a place another key of the batch took meanwhile
                place = (place + 2) & wrap
                held = table[place]
            if held:  # again, past the window: remembered from now
                days[table[place + 1] // DAY] -= 1
            else:
                table[place] = key
                new += 1
            table[place + 1] = now
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
        # The keys and times of the slots that hold one, picked in C; of those, the keys still
        # in the window (all of them, unless a day of keys has left it).
        keys, times = self._table[0::2], self._table[1::2]
        keys, times = list(compress(keys, keys)), list(compress(times, keys))
        days = self._days  # as it is, unless a day of keys has left the window
        if any(day < cutoff for day in days):
            alive = list(map(gt, times, repeat(now - self.window)))
            keys, times = list(compress(keys, alive)), list(compress(times, alive))
            days = Counter(map(floordiv, times, repeat(DAY)))
        built = self.built + 1
        self.__init__(self.window, slots)  # type: ignore[misc]
        self.built, self._days = built, days
        self._place(keys, times)
        self._used = len(keys)

    def _place(self, keys: list[int], times: list[int]) -> None:
        """Put distinct keys, with their times, into the empty table."""
        table, wrap = self._table, 2 * self._mask + 1
        for key, at in zip(keys, times, strict=True):
            place = (key << 1) & wrap
            while table[place]:
                place = (place + 2) & wrap
            table[place], table[place + 1] = key, at

    def copy(self) -> Remembered:
        twin = Remembered.__new__(Remembered)
        twin.window, twin._mask, twin._used, twin.built = self.window, self._mask, self._used, self.built
        twin._table = array("q", self._table)
        twin._days = Counter(self._days)
        return twin

    def clear(self) -> None:
        built = self.built + 1
        self.__init__(self.window)  # type: ignore[misc]
        self.built = built


def _homes(keys: list[int], wrap: int) -> list[int]:
    """Each key's home slot (its key's place in the array), computed in C."""
    return list(map(and_, map(lshift, keys, repeat(1)), repeat(wrap)))
