"""How deeply a JSON value nests: bounded wherever a client's JSON is taken, since what is kept
is written out again (orjson writes at most 254 levels) and walked by the routes."""

from __future__ import annotations

from itertools import chain, compress, repeat
from typing import Any

MAX_DEPTH = 32  # levels of objects and arrays; a billing body needs a handful
_CONTAINERS = (dict, list)


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` nests objects and arrays more than `limit` levels deep. Walks level by
    level, never recursing, so any depth is measured in constant stack; each level's children
    are gathered and sorted into objects and arrays by iterators that run in C, as a batch of
    usage events has hundreds of values to pass over."""
    dicts = [value] if type(value) is dict else []
    lists = [value] if type(value) is list else []
    for _ in range(limit):
        children = list(chain(chain.from_iterable(map(dict.values, dicts)), chain.from_iterable(lists)))
        containers = list(compress(children, map(isinstance, children, repeat(_CONTAINERS))))
        if not containers:
            return False
        dicts = [node for node in containers if type(node) is dict]
        lists = [node for node in containers if type(node) is list] if len(dicts) < len(containers) else []
    return True
