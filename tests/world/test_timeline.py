"""The timeline: a change is logged before it is applied, a process that cannot apply what it
logged takes it back and stops, and a process sharing the log applies what another appended."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.world import changes
from mockserver.world.log import FileLog, LogError
from mockserver.world.state import World
from mockserver.world.timeline import DIVERGED, Timeline


def world() -> World:
    return World.from_fixture(load_fixture(None))


async def test_a_change_that_fails_to_apply_is_taken_back_and_the_process_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "changes.jsonl"
    timeline = Timeline(world(), FileLog(path, shared=True))
    await timeline.submit("clock", {"advance": "PT1H"})

    def broken(target: World, change: changes.Change) -> changes.Args:
        raise RuntimeError("a bug while applying")

    monkeypatch.setattr(changes, "apply", broken)
    with pytest.raises(SystemExit) as stopped:
        await timeline.submit("clock", {"advance": "PT1H"})
    assert stopped.value.code == DIVERGED
    monkeypatch.undo()
    assert len(path.read_bytes().splitlines()) == 1
    other = Timeline(world(), FileLog(path, shared=True))
    await other.catch_up()  # the other processes are not handed a change nobody could apply
    assert other.world.seq == 1 and await other.export() == await timeline.export()


async def test_the_exported_log_is_the_same_from_memory_and_from_a_shared_file(tmp_path: Path) -> None:
    path = tmp_path / "changes.jsonl"
    kept, shared = Timeline(world()), Timeline(world(), FileLog(path, shared=True))
    for timeline in (kept, shared):
        await timeline.submit("clock", {"advance": "P1M"})
        await timeline.submit("faults", {"rules": [{"respond": {"status": 503}, "times": 1}]})
    assert await kept.export() == await shared.export() == path.read_bytes()
    assert (await kept.export()).count(b"\n") == 2


async def test_a_usage_batch_read_from_the_log_is_applied_as_its_writer_applied_it(tmp_path: Path) -> None:
    path = tmp_path / "changes.jsonl"
    writer = Timeline(world(), FileLog(path, shared=True))
    customer = writer.world.customers[0]
    now = "2026-11-15T12:00:00Z"
    usage = [
        {"transaction_id": f"t{n}", "customer_id": customer.id, "event_type": "api_request", "timestamp": now}
        for n in range(3)
    ]
    await writer.submit("ingest", {"policy": "metronome", "events": usage})
    await writer.submit(
        "ingest",
        {"policy": "metronome", "events": [{**usage[0], "transaction_id": "t9", "customer_id": "not-yet"}]},
    )
    reader = Timeline(world(), FileLog(path, shared=True))
    await reader.catch_up()
    assert reader.world.seq == 2 and reader.world.usage == writer.world.usage
    assert reader.world.pending.claim(("not-yet",), reader.world.now) == writer.world.pending.claim(
        ("not-yet",), writer.world.now
    )


@pytest.mark.parametrize(
    ("event", "policy"),
    [
        ({"customer_id": "c"}, "metronome"),  # fields missing
        (
            {"transaction_id": "t", "customer_id": 7, "event_type": "e", "timestamp": "2026-11-15T12:00:00Z"},
            "metronome",
        ),
        (
            {
                "transaction_id": "t",
                "customer_id": "c",
                "event_type": "e",
                "timestamp": "2026-11-15T12:00:00.000Z",
            },
            "metronome",
        ),
        (
            {"transaction_id": "t", "customer_id": "c", "event_type": "e", "timestamp": "yesterday"},
            "metronome",
        ),
        (
            {
                "transaction_id": "t",
                "customer_id": "c",
                "event_type": "e",
                "timestamp": "2026-11-15T12:00:00Z",
                "properties": [1],
            },
            "metronome",
        ),
        (
            {"event_id": "e", "customer_id": "nobody", "code": "c", "timestamp": "2026-11-15T12:00:00Z"},
            "meteroid",
        ),
        ("an event", "metronome"),
    ],
)
async def test_a_logged_usage_batch_that_is_not_one_is_refused_before_any_of_it_is_applied(
    tmp_path: Path, event: object, policy: str
) -> None:
    """A log written by hand (or by a bug): the line is refused, and the world stays as the
    lines before it left it."""
    path = tmp_path / "changes.jsonl"
    writer = Timeline(world(), FileLog(path, shared=True))
    await writer.submit("clock", {"advance": "PT1H"})
    line = orjson.dumps({"seq": 2, "kind": "ingest", "args": {"policy": policy, "events": [event]}})
    with path.open("ab") as log:
        log.write(line + b"\n")
    reader = Timeline(world(), FileLog(path, shared=True))
    with pytest.raises(LogError, match=r"^change 2: ingest: "):
        await reader.catch_up()
    assert reader.world.seq == 1 and reader.world.usage == writer.world.usage
