"""How deeply a JSON value nests, told from its text as from the value itself."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.world.depth import json_too_deep, too_deep

# Strings full of brackets, quotes and backslashes: the characters the text is read by.
TEXT = st.text(alphabet='[]{}"\\ab:,é')
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=30,
)


def depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


@settings(max_examples=400)
@given(JSON, st.integers(1, 8), st.booleans())
def test_the_text_and_the_value_tell_the_same_depth(value, limit, indented) -> None:
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2 if indented else 0)
    assert json_too_deep(text, value, limit) is too_deep(value, limit) is (depth(value) > limit)


def nested(levels: int) -> object:
    """Objects and arrays in turn, `levels` deep, with brackets in their strings."""
    value: object = "]]}"
    for level in range(levels):
        value = [value, "[["] if level % 2 else {"{[": value}
    return value


def test_a_body_one_level_past_the_limit_is_too_deep() -> None:
    assert json_too_deep(orjson.dumps(nested(33)), nested(33))
    assert not json_too_deep(orjson.dumps(nested(32)), nested(32))
