"""The change log keeps every acknowledged change: a change is written whole or not at all,
a torn last line is cut off, a bad line in the middle is refused by name, the file is read as
a stream, and a change that cannot be stored or written changes nothing."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.world import log as change_log
from mockserver.world.changes import ChangeError
from mockserver.world.log import FileLog, LogError, LogWriteError
from mockserver.world.state import World
from mockserver.world.timeline import Timeline


def world() -> World:
    return World.from_fixture(load_fixture(None))


async def advance(timeline: Timeline, times: int = 1) -> None:
    for _ in range(times):
        await timeline.submit("clock", {"advance": "PT1H"})


async def test_a_torn_last_line_is_cut_off_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "changes.jsonl"
    await advance(Timeline(world(), FileLog(path)), 2)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"kind":"clock","seq":3,"to":"20')  # a writer killed mid-line
    with caplog.at_level(logging.WARNING, logger="mockserver"):
        replayed = Timeline(world(), FileLog(path))
    assert path.read_bytes() == whole
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: cut off a torn last line (32 bytes), never acknowledged"
    ]
    await replayed.catch_up()
    assert replayed.world.seq == 2
    await advance(replayed)  # the next change starts on a line of its own
    again = Timeline(world(), FileLog(path))
    await again.catch_up()
    assert again.world.seq == 3


async def test_a_torn_line_left_by_a_dead_writer_is_cut_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "changes.jsonl"
    first, second = (
        Timeline(world(), FileLog(path, shared=True)),
        Timeline(world(), FileLog(path, shared=True)),
    )
    await advance(first)
    with open(path, "ab") as torn:  # the first writer dies halfway through its next line
        torn.write(b'{"kind":"clock","se')
    await advance(second)
    third = Timeline(world(), FileLog(path))
    await third.catch_up()
    assert third.world.seq == 2 and path.read_bytes().count(b"\n") == 2


async def test_a_bad_line_in_the_middle_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "changes.jsonl"
    await advance(Timeline(world(), FileLog(path)), 3)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = b"not a change\n"
    path.write_bytes(b"".join(lines))
    timeline = Timeline(world(), FileLog(path))
    with pytest.raises(LogError, match=rf"^{path}, line 2: not JSON"):
        await timeline.catch_up()


async def test_a_short_write_is_finished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "changes.jsonl"
    timeline = Timeline(world(), FileLog(path))
    real_write = os.write
    monkeypatch.setattr(change_log.os, "write", lambda fd, data: real_write(fd, bytes(data)[:7]))
    await advance(timeline, 2)
    monkeypatch.undo()
    replayed = Timeline(world(), FileLog(path))
    await replayed.catch_up()
    assert replayed.world.seq == 2 and await replayed.export() == await timeline.export() == path.read_bytes()


@pytest.mark.parametrize("kept", [True, False], ids=["a kept file", "a file of its own"])
async def test_a_failed_write_is_cut_back_and_nothing_is_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: bool
) -> None:
    timeline = Timeline(world(), FileLog(tmp_path / "changes.jsonl" if kept else None))
    await advance(timeline)
    before, now = await timeline.export(), timeline.world.now
    real_write = os.write
    calls = []

    def full_disk(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data)[:10])  # a part goes in, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(change_log.os, "write", full_disk)
    with pytest.raises(LogWriteError, match="No space left on device"):
        await advance(timeline)
    assert (timeline.world.seq, timeline.world.now) == (1, now)
    monkeypatch.undo()
    assert await timeline.export() == before
    await advance(timeline)  # room again: writes succeed, right after the last whole line
    assert timeline.world.seq == 2
    replayed = Timeline(world())
    for line in (await timeline.export()).splitlines():
        await replayed.submit(*_as_submitted(line))
    assert await replayed.export() == await timeline.export()


def _as_submitted(line: bytes) -> tuple[str, dict]:
    value = json.loads(line)
    value.pop("seq")
    return value.pop("kind"), value


def test_a_file_size_limit_refuses_writes_and_keeps_what_was_acknowledged(tmp_path: Path) -> None:
    """RLIMIT_FSIZE, as `ulimit -f` sets it, in a process of its own."""
    script = textwrap.dedent(
        f"""
        import asyncio, resource, signal
        from mockserver.generation.fixture import load_fixture
        from mockserver.world.log import FileLog, LogWriteError
        from mockserver.world.state import World
        from mockserver.world.timeline import Timeline
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        timeline = Timeline(World.from_fixture(load_fixture(None)), FileLog({str(tmp_path / "c.jsonl")!r}))
        rule = {{"respond": {{"status": 503}}, "times": 1}}
        done = 0
        for _ in range(500):
            try:
                asyncio.run(timeline.submit("faults", {{"rules": [rule]}}))
            except LogWriteError as exc:
                print(done, timeline.world.seq, exc)
                break
            done += 1
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split(maxsplit=2)
    acknowledged, seq, reason = int(out[0]), int(out[1]), out[2].strip()
    assert 0 < acknowledged == seq and reason == "File too large"
    lines = (tmp_path / "c.jsonl").read_bytes().splitlines()
    assert len(lines) == acknowledged and all(line.endswith(b"}") for line in lines)
    assert (tmp_path / "c.jsonl").stat().st_size <= 4096


async def test_a_change_that_cannot_be_serialised_is_refused_and_nothing_happens(tmp_path: Path) -> None:
    path = tmp_path / "changes.jsonl"
    timeline = Timeline(world(), FileLog(path))
    deep: dict = {}
    for _ in range(300):
        deep = {"d": deep}
    event = {
        "transaction_id": "deep",
        "customer_id": timeline.world.customers[0].id,
        "event_type": "api_request",
        "properties": deep,
    }
    with pytest.raises(ChangeError, match="cannot be stored"):
        await timeline.submit("ingest", {"policy": "metronome", "events": [event]})
    assert timeline.world.seq == 0 and path.read_bytes() == b"" and not timeline.world.ingested


async def test_a_log_longer_than_a_read_is_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(change_log, "CHUNK", 64)  # every line is longer than a read
    path = tmp_path / "changes.jsonl"
    timeline = Timeline(world(), FileLog(path))
    await advance(timeline, 5)
    replayed = Timeline(world(), FileLog(path))
    await replayed.catch_up()
    assert (
        replayed.world.seq == 5
        and b"".join([chunk async for chunk in replayed.log.export()]) == path.read_bytes()
    )
    assert all([len(chunk) <= 64 async for chunk in replayed.log.export()])


def test_batch_durability_flushes_waiting_changes_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes = []
    monkeypatch.setattr(change_log.os, "fdatasync", flushes.append)
    timeline = Timeline(world(), FileLog(tmp_path / "changes.jsonl", fsync="batch"))
    durable = timeline.log.durable
    assert durable is not None

    async def three_changes() -> None:
        await advance(timeline, 3)
        await asyncio.gather(durable(), durable(), durable())
        await durable()  # nothing new: no flush

    asyncio.run(three_changes())
    assert len(flushes) == 1


async def test_always_durability_flushes_every_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes = []
    monkeypatch.setattr(change_log.os, "fdatasync", flushes.append)
    timeline = Timeline(world(), FileLog(tmp_path / "changes.jsonl", fsync="always"))
    await advance(timeline, 3)
    assert len(flushes) == 3 and timeline.log.durable is None
