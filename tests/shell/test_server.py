"""`mockserver serve --workers N`: one world from several processes on one port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path

import pytest

from mockserver.world.state import World
from tests.support import TOKEN, running_server

UMBRELLA = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"  # several hundred invoices in the default world
LINUX = sys.platform.startswith("linux")


def get(base: str, path: str, **query: str | int) -> dict:
    """One request on a connection of its own, so that successive requests reach any worker."""
    url = f"{base}{path}?{urllib.parse.urlencode(query)}" if query else f"{base}{path}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}", "Connection": "close"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def walk(base: str, customer: str, limit: int) -> tuple[list[dict], list[str]]:
    """Every invoice of a customer's Metronome list, page by page; and the cursors used."""
    invoices, cursors, cursor = [], [], None
    while True:
        query = {"limit": limit} | ({"next_page": cursor} if cursor else {})
        page = get(base, f"/v1/customers/{customer}/invoices", **query)
        invoices += page["data"]
        cursor = page["next_page"]
        if cursor is None:
            return invoices, cursors
        cursors.append(cursor)


def expected_ids(world: World, customer: str) -> list[str]:
    """The customer's invoices by (issued_at, id): the default `date_asc` order."""
    cols, ordinal = world.cols, world.customer_by_id[customer]
    mine = [i for i in range(len(world)) if cols.customer[i] == ordinal]
    return [cols.ids[i] for i in sorted(mine, key=lambda i: (cols.issued_at[i], cols.ids[i]))]


def test_two_workers_walk_a_customer_once_in_order(default_world: World) -> None:
    with running_server(None, "--workers", "2") as base:
        invoices, cursors = walk(base, UMBRELLA, limit=7)
    ids = [invoice["id"] for invoice in invoices]
    assert len(cursors) > 30  # many requests, each on a new connection: both workers answer
    assert len(ids) == len(set(ids))
    assert ids == expected_ids(default_world, UMBRELLA)


def test_a_cursor_from_one_process_continues_on_another() -> None:
    with running_server(None, "--workers", "2") as first, running_server() as second:
        page = get(first, f"/v1/customers/{UMBRELLA}/invoices", limit=7)
        following = get(second, f"/v1/customers/{UMBRELLA}/invoices", limit=7, next_page=page["next_page"])
        again = get(first, f"/v1/customers/{UMBRELLA}/invoices", limit=7, next_page=page["next_page"])
    assert following == again
    assert {i["id"] for i in following["data"]}.isdisjoint(i["id"] for i in page["data"])


def test_the_meteroid_api_is_served_by_every_worker_alike() -> None:
    with running_server(None, "--workers", "2") as base:
        pages = [get(base, "/api/v1/invoices", per_page=25, page=1) for _ in range(12)]
    assert all(page == pages[0] for page in pages)


# --- process lifecycle (Linux: worker processes are found through /proc) ---------------------


def children(pid: int) -> set[int]:
    found: set[int] = set()
    with suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.update(int(child) for child in (task / "children").read_text().split())
    return found


def command_line(pid: int) -> bytes:
    with suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    return b""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@contextmanager
def server_process(*extra: str, log: Path | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """`mockserver serve` with its process at hand; killed with everything it forked at the end.
    With `log`, its access log is on and its stderr goes to that file."""
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", *extra]
    command += [] if log else ["--quiet"]
    with log.open("wb") if log else nullcontext(subprocess.DEVNULL) as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
    workers: set[int] = set()
    ours = "\0".join(command).encode()
    try:
        line = process.stdout.readline()
        while line and not line.startswith("ready "):
            line = process.stdout.readline()
        assert line, "the server did not announce itself"
        workers = children(process.pid)
        yield process, line.split()[1]
    finally:
        # Only processes still running this very command: a finished worker's id may be reused.
        for pid in workers | children(process.pid):
            if alive(pid) and command_line(pid).startswith(ours):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()


@pytest.mark.skipif(not LINUX, reason="reads worker processes from /proc")
def test_sigterm_stops_every_worker() -> None:
    with server_process("--workers", "2") as (process, base):
        workers = children(process.pid)
        assert len(workers) == 2
        assert get(base, "/_mock/health")["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert wait_until(lambda: not any(alive(pid) for pid in workers))


@pytest.mark.skipif(not LINUX, reason="reads worker processes from /proc")
def test_workers_stop_when_their_supervisor_is_killed() -> None:
    with server_process("--workers", "2") as (process, _base):
        workers = children(process.pid)
        process.kill()
        process.wait(timeout=10)
        assert wait_until(lambda: not any(alive(pid) for pid in workers))


@pytest.mark.skipif(not LINUX, reason="reads worker processes from /proc")
def test_a_worker_that_dies_is_replaced() -> None:
    with server_process("--workers", "2") as (process, base):
        workers = children(process.pid)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        assert wait_until(lambda: len(children(process.pid) - {victim}) == 2)
        for _ in range(10):
            assert get(base, "/_mock/health")["status"] == "ok"


# --- one server per port, and the port bound before the world is loaded -----------------------

OTHER_WORLD = "name: other\nseed: 1\ngenerate:\n  customers: 2\n"
LARGE_WORLD = "name: large\nseed: 11\ngenerate:\n  customers: 2000\ninvoices:\n  months: 24\n"


def test_a_second_server_on_a_served_port_fails_at_once_in_one_line(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(OTHER_WORLD)
    with running_server(None, "--workers", "2") as base:
        port = urllib.parse.urlsplit(base).port
        command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--workers", "2"]
        started = time.monotonic()
        second = subprocess.run(
            [*command, "--fixtures", str(other)], capture_output=True, text=True, timeout=60
        )
        elapsed = time.monotonic() - started
        answers = [get(base, "/_mock/health")["fixture"] for _ in range(12)]
    assert second.returncode == 2 and elapsed < 5
    assert second.stderr == (
        f"mockserver: port {port} on 127.0.0.1 is already in use; stop the other server or pick "
        "another port (--port 0 picks a free one)\n"
    )
    assert "ready" not in second.stdout
    assert answers == ["default"] * 12  # every connection reached the first server


def fetch(base: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body, error statuses included."""
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def poll_health(base: str, seen: list[int | str]) -> None:
    """Poll on a new connection each time until 200, noting every status or connection error."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            status: int | str = fetch(base, "/_mock/health")[0]
        except OSError as error:  # refused, reset, or timed out
            status = type(error).__name__
        seen.append(status)
        if status == 200:
            return


def test_while_a_large_world_loads_health_and_the_apis_answer_503(tmp_path: Path) -> None:
    """From the moment the port is bound every request gets an answer: 503 while loading, then
    the loaded world's, with none refused or cut when one gives way to the other."""
    fixture = tmp_path / "large.yaml"
    fixture.write_text(LARGE_WORLD)
    seen: list[int | str] = []
    with running_server(fixture, wait_for="listening ") as base:
        pollers = [threading.Thread(target=poll_health, args=(base, seen)) for _ in range(3)]
        for poller in pollers:
            poller.start()
        loading = fetch(base, "/_mock/health")
        metronome = fetch(base, f"/v1/customers/{UMBRELLA}/invoices")
        meteroid = fetch(base, "/api/v1/invoices")
        for poller in pollers:
            poller.join()
        loaded = fetch(base, "/api/v1/invoices?per_page=1")
    status, headers, body = loading
    assert status == 503 and headers["Retry-After"] == "1"
    health = json.loads(body)
    assert health["status"] == "loading" and health["fixture"] == "large"
    assert set(health["progress"]) == {"done", "total", "unit"}
    status, headers, body = metronome
    assert status == 503 and headers["Retry-After"] == "1"
    error = json.loads(body)
    assert set(error) == {"message"} and "loading" in error["message"]
    status, headers, body = meteroid
    assert status == 503 and headers["Retry-After"] == "1"
    error = json.loads(body)
    assert error["code"] == "INTERNAL_SERVER_ERROR" and "loading" in error["message"]
    assert set(seen) == {503, 200} and seen.count(200) == 3
    assert loaded[0] == 200 and len(json.loads(loaded[2])["data"]) == 1


# --- the access log -----------------------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_serve_logs_every_request_and_the_message_of_a_400(tmp_path: Path, log_format: str) -> None:
    log = tmp_path / "stderr"
    with server_process("--log-format", log_format, log=log) as (process, base):
        fetch(base, "/api/v1/invoices?per_page=1")
        fetch(base, "/api/v1/invoices?page=-1")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    message = "Failed to deserialize query string: invalid digit found in string"
    if log_format == "json":
        ok, refused = map(json.loads, lines)
        assert (ok["status"], ok["operation"]) == (200, "meteroid.listInvoices")
        assert refused["target"] == "/api/v1/invoices?page=-1"
        assert (refused["status"], refused["message"]) == (400, message)
    else:
        assert " /api/v1/invoices?per_page=1 200 " in lines[0]
        assert " /api/v1/invoices?page=-1 400 " in lines[1]
        assert lines[1].endswith(f'meteroid.listInvoices "{message}"')
