"""Whole list responses, kept by their request: the world never changes, so neither do they.

Shared by both facades; each keys the cache by what makes its responses differ.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

PAGE_CACHE_BYTES = 32 * 1024 * 1024


class PageCache:
    """Response bytes by key, least recently used out first, bounded by the bytes it holds.

    A body larger than an eighth of the capacity is not kept, so one huge page cannot evict
    everything else.
    """

    def __init__(self, capacity: int = PAGE_CACHE_BYTES) -> None:
        self.capacity = capacity
        self.size = 0
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> bytes | None:
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def put(self, key: Hashable, body: bytes) -> None:
        if len(body) > self.capacity // 8 or key in self._entries:
            return
        self._entries[key] = body
        self.size += len(body)
        while self.size > self.capacity:
            _, dropped = self._entries.popitem(last=False)
            self.size -= len(dropped)
