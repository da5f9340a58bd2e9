"""List bodies around pre-encoded items: by item, or sliced from items kept back to back."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from mockserver.shell.jsonbytes import Run, wrapped_join

_ITEMS = st.lists(
    st.dictionaries(st.text(max_size=3), st.integers(-(2**53), 2**53), max_size=3).map(orjson.dumps),
    max_size=12,
)


@given(_ITEMS, st.data())
def test_a_slice_of_a_run_is_those_items_comma_separated(items: list[bytes], data) -> None:
    run = Run(items)
    if items:
        first = data.draw(st.integers(0, len(items) - 1), label="first")
        end = data.draw(st.integers(first + 1, len(items)), label="end")
        body = b"".join((b"[", run.slice(first, end), b"]"))
        assert body == wrapped_join(b"[", items[first:end], b"]")
        assert orjson.loads(body) == [orjson.loads(item) for item in items[first:end]]
