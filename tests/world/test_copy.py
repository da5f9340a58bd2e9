"""A copy of a world, as a branch takes one before its first change: changed on its own, it
leaves the original as it was, and reaches the same state as a world generated afresh that
took the same changes."""

from __future__ import annotations

from array import array

import pytest

from mockserver.generation.export import canonical_json
from mockserver.generation.fixture import parse_fixture
from mockserver.world.ordering import Ordering
from mockserver.world.orderings import ORDER_KEYS
from mockserver.world.state import World
from mockserver.world.timeline import Timeline
from tests.world.test_writes import EURO, FIXTURE, SOLO, event, ingest

# What a copy shares with its original, because no change writes to it in place.
SHARED = {"fixture", "metering", "_fixture_customers", "_fixture_cols", "_by_id", "_faker", "faults"}


def fresh() -> World:
    world = World.from_fixture(parse_fixture(FIXTURE, "writes.yaml"))
    world.warm()
    return world


def seen(world: World) -> tuple:
    """What a client can see of a world: its document, and every ordering's pages."""
    pages = tuple(tuple(world.ordering(key).page(None, 0, len(world), False)[0]) for key in ORDER_KEYS)
    return canonical_json(world), pages, world.now, world.seq, tuple(world.status_counts)


async def change(timeline: Timeline) -> None:
    """Changes of every kind a world takes."""
    await ingest(timeline, event("c1", user="a"), event("c2", customer="solo-two", user="b"))
    await ingest(timeline, event("c4", customer="not-yet"), event("c5", customer="branch"))
    await ingest(
        timeline, event("c3", code="compute", seconds="4", tier="std"), policy="meteroid", partial=True
    )
    await timeline.submit("customer.create", {"fields": {"name": "Branch Co", "aliases": ["branch"]}})
    await timeline.submit("customer.update", {"customer": EURO, "fields": {"name": "Renamed GmbH"}})
    await timeline.submit("clock", {"advance": "P1M"})
    world = timeline.world
    finalized = next(o for o in range(len(world)) if world.invoice(o).status == "finalized")
    await timeline.submit("invoice.void", {"invoice": world.cols.ids[finalized]})
    await timeline.submit("invoice.regenerate", {"invoice": world.cols.ids[finalized]})
    await timeline.submit("customer.archive", {"customer": SOLO, "end_contracts": True})
    await timeline.submit("faults", {"rules": [{"respond": {"status": 503}, "times": 1}]})


async def test_every_container_a_change_writes_is_the_copys_own() -> None:
    world = fresh()
    await change(Timeline(world))  # an original with an overlay, usage and new invoices to copy
    twin = world.copy()
    for name, value in vars(world).items():
        if name in SHARED or not isinstance(value, list | dict | set | array | Ordering) or not value:
            continue
        assert getattr(twin, name) is not value, name
    for key, ordering in world._orderings.items():
        mine = twin._orderings[key]
        assert mine.entry_of is not ordering.entry_of and mine.entries is not ordering.entries
        assert mine.order is ordering.order  # the base is shared
    assert twin.cols.status is not world.cols.status and twin.cols.ids is not world.cols.ids
    twin.pending.clear()
    assert len(world.pending) == 1  # usage kept for an alias no customer has: the copy's own


async def test_a_copy_changes_alone_and_as_a_fresh_world_would() -> None:
    original = fresh()
    before = seen(original)
    twin = original.copy()
    branched = Timeline(twin)
    await change(branched)
    assert seen(original) == before
    reference = Timeline(fresh())
    await change(reference)
    assert seen(twin) == seen(reference.world)
    assert await branched.export() == await reference.export()
    await branched.submit("reset", {})
    assert seen(twin)[0] == before[0] and seen(original) == before


async def test_a_copy_of_a_changed_world_goes_on_from_its_state() -> None:
    original = fresh()
    timeline = Timeline(original)
    await change(timeline)
    twin = original.copy()
    await Timeline(twin).submit("clock", {"advance": "P1M"})
    await timeline.submit("clock", {"advance": "P1M"})
    assert seen(twin)[0] == seen(original)[0]


async def test_a_frozen_world_is_only_copied_and_its_copies_reset_to_its_columns() -> None:
    original = fresh()
    before = seen(original)
    original.freeze()
    with pytest.raises(RuntimeError, match="frozen"):
        await Timeline(original).submit("clock", {"advance": "PT1H"})
    twin = original.copy()
    await change(Timeline(twin))
    assert twin._fixture_cols is original.cols  # shared, not copied again at the first change
    await Timeline(twin).submit("reset", {})
    assert seen(twin)[0] == before[0] and seen(original) == before
