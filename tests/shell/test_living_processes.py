"""Changes across processes: workers of one server see each other's changes on the next
request, and a log exported from one server replays byte for byte in another."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import orjson
import pytest

from mockserver.testing.plugin import MockServer, MockServerError
from tests.shell.test_server import LINUX, server_process

AUTH = {"Authorization": "Bearer dev-token"}
UMBRELLA = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
READS = (
    f"/v1/customers/{UMBRELLA}/invoices?limit=100&status=DRAFT",
    f"/v1/customers/{UMBRELLA}/invoices?limit=7&sort=date_desc",
    "/api/v1/invoices?per_page=100&order_by=amount.desc",
    "/api/v1/invoices?per_page=50&statuses=Draft&statuses=Finalized&page=2",
    "/api/v1/invoices?per_page=100&order_by=created_at.desc",
    "/_mock/clock",
)


def fetch(base: str, path: str, body: object = None, auth: dict[str, str] = AUTH) -> bytes:
    """One request on a connection of its own, so that the kernel may pick any worker."""
    data = None if body is None else orjson.dumps(body)
    headers = {**auth, **({} if body is None else {"Content-Type": "application/json"})}
    request = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


@pytest.mark.skipif(not LINUX, reason="workers share a port through SO_REUSEPORT on Linux")
def test_every_worker_sees_a_change_on_the_next_request() -> None:
    with server_process("--workers", "2") as (_process, base):
        for step in range(1, 6):
            answer = orjson.loads(fetch(base, "/_mock/clock", {"advance": "P1D"}))
            assert answer["seq"] == step
            for _ in range(8):
                assert orjson.loads(fetch(base, "/_mock/clock")) == {"now": answer["now"], "seq": step}
        exported = fetch(base, "/_mock/changes").splitlines()
        assert [orjson.loads(line)["seq"] for line in exported] == [1, 2, 3, 4, 5]


def test_an_exported_log_replays_byte_for_byte_in_another_process(tmp_path: Path) -> None:
    changes = [{"advance": "P1M"}, {"advance": "PT7H"}, None, {"to": "2027-02-10T00:00:00Z"}]
    with server_process() as (_first, base):
        for change in changes:
            if change is None:
                fetch(base, "/_mock/reset", {})
            else:
                fetch(base, "/_mock/clock", change)
        log = fetch(base, "/_mock/changes")
        answers = [fetch(base, path) for path in READS]
        next_answer = fetch(base, "/_mock/clock", {"advance": "P1D"})
        after = [fetch(base, path) for path in READS]
    path = tmp_path / "changes.jsonl"
    path.write_bytes(log)
    with server_process("--changes", str(path)) as (_second, base):
        assert fetch(base, "/_mock/changes") == log
        assert [fetch(base, p) for p in READS] == answers
        assert fetch(base, "/_mock/clock", {"advance": "P1D"}) == next_answer
        assert [fetch(base, p) for p in READS] == after
    assert len(path.read_bytes().splitlines()) == len(changes) + 1  # the new change was appended


def test_a_log_that_cannot_be_replayed_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "changes.jsonl"
    path.write_text(
        '{"kind":"clock","seq":1,"to":"2027-01-01T00:00:00Z"}\n{"kind":"clock","seq":2,"to":"2020-01-01T00:00:00Z"}\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--changes", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "change 2" in result.stderr and "only moves forward" in result.stderr


@pytest.mark.skipif(not LINUX, reason="workers share a port through SO_REUSEPORT on Linux")
def test_every_worker_serves_a_fixture_put_on_the_next_request() -> None:
    """Put through the pytest plugin's `control()` (JSON), read back on fresh connections: the
    kernel spreads them over both workers, and each answers from the new world at once."""
    small = {"name": "small", "seed": 7, "now": "2026-03-01T00:00:00Z", "generate": {"customers": 3}}
    with server_process("--workers", "2") as (_process, base):
        default_list = fetch(base, READS[2])
        fetch(base, "/_mock/clock", {"advance": "P1D"})
        server = MockServer(base)
        health = server.control("PUT", "fixture", small)
        assert health["fixture"] == "small" and health["seq"] == 2
        new_list = fetch(base, READS[2])
        pids = set()
        for _ in range(24):
            answer = orjson.loads(fetch(base, "/_mock/health"))
            pids.add(answer.pop("pid"))
            assert answer == {key: value for key, value in health.items() if key != "pid"}
            assert fetch(base, READS[2]) == new_list != default_list
        assert len(pids) == 2  # both workers answered
        with pytest.raises(MockServerError, match=r"400.*isolation: differs"):
            server.control("PUT", "/_mock/fixture", {**small, "isolation": "token"})
        assert server.control("GET", "clock") == {"now": "2026-03-01T00:00:00Z", "seq": 2}
        exported = server.control("GET", "changes")
        assert [change["kind"] for change in exported] == ["clock", "fixture"]
