"""Only the known parameters are read, and they read exactly as the full query decodes them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from mockserver.shell.querystring import known_pairs

NAMES = frozenset({"limit", "next_page", "status", "a b", "ü"})
_PIECES = st.sampled_from(
    ["limit", "next_page", "status", "a", "b", "ü", "=", "&", "+", "%20", "%2", "%C3%BC", "x"]
)


def _decoded(query_string: str, names: frozenset[str]) -> list[tuple[str, str]]:
    url = URL.build(path="/p", query_string=query_string, encoded=True)
    return [(name, value) for name, value in url.query.items() if name in names]


@settings(max_examples=500)  # cheap examples: many of them
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_known_pairs_are_the_decoded_query_filtered_by_name(query_string: str) -> None:
    url = URL.build(path="/p", query_string=query_string, encoded=True)
    assert list(known_pairs(url, NAMES)) == _decoded(query_string, NAMES)


def test_unknown_parameters_and_empty_fields_are_dropped_and_repeats_kept() -> None:
    url = URL("/p?bench_nonce=1&&limit=2&status=A&limit=&x=y")
    assert known_pairs(url, NAMES) == (("limit", "2"), ("status", "A"), ("limit", ""))


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("a+b=%C3%BC&%C3%BC=1+2", (("a b", "ü"), ("ü", "1 2"))),
        ("limit=1+2", (("limit", "1 2"),)),
        ("a+b=1", (("a b", "1"),)),
    ],
)
def test_encoded_names_and_values_are_decoded(query_string: str, expected: tuple) -> None:
    url = URL.build(path="/p", query_string=query_string, encoded=True)
    assert known_pairs(url, NAMES) == expected
