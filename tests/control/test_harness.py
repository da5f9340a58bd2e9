"""The test harness end to end, through the pytest plugin's `mockserver` fixture: the official
SDKs against scripted faults, and what the journal shows of it."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import httpx
import metronome
import pytest
from meteroid.errors import APIConnectionError as MeteroidConnectionError

from mockserver.testing.plugin import MockServer, MockServerError
from tests.support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")

ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
INVOICES = f"/v1/customers/{ACME}/invoices"


def test_the_metronome_sdk_retries_two_429s_and_the_journal_shows_three_requests(mockserver) -> None:
    mockserver.add_faults(
        {
            "match": {"method": "GET", "path": "/v1/customers/*/invoices"},
            "respond": {"status": 429, "headers": {"retry-after-ms": "10"}},
            "times": 2,
        }
    )
    page = mockserver.metronome().v1.customers.invoices.list(customer_id=ACME, limit=1)
    assert len(page.data) == 1
    seen = mockserver.requests()
    assert [(r["status"], r["fault"]) for r in seen] == [(429, "answered"), (429, "answered"), (200, None)]
    assert {r["operation"] for r in seen} == {"metronome.listInvoices"}
    assert seen[0]["error"] == "scripted fault: rule 0"
    assert [rule["fired"] for rule in mockserver.faults()] == [2]


def test_the_meteroid_sdk_retries_two_503s_honouring_retry_after(mockserver) -> None:
    # Its retry honours `retry-after-ms` and `retry-after` (seconds or an HTTP date).
    mockserver.add_faults(
        {
            "match": {"api": "meteroid", "operation": "getCustomer"},
            "respond": {"status": 503, "headers": {"retry-after": "0.01"}},
            "times": 2,
        }
    )
    assert mockserver.meteroid().customers.retrieve("acme").name == "Acme Corporation"
    seen = mockserver.requests(api="meteroid")
    assert [r["status"] for r in seen] == [503, 503, 200]
    assert seen[0]["error"] == "scripted fault: rule 0"


def test_a_dropped_connection_is_the_sdks_connection_error(mockserver) -> None:
    mockserver.add_faults({"match": {"method": "GET"}, "respond": {"drop": True}})
    with pytest.raises(metronome.APIConnectionError):
        mockserver.metronome(max_retries=0).v1.customers.retrieve(customer_id=ACME)
    with pytest.raises(MeteroidConnectionError):
        mockserver.meteroid(max_retries=0).customers.retrieve("acme")
    assert [(r["status"], r["fault"]) for r in mockserver.requests()] == [(None, "dropped")] * 2


def test_a_misspelled_parameter_shows_as_ignored(mockserver) -> None:
    with httpx.Client(base_url=mockserver.base_url, headers={"Authorization": "Bearer t"}) as client:
        assert client.get(INVOICES, params={"stauts": "VOID", "limit": 1}).status_code == 200
        client.get("/v2/nothing", params={"a": 1})
    listed, unmatched = mockserver.requests()
    assert listed["ignored"] == ["stauts"]
    assert listed["query"] == {"stauts": "VOID", "limit": "1"}
    assert (unmatched["api"], unmatched["operation"], unmatched["status"]) == (None, None, 404)
    assert unmatched["ignored"] == ["a"]


def test_the_journal_is_filtered(mockserver) -> None:
    with httpx.Client(base_url=mockserver.base_url, headers={"Authorization": "Bearer t"}) as client:
        client.get(INVOICES)
        client.get(f"{INVOICES}?status=NOPE")
        client.get("/api/v1/invoices")
        client.post(INVOICES)
    assert [r["status"] for r in mockserver.requests(api="metronome")] == [200, 400, 405]
    assert [r["method"] for r in mockserver.requests(method="post")] == ["POST"]
    bad = mockserver.requests(status=400)
    assert len(bad) == 1 and "status" in bad[0]["error"]
    assert len(mockserver.requests(operation="listInvoices")) == 3  # either API's
    assert len(mockserver.requests(operation="metronome.listInvoices")) == 2
    assert len(mockserver.requests(path="/api/**")) == 1
    first = mockserver.requests()[0]["seq"]
    assert [r["seq"] for r in mockserver.requests(since=first + 1, limit=1)] == [first + 3]
    with pytest.raises(MockServerError, match="since: expected an integer"):
        mockserver.requests(since="x")


def test_a_request_marked_journal_off_is_answered_but_not_journaled(mockserver) -> None:
    """As the inspector's own reads are, so that a test's journal holds only what it sent."""
    with httpx.Client(base_url=mockserver.base_url, headers={"Authorization": "Bearer t"}) as client:
        assert client.get(INVOICES, headers={"Mockserver-Journal": "off"}).status_code == 200
        client.get("/api/v1/invoices")
    assert [r["path"] for r in mockserver.requests()] == ["/api/v1/invoices"]


@pytest.mark.mockserver(args=["--journal-size", "5"])
def test_the_journal_keeps_no_more_than_its_bound_and_never_the_token(mockserver) -> None:
    token = "very-secret-token-1234"
    with httpx.Client(base_url=mockserver.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(8):
            client.get(INVOICES, params={"limit": 1})
    with urllib.request.urlopen(f"{mockserver.base_url}/_mock/requests?limit=100") as response:
        raw = response.read().decode()
    journal = json.loads(raw)
    assert journal["size"] == 5
    assert [r["seq"] for r in journal["requests"]] == [4, 5, 6, 7, 8]
    assert token not in raw and "secret" not in raw
    assert {r["token"] for r in journal["requests"]} == {hashlib.sha256(token.encode()).hexdigest()[:8]}


@pytest.mark.parametrize(
    ("rule", "named"),
    [
        ({"respond": {"status": 500}, "retries": 1}, "retries: unknown key"),
        ({"respond": {"status": 700}}, "respond.status: expected an integer from 100 to 599, got 700"),
        ({"match": {"path": "/v1/[ab"}, "respond": {"status": 500}}, r"match.path: unclosed '\['"),
        ({"match": {"path": "v1/*"}, "respond": {"status": 500}}, "match.path: a path glob starts with '/'"),
        ([{"respond": {"drop": True}}, {"respond": {}}], r"\[1\].respond: give a status"),
        ({"respond": {"drop": True, "status": 500}}, "respond.drop: a dropped connection has no status"),
        ({"respond": {"status": 500}, "probability": 2}, "probability: expected a number from 0 to 1"),
    ],
)
def test_a_bad_rule_is_refused_naming_what_is_wrong(mockserver, rule, named) -> None:
    with pytest.raises(MockServerError, match=f"400 .*{named}"):
        mockserver.add_faults(rule)
    assert mockserver.faults() == []


def _statuses(server: MockServer, count: int) -> list[int]:
    with httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer t"}) as client:
        return [client.get(INVOICES, params={"limit": 1}).status_code for _ in range(count)]


# Past the first match, every second one, twice; and a seeded coin for the rest.
COUNTED_RULES = [
    {"match": {"query": {"limit": "1"}}, "respond": {"status": 502}, "after": 1, "nth": 2, "times": 2},
    {"respond": {"status": 500}, "probability": 0.5, "seed": 7},
]


def test_counters_and_draws_are_deterministic(mockserver) -> None:
    mockserver.add_faults(COUNTED_RULES)
    first = _statuses(mockserver, 12)
    # Past the first, every second: the 3rd and the 5th, then `times` is spent.
    assert [index for index, status in enumerate(first) if status == 502] == [2, 4]
    assert 0 < first.count(500) < 10
    mockserver.reset()  # fresh counters, the same seeds: the same run
    assert mockserver.faults() == []  # the rules were not the fixture's
    mockserver.add_faults(COUNTED_RULES)
    assert _statuses(mockserver, 12) == first


def test_a_delay_alone_lets_the_route_answer_and_a_body_replaces_the_error(mockserver) -> None:
    mockserver.add_faults(
        [
            {"match": {"operation": "metronome.getCustomer"}, "respond": {"delay_ms": 50}},
            {"match": {"method": "GET", "api": "meteroid"}, "respond": {"status": 418, "body": {"x": 1}}},
        ]
    )
    with httpx.Client(base_url=mockserver.base_url, headers={"Authorization": "Bearer t"}) as client:
        assert client.get(f"/v1/customers/{ACME}").status_code == 200
        teapot = client.get("/api/v1/invoices")
    assert (teapot.status_code, teapot.json()) == (418, {"x": 1})
    delayed, answered = mockserver.requests()
    assert delayed["fault"] == "delayed" and delayed["duration_ms"] >= 50
    assert answered["fault"] == "answered"


def test_the_fixtures_rules_come_back_on_reset(mockserver, tmp_path: Path) -> None:
    fixture = tmp_path / "faulty.yaml"
    fixture.write_text(
        "seed: 1\ngenerate: {customers: 2}\n"
        "faults:\n  - {match: {api: meteroid}, respond: {status: 500}, times: 1}\n"
    )
    from mockserver.testing.server import running_server

    with running_server(fixture) as base:
        server = MockServer(base)
        server.clear_faults()
        assert server.faults() == []
        server.reset()
        assert [rule["times"] for rule in server.faults()] == [1]
        assert _meteroid_statuses(base) == [500, 200]


def _meteroid_statuses(base: str) -> list[int]:
    with httpx.Client(base_url=base, headers={"Authorization": "Bearer t"}) as client:
        return [client.get("/api/v1/invoices").status_code for _ in range(2)]


@pytest.mark.parametrize("path", ["clock", "/clock", "_mock/clock", "/_mock/clock"])
def test_control_takes_a_route_with_or_without_its_prefix(mockserver, path: str) -> None:
    assert mockserver.control("GET", path)["now"] == "2026-11-15T12:00:00Z"


def test_control_reads_the_log_of_changes_as_a_list_of_changes(mockserver) -> None:
    before = mockserver.control("GET", "changes")
    mockserver.advance("P1M")
    after = mockserver.control("GET", "/_mock/changes")
    assert after[: len(before)] == before
    (change,) = after[len(before) :]
    assert (change["kind"], change["to"]) == ("clock", "2026-12-15T12:00:00Z")


def test_control_names_the_whole_route_it_was_refused(mockserver) -> None:
    with pytest.raises(MockServerError, match=r"^POST /_mock/clock: 400 "):
        mockserver.control("POST", "clock", {"advance": "soon"})


def test_the_plugin_and_the_readmes_example_work_in_another_pytest_run(tmp_path: Path) -> None:
    (example,) = [
        block for block in re.findall(r"```python\n(.*?)```", README, re.S) if "(mockserver)" in block
    ]
    (tmp_path / "test_readme_example.py").write_text(example)
    (tmp_path / "test_example.py").write_text(
        textwrap.dedent(
            """
            import metronome
            import pytest

            def test_first_sees_a_fresh_world(mockserver):
                assert mockserver.requests() == []
                mockserver.advance("P1M")
                mockserver.add_faults({"respond": {"status": 500}})
                client = mockserver.metronome(max_retries=0)
                with pytest.raises(metronome.InternalServerError):
                    client.v1.customers.list()
                assert len(mockserver.requests()) == 1

            def test_second_sees_a_fresh_world_too(mockserver):
                assert mockserver.requests() == [] and mockserver.faults() == []
                assert mockserver.now() == "2026-11-15T12:00:00Z"
                assert mockserver.meteroid().customers.retrieve("acme").name == "Acme Corporation"

            @pytest.mark.mockserver(dialect="upstream")
            def test_a_marker_picks_another_server(mockserver):
                assert mockserver.control("GET", "health")["dialect"] == "upstream"

            TOKENS = []

            @pytest.mark.mockserver(isolation="token")
            @pytest.mark.parametrize("turn", [1, 2])
            def test_isolated_tests_each_get_a_world_of_their_own(mockserver, turn):
                assert mockserver.control("GET", "health")["isolation"] == "token"
                assert mockserver.now() == "2026-11-15T12:00:00Z" and mockserver.requests() == []
                mockserver.advance("P1D")
                mockserver.metronome().v1.customers.list()
                assert len(mockserver.requests()) == 1
                TOKENS.append(mockserver.token)
                assert len(set(TOKENS)) == turn
            """
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "8 passed" in run.stdout


@pytest.mark.mockserver(control_token="s3cret")
def test_the_plugin_locks_its_server_and_its_control_calls_unlock_it(mockserver) -> None:
    mockserver.advance("P1D")  # the fixture's reset and journal clearing went through too
    assert mockserver.now() == "2026-11-16T12:00:00Z"
    with pytest.raises(MockServerError, match=r"401 .*Mock-Control-Token"):
        MockServer(mockserver.base_url).advance("P1D")  # the same server, without the token


@pytest.mark.mockserver(isolation="token", args=["--control-token=from-args"])
def test_the_plugin_sends_the_control_token_its_server_was_given_in_args(mockserver) -> None:
    assert mockserver.control_token == "from-args"
    assert mockserver.add_faults({"respond": {"status": 500}})["rules"]
    with pytest.raises(MockServerError, match="401 "):
        MockServer(mockserver.base_url, mockserver.token).clear_faults()


def test_a_server_that_writes_much_to_its_standard_error_keeps_answering(tmp_path: Path, monkeypatch) -> None:
    """The harness reads nothing of the server's standard error while the tests run, so it must
    not leave it in a pipe: past the pipe's 64 KiB, the server would stop at its next line."""
    from mockserver.testing.server import running_server

    monkeypatch.setenv("PYTHONVERBOSE", "1")  # a line per module imported, and more on the way out
    errors = tmp_path / "stderr"
    with errors.open("wb") as stream, running_server(stderr=stream) as base:
        for _ in range(3):
            with urllib.request.urlopen(f"{base}/_mock/health", timeout=10) as answer:
                assert answer.status == 200
    assert errors.stat().st_size > 1 << 17


def test_a_server_that_falls_silent_before_its_line_fails_at_the_timeout() -> None:
    """A server that stops printing without the awaited line fails the start at the timeout,
    rather than holding the test run until its own limit."""
    from mockserver.testing.server import running_server

    started = time.monotonic()
    with (
        pytest.raises(RuntimeError, match="did not print 'never' within 3 s"),
        running_server(wait_for="never ", timeout=3),
    ):
        pass
    assert time.monotonic() - started < 10
