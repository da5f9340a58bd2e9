"""`mockserver serve --workers N`: one world from several processes on one port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
def server_process(*extra: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`mockserver serve` with its process at hand; killed with everything it forked at the end."""
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet", *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
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
