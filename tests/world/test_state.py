"""The world's scopes: what a period window's bisections promise, for members in any order."""

from __future__ import annotations

from array import array
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from mockserver.world.scope import Scope

periods = st.lists(
    st.tuples(st.integers(0, 50), st.integers(1, 20)).map(lambda p: (p[0], p[0] + p[1])), max_size=40
)
bounds = st.none() | st.integers(-5, 75)


@given(periods, st.randoms(use_true_random=False), bounds, bounds)
def test_a_span_holds_every_match_and_its_sure_run_only_matches(periods, rng, low, high) -> None:
    cols = SimpleNamespace(
        period_start=array("q", [start for start, _ in periods]),
        period_end=array("q", [end for _, end in periods]),
    )
    members = list(range(len(periods)))
    rng.shuffle(members)  # any order, not only dates
    scope = Scope(array("q", members), cols)

    def inside(ordinal: int) -> bool:
        start, end = periods[ordinal]
        return (low is None or start >= low) and (high is None or end <= high)

    begin, sure_begin, sure_stop, stop = scope.span(low, high)
    assert 0 <= begin <= len(members) and 0 <= stop <= len(members)  # begin > stop: nothing can match
    assert not any(inside(m) for m in members[:begin] + members[stop:])
    assert all(inside(m) for m in members[sure_begin:sure_stop])


def test_in_date_order_the_sure_run_is_the_whole_window() -> None:
    monthly = [(month * 30, month * 30 + 30) for month in range(12)]
    cols = SimpleNamespace(
        period_start=array("q", [s for s, _ in monthly]), period_end=array("q", [e for _, e in monthly])
    )
    scope = Scope(array("q", range(12)), cols)
    assert scope.span(90, 240) == (3, 3, 8, 8)
    assert scope.span(None, None) == (0, 0, 12, 12)
