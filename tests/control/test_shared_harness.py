"""The harness is the world's: with `--workers 2` a `times: 1` rule answers once in all, every
worker lists the same counts, and the journal lists what every worker served."""

from __future__ import annotations

import orjson
import pytest

from mockserver.control.tally import FileTally
from tests.replicas.test_replicas import call, journal
from tests.shell.test_server import LINUX, server_process

RULE = {"match": {"api": "meteroid"}, "respond": {"status": 500}, "times": 1, "after": 2}


@pytest.mark.skipif(not LINUX, reason="workers share a port through SO_REUSEPORT on Linux")
def test_a_rule_counts_the_requests_of_every_worker() -> None:
    with server_process("--workers", "2") as (_process, base):
        assert call(base, "/_mock/faults", RULE)[0] == 200
        statuses = [call(base, "/api/v1/invoices?per_page=1")[0] for _ in range(10)]
        assert statuses == [200, 200, 500] + [200] * 7
        for _ in range(4):  # whichever worker answers
            assert call(base, "/_mock/faults")[1].count(b'"matched":10,') == 1
            assert b'"fired":1' in call(base, "/_mock/faults")[1]
        assert call(base, "/_mock/reset", {})[0] == 200  # the fixture's rules, counted afresh
        assert call(base, "/_mock/faults", RULE)[0] == 200
        assert [call(base, "/api/v1/invoices?per_page=1")[0] for _ in range(4)] == [200, 200, 500, 200]


async def test_a_file_tally_gives_out_times_once_and_counts_from_zero_for_new_rules(tmp_path) -> None:
    one, other = FileTally(tmp_path / "faults"), FileTally(tmp_path / "faults")  # two processes
    assert await one.match(3, 0) == (1, 0) and await other.match(3, 0) == (2, 0)
    assert await one.fire(3, 0, times=1) and not await other.fire(3, 0, times=1)
    assert await other.counts(3, 2) == [(2, 1), (0, 0)]
    assert await other.match(2, 0) is None  # a process behind the rules counts nothing
    assert await other.match(4, 1) == (1, 0) and await one.counts(4, 2) == [(0, 0), (1, 0)]


@pytest.mark.skipif(not LINUX, reason="workers share a port through SO_REUSEPORT on Linux")
def test_the_journal_lists_and_clears_the_requests_of_every_worker() -> None:
    with server_process("--workers", "2") as (_process, base):
        for index in range(1, 11):
            assert call(base, f"/v1/customers?limit={index}")[0] == 200
        for _ in range(4):  # whichever worker answers
            assert sorted(journal(base)) == sorted(f"/v1/customers?limit={index}" for index in range(1, 11))
        status, body = call(base, "/_mock/requests", method="DELETE")
        assert status == 200 and orjson.loads(body) == {"cleared": 10}
        assert call(base, "/v1/customers?limit=11")[0] == 200
        for _ in range(4):
            assert journal(base) == ["/v1/customers?limit=11"]
