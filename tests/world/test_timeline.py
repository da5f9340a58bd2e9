"""The timeline: a change is logged before it is applied, a process that cannot apply what it
logged takes it back and stops, and a process sharing the log applies what another appended."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.world import changes
from mockserver.world.log import FileLog
from mockserver.world.state import World
from mockserver.world.timeline import DIVERGED, Timeline


def world() -> World:
    return World.from_fixture(load_fixture(None))


def test_a_change_that_fails_to_apply_is_taken_back_and_the_process_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "changes.jsonl"
    timeline = Timeline(world(), FileLog(path, shared=True))
    timeline.submit("clock", {"advance": "PT1H"})

    def broken(target: World, change: changes.Change) -> changes.Args:
        raise RuntimeError("a bug while applying")

    monkeypatch.setattr(changes, "apply", broken)
    with pytest.raises(SystemExit) as stopped:
        timeline.submit("clock", {"advance": "PT1H"})
    assert stopped.value.code == DIVERGED
    monkeypatch.undo()
    assert len(path.read_bytes().splitlines()) == 1
    other = Timeline(world(), FileLog(path, shared=True))
    other.catch_up()  # the other processes are not handed a change nobody could apply
    assert other.world.seq == 1 and other.export() == timeline.export()


def test_the_exported_log_is_the_same_from_memory_and_from_a_shared_file(tmp_path: Path) -> None:
    path = tmp_path / "changes.jsonl"
    kept, shared = Timeline(world()), Timeline(world(), FileLog(path, shared=True))
    for timeline in (kept, shared):
        timeline.submit("clock", {"advance": "P1M"})
        timeline.submit("faults", {"rules": [{"respond": {"status": 503}, "times": 1}]})
    assert kept.export() == shared.export() == path.read_bytes()
    assert kept.export().count(b"\n") == 2
