import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mockserver.shell.cursor import CursorCodec, CursorError

FILTERS = CursorCodec.filters_digest([("status", "DRAFT"), ("sort", "date_asc")])


def test_a_cursor_round_trips_across_codec_instances_with_the_same_secret() -> None:
    token = CursorCodec("fixture-a").encode(1_700_000_000, 42, FILTERS)
    assert CursorCodec("fixture-a").decode(token, FILTERS) == (1_700_000_000, 42)


def test_a_cursor_is_url_safe_and_unpadded() -> None:
    token = CursorCodec("fixture-a").encode(2**62, 2**40, FILTERS)
    assert token.isascii() and not set(token) & set("+/=%&?# ")


def test_filter_digest_ignores_parameter_order() -> None:
    assert CursorCodec.filters_digest([("sort", "date_asc"), ("status", "DRAFT")]) == FILTERS


def test_a_cursor_for_other_filters_is_rejected() -> None:
    codec = CursorCodec("fixture-a")
    token = codec.encode(1, 7, FILTERS)
    with pytest.raises(CursorError, match="different filters"):
        codec.decode(token, CursorCodec.filters_digest([("status", "VOID")]))


def test_a_cursor_from_another_fixture_is_rejected() -> None:
    token = CursorCodec("fixture-a").encode(1, 7, FILTERS)
    with pytest.raises(CursorError, match="not a cursor this server issued"):
        CursorCodec("fixture-b").decode(token, FILTERS)


def test_every_single_character_change_is_rejected() -> None:
    codec = CursorCodec("fixture-a")
    token = codec.encode(1_700_000_000, 123_456, FILTERS)
    for index in range(len(token)):
        for replacement in ("A", "B", "+", "/", "=", "é"):
            forged = token[:index] + replacement + token[index + 1 :]
            if forged != token:
                with pytest.raises(CursorError):
                    codec.decode(forged, FILTERS)


@pytest.mark.parametrize("junk", ["", "x", "%%%", "a" * 500, "eyJhIjoxfQ", "A" * 48, "=" * 48])
def test_junk_is_rejected(junk: str) -> None:
    with pytest.raises(CursorError):
        CursorCodec("fixture-a").decode(junk, FILTERS)


@given(st.data())
def test_any_single_character_edit_is_rejected(data) -> None:
    codec = CursorCodec("fixture-a")
    token = codec.encode(data.draw(st.integers(0, 2**40)), data.draw(st.integers(0, 2**20)), FILTERS)
    index = data.draw(st.integers(0, len(token)))
    char = data.draw(st.characters(codec="ascii"))
    edit = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    if edit == "replace" and index < len(token):
        forged = token[:index] + char + token[index + 1 :]
    elif edit == "delete" and index < len(token):
        forged = token[:index] + token[index + 1 :]
    else:
        forged = token[:index] + char + token[index:]
    assume(forged != token)
    with pytest.raises(CursorError):
        codec.decode(forged, FILTERS)
