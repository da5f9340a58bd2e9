"""How deeply a JSON value nests: bounded wherever a client's JSON is taken, since what is kept
is written out again (orjson writes at most 254 levels) and walked by the routes."""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 32  # levels of objects and arrays; a billing body needs a handful


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` nests objects and arrays more than `limit` levels deep; walks level by
    level, never recursing, so any depth is measured in constant stack."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True
