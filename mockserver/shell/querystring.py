"""A request's query string, read for the parameters an endpoint knows and nothing else.

Clients add parameters of their own (cache busters, tracing ids) and the emulated APIs ignore
them, so they are dropped here and never reach a parse or a cache key. The values are those
yarl decodes; a query with nothing to decode is split directly, without building a multidict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yarl import URL

Pairs = tuple[tuple[str, str], ...]


def known_pairs(url: URL, names: frozenset[str]) -> Pairs:
    """The parameters among `names`, decoded, in order, repeats kept."""
    raw = url.raw_query_string
    if "%" in raw or "+" in raw:
        return tuple((name, value) for name, value in url.query.items() if name in names)
    pairs = []
    for part in raw.split("&"):
        name, _, value = part.partition("=")
        if name in names:
            pairs.append((name, value))
    return tuple(pairs)
