"""Snapshots beside a log: a start from one replays only the tail and reaches the world a full
replay reaches; a snapshot that does not belong to the log is not used."""

from __future__ import annotations

import logging
import os
import pickle
import time
from pathlib import Path

import orjson
import pytest

from mockserver.generation.export import canonical_json
from mockserver.generation.fixture import load_fixture, parse_fixture
from mockserver.world import snapshot
from mockserver.world.log import FileLog
from mockserver.world.snapshot import Snapshots
from mockserver.world.state import World
from mockserver.world.timeline import Timeline


def world() -> World:
    return World.from_fixture(load_fixture(None))


async def ingest(timeline: Timeline, first: int, count: int) -> None:
    customer = timeline.world.customers[0].id
    events = [
        {"transaction_id": f"t{n}", "customer_id": customer, "event_type": "api_request"}
        for n in range(first, first + count)
    ]
    await timeline.submit("ingest", {"policy": "metronome", "events": events})


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists()


async def started(path: Path, fixture=None) -> Timeline:
    """What a start does: the snapshot's world if it fits the log, else the fixture's; the rest replayed."""
    fixture = fixture or load_fixture(None)
    log, snapshots = FileLog(path), Snapshots(path)
    found = snapshots.read(fixture, log.resume)
    timeline = Timeline(found if found is not None else World.from_fixture(fixture), log, snapshots)
    await timeline.catch_up()
    return timeline


async def test_a_start_from_a_snapshot_reaches_the_world_of_a_full_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "EVERY", 4096)
    path = tmp_path / "changes.jsonl"
    writing = Timeline(world(), FileLog(path), Snapshots(path))
    for batch in range(8):
        await ingest(writing, batch * 20, 20)
    wait_for(Snapshots(path).path)
    await writing.submit("clock", {"advance": "P1M"})
    await ingest(writing, 1000, 5)
    resumed = await started(path)
    replayed = Timeline(world(), FileLog(path))
    await replayed.catch_up()
    assert resumed.world.seq == replayed.world.seq == writing.world.seq == 10
    assert canonical_json(resumed.world) == canonical_json(replayed.world) == canonical_json(writing.world)
    assert await resumed.export() == path.read_bytes()  # the whole log, from seq 1
    await ingest(resumed, 0, 1)  # a duplicate remembered through the snapshot: nothing logged
    assert resumed.world.seq == 10


async def test_a_snapshot_that_is_not_of_this_log_or_fixture_is_not_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "changes.jsonl"
    writing = Timeline(world(), FileLog(path))
    await ingest(writing, 0, 10)
    Snapshots(path).write(writing.world, writing.log.mark())
    os.truncate(path, 0)  # the log was replaced since
    other = Timeline(world(), FileLog(path))
    await ingest(other, 500, 3)
    with caplog.at_level(logging.WARNING, logger="mockserver"):
        resumed = await started(path)
    assert "a snapshot of another log" in caplog.text
    assert canonical_json(resumed.world) == canonical_json(other.world)
    caplog.clear()
    changed = parse_fixture("name: other\nseed: 7\n", "other.yaml")
    with caplog.at_level(logging.WARNING, logger="mockserver"):
        Snapshots(path).read(changed, FileLog(path).resume)
    assert "a snapshot of another fixture" in caplog.text


def test_a_snapshot_pickled_before_the_fixture_model_and_invoices_moved_to_the_world_still_loads(
    tmp_path: Path,
) -> None:
    """A server upgraded over its snapshot: the classes it pickled under their earlier modules
    (the fixture's model and the generator's columns under `generation`, a world's hooks
    under `world.webhooks`) are found where they live now."""
    fixture = load_fixture(None)
    original = World.from_fixture(fixture)
    pickled = pickle.dumps(original, protocol=2)  # protocol 2 names each class as text
    for new, old in (
        (b"mockserver.world.spec\nLocated\n", b"mockserver.generation.fixture\n_Located\n"),
        (b"mockserver.world.spec\nLocatedList\n", b"mockserver.generation.fixture\n_LocatedList\n"),
        (b"mockserver.world.spec\n", b"mockserver.generation.fixture\n"),
        (b"mockserver.world.columns\nInvoiceColumns\n", b"mockserver.generation.generator\nInvoiceColumns\n"),
        (b"mockserver.world.hooks\nHooks\n", b"mockserver.world.webhooks\nHooks\n"),
    ):
        assert new in pickled
        pickled = pickled.replace(new, old)
    with pytest.raises(AttributeError):
        pickle.loads(pickled)  # what a plain unpickler makes of it
    header = {"fixture": snapshot.fingerprint(fixture), "offset": 0, "lines": 0, "last": ""}
    (tmp_path / "changes.jsonl.snapshot").write_bytes(snapshot.MAGIC + orjson.dumps(header) + b"\n" + pickled)
    loaded = Snapshots(tmp_path / "changes.jsonl").read(fixture, lambda mark: True)
    assert loaded is not None
    assert canonical_json(loaded) == canonical_json(original)
    assert type(loaded.hooks) is type(original.hooks)
