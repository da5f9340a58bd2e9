"""Keys of ingested events are remembered for the window, counted back from the world's clock,
then forgotten; the table holding them follows what the window holds."""

from __future__ import annotations

import os
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.world.clock import DAY
from mockserver.world.remembered import Remembered, digest

WINDOW = 34 * DAY


def test_a_key_is_remembered_for_the_window_then_forgotten() -> None:
    keys = Remembered(WINDOW)
    keys.add([digest("t1")], 0)
    assert keys.seen(digest("t1"), WINDOW - 1)
    assert not keys.seen(digest("t1"), WINDOW)
    assert not keys.seen(digest("t2"), 0)


def test_a_key_ingested_again_is_remembered_from_then() -> None:
    keys = Remembered(WINDOW)
    keys.add([digest("t1")], 0)
    keys.add([digest("t1")], WINDOW)
    assert keys.seen(digest("t1"), 2 * WINDOW - 1) and len(keys) == 1


def test_the_digest_is_the_same_in_every_process_and_parts_are_kept_apart() -> None:
    """Every process decides alike which events are duplicates, whatever its hash seed."""
    script = "from mockserver.world.remembered import digest; print(digest('event', 'customer'))"
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert seen == {str(digest("event", "customer"))}
    assert digest("ab", "c") != digest("a", "bc")


def test_past_keys_are_dropped_once_they_are_as_many_as_the_live_ones() -> None:
    keys = Remembered(WINDOW)
    for n in range(10_000):
        keys.add([digest(f"old-{n}")], 0)
    for n in range(100):
        keys.add([digest(f"new-{n}")], 20 * DAY)
    keys.forget(40 * DAY)  # the old ones are past the window, and outnumber the new
    assert len(keys) == 100
    assert all(keys.seen(digest(f"new-{n}"), 40 * DAY) for n in range(100))
    assert not keys.seen(digest("old-1"), 40 * DAY)


def test_a_copy_is_its_own() -> None:
    keys = Remembered(WINDOW)
    keys.add([digest("shared")], 0)
    twin = keys.copy()
    twin.add([digest("mine")], 0)
    assert twin.seen(digest("shared"), 0) and not keys.seen(digest("mine"), 0)


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # days the clock moves before the batch
            st.lists(st.tuples(st.integers(0, 7), st.integers(1, 40)), max_size=30),
        ),
        max_size=40,
    )
)
def test_the_table_answers_as_a_dictionary_of_keys_and_times_would(steps) -> None:
    """Keys crowded onto a few home slots (so that they walk on from each other), batches with
    repeats, the clock moving past the window: every look-up agrees with a plain dictionary."""
    keys, model, now = Remembered(3 * DAY), {}, 0
    for days, batch in steps:
        now += days * DAY
        keys.forget(now)
        digests = [(home << 1) | (tag << 40) for home, tag in batch]  # home slot, told apart by tag
        found = keys.unseen(digests, now)
        assert [place < 0 for place in found] == [now - model.get(key, -WINDOW) < 3 * DAY for key in digests]
        fresh = list(dict.fromkeys(key for key, place in zip(digests, found, strict=True) if place >= 0))
        keys.add(fresh, now, [found[digests.index(key)] for key in fresh], keys.built)
        model.update(dict.fromkeys(fresh, now))
        assert all(keys.seen(key, now) for key in model if now - model[key] < 3 * DAY)
