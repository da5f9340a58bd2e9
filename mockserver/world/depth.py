"""How deeply a JSON value nests: bounded wherever a client's JSON is taken, since what is kept
is written out again (orjson writes at most 254 levels) and walked by the routes."""

from __future__ import annotations

import re
from itertools import chain, compress, repeat
from typing import Any

MAX_DEPTH = 32  # levels of objects and arrays; a billing body needs a handful
_CONTAINERS = (dict, list)
# A JSON text's brackets, all of one kind (JSON closes each as it opened it), and its quotes.
_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(set(range(256)) - set(b'[]{}"'))
_STRINGS = re.compile(rb'"[^"]*"')


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


def json_too_deep(text: bytes, value: Any, limit: int = MAX_DEPTH) -> bool:
    """`too_deep` of `value`, parsed from the JSON `text`, read from the text's brackets where
    no string in it holds an escape (the usual body; three times as fast on a batch of usage):
    with the strings cut out, each pass takes the innermost pairs away, so a value nests as
    many levels as the passes that leave nothing."""
    if b"\\" in text:  # a quote may be escaped: only the value tells where strings end
        return too_deep(value, limit)
    # Adjacent quotes close a string and open the next, or hold an empty one: either way only
    # string text lies between the quotes left, which alternate still.
    brackets = text.translate(_AS_BRACKETS, _NOT_BRACKETS).replace(b'""', b"")
    if b'"' in brackets:
        brackets = _STRINGS.sub(b"", brackets)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)
