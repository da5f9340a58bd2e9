"""Two server processes on one fixture file answer alike: a cursor issued by one continues the
walk on the other, and every page is byte for byte the same. A process serving another seed
refuses the cursor. Process starts are costly, so these run few examples."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.properties import oracle
from tests.properties import strategies as S
from tests.properties.harness import (
    METEROID_INVOICES,
    TOKEN,
    Reply,
    encode,
    meteroid_walk,
    metronome_path,
)
from tests.support import running_server

FIXTURE = """\
seed: 11
now: 2026-03-01T00:00:00Z
generate: {customers: 3, archived_share: 0.3}
invoices:
  months: 3
  contracts: 2
  void_share: 0.2
  status_mix: {finalized: 2, uncollectible: 1}
  zero_qty_share: 0.5
customers:
  - id: 0c0ffee0-0000-4000-8000-000000000001
    name: Twin Ltd
    aliases: [twin, twin-two]
    currency: USD
    contracts:
      - {id: 0c0ffee0-0000-4000-8000-0000000000c1, name: Main}
      - {id: 0c0ffee0-0000-4000-8000-0000000000c2, name: Extra}
    invoices:
      pinned:
        - {status: finalized, type: one_off, period_start: 2026-01-01, period_end: 2026-02-01,
           issued_at: 2026-02-01, currency: EUR,
           line_items: [{name: Seats, quantity: 0, unit_price: 10},
                        {name: Hours, quantity: 3, unit_price: 99}]}
        - {status: void, type: adjustment, period_start: 2026-01-01, period_end: 2026-02-01,
           issued_at: 2026-02-01}
        - {status: uncollectible, type: usage_threshold, period_start: 2026-01-01, period_end: 2026-02-01,
           issued_at: 2026-02-01, contract_id: 0c0ffee0-0000-4000-8000-0000000000c2}
        - {status: draft, type: scheduled, period_start: 2026-03-01, period_end: 2026-04-01}
  - name: Twin Ltd
    alias: other-twin
    currency: GBP
    archived: true
"""
PINNED = "0c0ffee0-0000-4000-8000-000000000001"
EXAMPLES = max(3, settings.default.max_examples // 10)


class Remote:
    """A real server process, asked the way `harness.Api` asks a test server."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, query: list[tuple[str, str]] | str | None = None) -> Reply:
        raw = encode(query) if isinstance(query, list) else (query or "")
        request = urllib.request.Request(
            f"{self.base}{path}?{raw}" if raw else f"{self.base}{path}",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.headers.get_content_type(), response.read())
        except urllib.error.HTTPError as refused:
            return Reply(refused.code, refused.headers.get_content_type(), refused.read())


@pytest.fixture(scope="module")
def processes(tmp_path_factory) -> Iterator[tuple[Remote, Remote, Remote]]:
    folder: Path = tmp_path_factory.mktemp("cross-process")
    same, other = folder / "world.yaml", folder / "other-seed.yaml"
    same.write_text(FIXTURE, encoding="utf-8")
    other.write_text(FIXTURE.replace("seed: 11", "seed: 12"), encoding="utf-8")
    with running_server(same) as first, running_server(same) as second, running_server(other) as third:
        yield Remote(first), Remote(second), Remote(third)


@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_a_cursor_issued_by_one_process_works_on_another(processes, data) -> None:
    first, second, other_seed = processes
    world = S.world_of(FIXTURE)
    customer = data.draw(
        st.sampled_from([c.id for c in world.customers[:1]] * 3 + [c.id for c in world.customers])
    )
    request = data.draw(S.metronome_requests(world, customer), label="request")
    limit = data.draw(st.integers(1, 3), label="limit")
    walked: list[str] = []
    cursor = None
    for page in range(len(world) + 1):
        query = [*request.pairs, ("limit", str(limit))] + ([] if cursor is None else [("next_page", cursor)])
        here, there = (
            (first, second)
            if data.draw(st.booleans(), label=f"page {page} from the first")
            else (second, first)
        )
        reply = here.get(metronome_path(customer), query)
        assert reply.status == 200, reply
        assert there.get(metronome_path(customer), query).body == reply.body
        if cursor is not None:
            # Another seed: the cursor is refused, or the customer (ids derived from the seed) is unknown.
            refused = other_seed.get(metronome_path(customer), query)
            assert refused.status == (400 if customer == PINNED else 404), refused
            assert list(refused.json) == ["message"], refused
        walked += [item["id"] for item in reply.json["data"]]
        cursor = reply.json["next_page"]
        if cursor is None:
            break
    assert walked == oracle.metronome_invoices(world, customer, request.want, "date_asc")


@settings(max_examples=EXAMPLES)
@given(order_by=S.order_bys, per_page=st.integers(1, 100))
def test_processes_on_one_fixture_answer_byte_for_byte_alike(processes, order_by, per_page) -> None:
    first, second, other_seed = processes
    pairs = [] if order_by is None else [("order_by", order_by)]
    mine = meteroid_walk(first, pairs, per_page)
    assert meteroid_walk(second, pairs, per_page).bodies == mine.bodies
    assert meteroid_walk(other_seed, pairs, per_page).bodies != mine.bodies
    world = S.world_of(FIXTURE)
    want = oracle.meteroid_invoices(world, "documented", oracle.MeteroidFilters(order_by=order_by))
    assert [oracle.meteroid_id("inv_", uid) for uid in want] == mine.ids
    for uid in want[:3]:
        path = f"{METEROID_INVOICES}/{oracle.meteroid_id('inv_', uid)}"
        assert first.get(path).body == second.get(path).body
        assert orjson.loads(first.get(path).body)["id"] == oracle.meteroid_id("inv_", uid)


WRITES = """\
seed: 5
now: 2026-03-10T08:00:00Z
generate: {customers: 2}
invoices: {months: 3, contracts: 2, void_share: 0}
metrics:
  - {code: api_request, name: Requests, price: 0.01}
  - {code: api_request, name: Users, aggregation: unique, property: user, price: 2}
customers:
  - {id: 0c0ffee0-0000-4000-8000-0000000000d1, name: Writer Ltd, alias: writer, currency: EUR}
"""
WRITER = "0c0ffee0-0000-4000-8000-0000000000d1"


class Writer(Remote):
    def send(self, method: str, path: str, body: object = None) -> Reply:
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=None if body is None else orjson.dumps(body),
            method=method,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.headers.get_content_type(), response.read())
        except urllib.error.HTTPError as refused:
            return Reply(refused.code, refused.headers.get_content_type(), refused.read())


def test_an_exported_log_with_writes_replays_to_the_same_bytes(tmp_path) -> None:
    fixture = tmp_path / "writes.yaml"
    fixture.write_text(WRITES, encoding="utf-8")
    with running_server(fixture) as base:
        first = Writer(base)
        usage = [
            {
                "transaction_id": f"t{i}",
                "customer_id": "writer",
                "event_type": "api_request",
                "timestamp": "2026-03-10T07:00:00Z",
                "properties": {"user": f"u{i % 3}"},
            }
            for i in range(20)
        ]
        assert first.send("POST", "/v1/ingest", usage).status == 200
        events = {"events": [{"event_id": "e1", "code": "api_request", "customer_id": "writer"}]}
        assert first.send("POST", "/api/v1/events/ingest", events).status == 200
        finalized = next(
            i["id"] for i in first.get(metronome_path(WRITER), [("status", "FINALIZED")]).json["data"]
        )
        assert first.send("POST", "/v1/invoices/void", {"id": finalized}).status == 200
        regenerated = first.send("POST", "/v1/invoices/regenerate", {"id": finalized}).json["data"]["id"]
        created = first.send("POST", "/v1/customers", {"name": "Made Here", "ingest_aliases": ["made"]})
        assert created.status == 200
        assert first.send("PATCH", "/api/v1/customers/made", {"name": "Renamed Here"}).status == 200
        assert first.send("POST", "/_mock/clock", {"advance": "P1M"}).status == 200
        assert (
            first.send(
                "POST",
                "/v1/ingest",
                [{**usage[0], "transaction_id": "late", "timestamp": "2026-04-10T07:00:00Z"}],
            ).status
            == 200
        )
        pending = [{**usage[0], "transaction_id": "early", "customer_id": "writer-eu"}]
        assert first.send("POST", "/v1/ingest", pending).status == 200  # kept: no customer has it yet
        aliases = {"ingest_aliases": ["writer", "writer-eu"]}
        assert first.send("POST", f"/v1/customers/{WRITER}/setIngestAliases", aliases).status == 200
        assert first.send("POST", "/v1/customers/archive", {"id": WRITER}).status == 200
        assert first.send("DELETE", "/api/v1/customers/made").status == 204
        log = first.get("/_mock/changes").body
        paths = [
            metronome_path(WRITER),
            f"{metronome_path(WRITER)}/{regenerated}",
            "/v1/customers?only_archived=true",
            "/v1/customers",
            f"{METEROID_INVOICES}?per_page=100&order_by=customer_name.desc",
            "/api/v1/customers?per_page=100",
            "/api/v1/customers/made",
            "/_mock/clock",
        ]
        answers = [first.get(path).body for path in paths]
        health = without_pid(first.get("/_mock/health").body)
    assert len(log.splitlines()) == 12
    replayed = tmp_path / "changes.jsonl"
    replayed.write_bytes(log)
    with running_server(fixture, "--changes", str(replayed)) as base:
        second = Writer(base)
        assert [second.get(path).body for path in paths] == answers
        assert without_pid(second.get("/_mock/health").body) == health  # all but who answered
        assert second.get("/_mock/changes").body == log


def without_pid(health: bytes) -> dict:
    document = json.loads(health)
    assert document.pop("pid") > 0
    return document
