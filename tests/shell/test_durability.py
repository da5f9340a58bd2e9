"""What a 200 promises, tried on real processes: a change answered is in the log for good
(through SIGKILL of a worker or of the whole server, and a full file), a change refused is
nowhere, every worker serves the same world, and the next start serves it again."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import TOKEN

LIMIT = 48 * 1024  # bytes: `ulimit -f 48`


def call(base: str, method: str, path: str, body: object = None) -> tuple[int, dict]:
    """One request on a connection of its own (so that workers take turns answering)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@contextlib.contextmanager
def server(*args: str, limit: int | None = None, tmpdir: Path | None = None) -> Iterator[tuple[str, int]]:
    """`mockserver serve` as its own process (under a file size limit, if given): its URL and pid."""

    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    env = {**os.environ, **({"TMPDIR": str(tmpdir)} if tmpdir else {})}
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=limited
    )
    try:
        for line in process.stdout:  # type: ignore[union-attr]
            if line.startswith("ready "):
                break
        else:
            raise RuntimeError(f"mockserver did not start: {process.stderr.read()}")  # type: ignore[union-attr]
        yield line.split()[1], process.pid
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]


def exported(base: str) -> list[dict]:
    with urllib.request.urlopen(base + "/_mock/changes", timeout=30) as response:
        return [json.loads(line) for line in response.read().splitlines()]


@pytest.mark.parametrize("kept", [True, False], ids=["--changes FILE", "default"])
def test_under_a_file_size_limit_writes_are_refused_and_reads_served(tmp_path: Path, kept: bool) -> None:
    """`ulimit -f 48`: the server starts and serves; the log (a kept file, or by default a file
    of the process's own) reaches the limit, and then writes are refused, nothing applied."""
    log = tmp_path / "changes.jsonl"
    args = ("--journal-size", "0", *(("--changes", str(log)) if kept else ()))
    with server(*args, limit=LIMIT) as (base, pid):
        acknowledged, refusal = 0, None
        for n in range(2_000):
            status, body = call(base, "POST", "/v1/customers", {"name": f"Customer {n:04}" + "x" * 200})
            if status != 200:
                refusal = (status, body)
                break
            acknowledged += 1
        assert refusal == (503, {"message": "the change log cannot be written: File too large"})
        assert call(base, "GET", "/_mock/health")[0] == 200
        assert call(base, "GET", "/v1/customers?limit=5")[0] == 200
        assert call(base, "GET", "/_mock/clock")[1]["seq"] == acknowledged
        assert len(exported(base)) == acknowledged
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        assert call(base, "POST", "/_mock/clock", {"advance": "PT1H"})[0] == 200  # room again
        assert len(exported(base)) == acknowledged + 1
    if kept:
        with server("--changes", str(log)) as (base, _pid):
            assert call(base, "GET", "/_mock/clock")[1]["seq"] == acknowledged + 1


def test_a_torn_last_line_is_cut_off_and_the_server_starts(tmp_path: Path) -> None:
    log = tmp_path / "changes.jsonl"
    with server("--changes", str(log)) as (base, _pid):
        assert call(base, "POST", "/_mock/clock", {"advance": "PT1H"})[0] == 200
    whole = log.read_bytes()
    log.write_bytes(whole + b'{"kind":"clock","seq":2')
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--changes", str(log)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = process.stdout.readline() + process.stdout.readline()  # type: ignore[union-attr]
        while not ready.splitlines()[-1].startswith("ready "):
            ready += process.stdout.readline()  # type: ignore[union-attr]
        base = ready.splitlines()[-1].split()[1]
        assert call(base, "GET", "/_mock/clock")[1]["seq"] == 1
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=10)
    assert log.read_bytes() == whole
    warnings = [line for line in err.splitlines() if "torn" in line]
    assert len(warnings) == 1 and f"{log}: cut off a torn last line (23 bytes)" in warnings[0]


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def test_sigkill_during_writes_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """Writers on fresh connections to two workers; a worker is killed mid-write, then the
    whole server. Every change answered 200 is in the log, every worker serves the log's
    world, and the next start serves it."""
    log = tmp_path / "changes.jsonl"
    acknowledged: list[str] = []

    def writing(base: str, seconds: float, killed: threading.Event) -> list[threading.Thread]:
        stop = time.monotonic() + seconds

        def writer(name: str) -> None:
            n = 0
            while time.monotonic() < stop and not killed.is_set():
                n += 1
                with contextlib.suppress(OSError):
                    status, body = call(base, "POST", "/v1/customers", {"name": f"{name}-{n}"})
                    if status == 200:
                        acknowledged.append(body["data"]["name"])

        threads = [threading.Thread(target=writer, args=(f"{seconds}-{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        return threads

    with server("--workers", "2", "--changes", str(log)) as (base, pid):
        killed = threading.Event()
        threads = writing(base, 2.0, killed)
        time.sleep(0.7)
        os.kill(children(pid)[0], signal.SIGKILL)  # a worker dies mid-write; it is replaced
        for thread in threads:
            thread.join()
        time.sleep(0.5)
        answers = [call(base, "GET", "/_mock/health")[1] for _ in range(12)]
        assert len({answer["pid"] for answer in answers}) == 2
        assert {answer["seq"] for answer in answers} == {len(log.read_bytes().splitlines())}
        threads = writing(base, 30.0, killed)
        time.sleep(0.7)
        for child in children(pid):  # then the whole server, mid-write
            os.kill(child, signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
        killed.set()
        for thread in threads:
            thread.join()
    assert acknowledged
    with server("--workers", "2", "--changes", str(log)) as (base, _pid):
        logged = [c["fields"]["name"] for c in exported(base) if c["kind"] == "customer.create"]
        assert set(acknowledged) <= set(logged)
        assert len(logged) == len(set(logged))
        answers = {call(base, "GET", "/_mock/health")[1]["seq"] for _ in range(8)}
        assert answers == {len(log.read_bytes().splitlines())}


def test_scratch_directories_of_killed_servers_are_removed_at_the_next_start() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmpdir = Path(name)
        with server("--workers", "2", tmpdir=tmpdir) as (_base, pid):
            left = [p for p in tmpdir.iterdir() if p.name.startswith("mockserver-")]
            for child in children(pid):
                os.kill(child, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
        assert all(p.exists() for p in left) and left
        with server(tmpdir=tmpdir):
            assert not any(p.exists() for p in left)
            assert len([p for p in tmpdir.iterdir() if p.name.startswith("mockserver-")]) == 1


@pytest.mark.parametrize("option", ["batch", "always"])
def test_fsync_levels_serve_writes(tmp_path: Path, option: str) -> None:
    log = tmp_path / "changes.jsonl"
    with server("--changes", str(log), "--fsync", option) as (base, _pid):
        assert call(base, "POST", "/_mock/clock", {"advance": "PT1H"})[0] == 200
        assert call(base, "POST", "/v1/customers", {"name": "Durable"})[0] == 200
    assert len(log.read_bytes().splitlines()) == 2
