"""World-wide orderings under changes: every page of every status selection, in both directions,
is what sorting the world as it now is gives, after any sequence of writes, additions and resets."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.generation.fixture import load_fixture
from mockserver.world import orderings
from mockserver.world.orderings import ORDER_KEYS
from mockserver.world.spec import PAYMENT_STATUSES, STATUSES
from mockserver.world.state import World

FIXTURE = """\
seed: 5
now: 2026-04-10T00:00:00Z
generate: {customers: 6}
invoices: {months: 4, contracts: 2}
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    path = tmp_path_factory.mktemp("ordering") / "small.yaml"
    path.write_text(FIXTURE)
    built = World.from_fixture(load_fixture(path))
    built.warm()
    return built


def expected(world: World, key: str, statuses: tuple[int, ...] | None, descending: bool) -> list[int]:
    kept = [i for i in range(len(world)) if statuses is None or world.cols.status[i] in statuses]
    return sorted(kept, key=world.sort_key(key), reverse=descending)


writes = st.fixed_dictionaries(
    {},
    optional={
        "status": st.integers(0, len(STATUSES) - 1),
        "payment_status": st.integers(0, len(PAYMENT_STATUSES) - 1),
        "subtotal": st.integers(0, 10**6),
        "created_at": st.integers(1_700_000_000, 1_800_000_000),
    },
)


@pytest.mark.parametrize("small_world", [0, orderings.SMALL_WORLD], ids=["overlay", "rebuilt"])
@given(data=st.data())
def test_pages_follow_any_sequence_of_changes(world: World, small_world: int, data) -> None:
    """With `SMALL_WORLD` 0 the orderings keep their overlay; otherwise they are rebuilt."""
    with patch.object(orderings, "SMALL_WORLD", small_world):
        check_pages_after_changes(world, data)


def check_pages_after_changes(world: World, data) -> None:
    world.reset()
    for _ in range(data.draw(st.integers(1, 4), label="changes")):
        if data.draw(st.booleans(), label="reset first"):
            world.reset()
        with world.changing(world.now) as change:
            for _ in range(data.draw(st.integers(0, 6), label="writes")):
                ordinal = data.draw(st.integers(0, len(world) - 1), label="ordinal")
                change.set(ordinal, **data.draw(writes, label="columns"))
            for copy_of in data.draw(st.lists(st.integers(0, len(world) - 1), max_size=3), label="added"):
                values = {
                    name: getattr(world.cols, name)[copy_of] for name in world.cols.__dict__ if name != "ids"
                }
                values["created_at"] = data.draw(st.integers(1_700_000_000, 1_800_000_000), label="created")
                change.add(f"ffffffff-0000-4000-8000-{len(world):012d}", **values)
        for _ in range(3):
            key = data.draw(st.sampled_from(ORDER_KEYS), label="key")
            statuses = data.draw(
                st.none() | st.lists(st.integers(0, len(STATUSES) - 1), min_size=1, unique=True).map(sorted),
                label="statuses",
            )
            statuses = None if statuses is None else tuple(statuses)
            descending = data.draw(st.booleans(), label="descending")
            everything = expected(world, key, statuses, descending)
            offset = data.draw(st.integers(0, len(everything) + 2), label="offset")
            limit = data.draw(st.integers(1, 40), label="limit")
            items, total = world.ordering(key).page(statuses, offset, limit, descending)
            assert total == len(everything)
            assert items == everything[offset : offset + limit]
    world.reset()


def test_a_customer_scope_is_sorted_again_after_a_change(world: World) -> None:
    world.reset()
    customer = 0
    members = list(world.scope("customer", customer, "total").members)
    top = members[-1]
    with world.changing(world.now) as change:
        change.set(members[0], subtotal=world.cols.subtotal[top] + 10**7)
    moved = list(world.scope("customer", customer, "total").members)
    assert moved[-1] == members[0] and sorted(moved) == sorted(members)
    world.reset()
    assert list(world.scope("customer", customer, "total").members) == members


def test_reset_brings_back_the_fixture_world(world: World) -> None:
    world.reset()
    before = [world.invoice(i) for i in range(len(world))]
    counts = list(world.status_counts)
    with world.changing(world.now) as change:
        change.set(3, status=STATUSES.index("void"), subtotal=1)
    assert world.invoice(3) != before[3]
    world.reset()
    assert [world.invoice(i) for i in range(len(world))] == before
    assert world.status_counts == counts
