"""A living world: random clock advances and resets interleaved with page walks of both APIs,
checked against an oracle that applies the same changes to plain data; Metronome cursors taken
before a change are walked after it."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from mockserver.world.ids import from_base62_id
from tests.properties import oracle
from tests.properties import strategies as S
from tests.properties.harness import Api, encode, meteroid_walk, metronome_path, metronome_walk
from tests.properties.living_oracle import PlainWorld, parse_z, z

METRONOME_STATUS = {"draft": "DRAFT", "finalized": "FINALIZED", "uncollectible": "FINALIZED", "void": "VOID"}
DURATIONS = ("PT1H", "P1D", "P10D", "P1M", "P2M", "P1Y")
ORDER_COLUMNS = ("created_at", "invoice_number", "amount", "invoice_date", "status", "payment_status")


def neutral_payment(name: str) -> str:
    return next(p for p in oracle.PAYMENT_STATUS_ORDER if p.replace("_", "") == name.replace("_", "").lower())


def served(api: Api, plain: PlainWorld, customers: list[str], dialect: str) -> list[dict[str, Any]]:
    """Every invoice the server holds: periods and contracts as Metronome shows them, statuses
    and sortable values as Meteroid does."""
    periods: dict[str, dict[str, Any]] = {}
    for customer in customers:
        for body in metronome_walk(api, customer, [], 100).bodies:
            for item in oracle_items(body):
                periods[item["id"]] = item
    meteroid: dict[str, dict[str, Any]] = {}
    for body in meteroid_walk(api, [], 100).bodies:
        for item in oracle_items(body):
            meteroid[from_base62_id("inv_", item["id"])] = item
    assert periods.keys() == meteroid.keys()
    found = []
    for uid, item in periods.items():
        other = meteroid[uid]
        status = oracle.METEROID_STATUS[dialect][other["status"]]
        assert METRONOME_STATUS[status] == item["status"], (item, other)
        found.append(
            {
                "id": uid,
                "customer_id": item["customer_id"],
                "contract_id": item.get("contract_id"),
                "start": parse_z(item["start_timestamp"]),
                "end": parse_z(item["end_timestamp"]),
                "status": status,
                "type": item["type"],
                "values": {
                    "issued_at": item["issued_at"],
                    "created_at": other["created_at"],
                    "invoice_number": other["invoice_number"],
                    "amount": other["total"],
                    "invoice_date": other["invoice_date"],
                    "status": oracle.STATUS_ORDER.index(status),
                    "payment_status": oracle.PAYMENT_STATUS_ORDER.index(
                        neutral_payment(other["payment_status"])
                    ),
                },
            }
        )
    return found


def oracle_items(body: bytes) -> list[dict[str, Any]]:
    return orjson.loads(body)["data"]


def metronome_expected(plain: PlainWorld, customer: str, status: str | None, descending: bool) -> list[str]:
    kept = [
        p
        for p in plain.invoices
        if p.customer == customer and (status is None or METRONOME_STATUS[p.status] == status)
    ]
    kept.sort(key=lambda p: (p.values["issued_at"], p.id), reverse=descending)
    return [p.id for p in kept]


def meteroid_expected(plain: PlainWorld, statuses: list[str], column: str, descending: bool) -> list[str]:
    kept = [p for p in plain.invoices if not statuses or p.status in statuses]
    kept.sort(key=lambda p: (p.values[column], p.id), reverse=descending)
    return [p.id for p in kept]


def check_walks(api: Api, plain: PlainWorld, draw, customers: list[str], dialect: str) -> None:
    customer = draw(st.sampled_from(customers), label="customer")
    status = draw(st.sampled_from((None, "DRAFT", "FINALIZED", "VOID")), label="status")
    descending = draw(st.booleans(), label="date_desc")
    limit = draw(st.integers(1, 7), label="limit")
    pairs = [("sort", "date_desc" if descending else "date_asc")] + (
        [] if status is None else [("status", status)]
    )
    walk = metronome_walk(api, customer, pairs, limit)
    assert walk.ids == metronome_expected(plain, customer, status, descending)

    statuses = draw(st.lists(st.sampled_from(oracle.STATUS_ORDER), max_size=3, unique=True), label="statuses")
    column = draw(st.sampled_from(ORDER_COLUMNS), label="order column")
    direction = draw(st.sampled_from(("asc", "desc")), label="direction")
    spelled = {neutral: name for name, neutral in oracle.METEROID_STATUS[dialect].items()}
    query = [("statuses", spelled[s]) for s in statuses] + [("order_by", f"{column}.{direction}")]
    per_page = draw(st.integers(1, 9), label="per_page")
    walked = [from_base62_id("inv_", i) for i in meteroid_walk(api, query, per_page).ids]
    assert walked == meteroid_expected(plain, statuses, column, direction == "desc")


def walk_across_a_change(api: Api, plain: PlainWorld, draw, customers: list[str], duration: str) -> None:
    """A cursor taken before an advance continues after it: what was there before and after is
    walked once, in order, and the walk ends."""
    customer = draw(st.sampled_from(customers), label="walked customer")
    descending = draw(st.booleans(), label="walk desc")
    pairs = [("sort", "date_desc" if descending else "date_asc"), ("limit", "2")]
    before = {p.id for p in plain.invoices if p.customer == customer}
    first = api.get(metronome_path(customer), encode(pairs)).json
    ids = [item["id"] for item in first["data"]]
    reply = api.post("/_mock/clock", {"advance": duration})
    assert reply.status == 200, reply
    plain.advance(parse_z(reply.json["now"]))
    cursor = first["next_page"]
    while cursor is not None:
        body = api.get(metronome_path(customer), encode([*pairs, ("next_page", cursor)])).json
        ids += [item["id"] for item in body["data"]]
        cursor = body["next_page"]
        assert len(ids) < 10_000
    assert len(ids) == len(set(ids)), "an invoice was walked twice"
    assert before <= set(ids), "an invoice present before and after the change was skipped"
    # In the walk's order: the ids it returned are sorted as the world sorts them now.
    issued = {item["id"]: item["issued_at"] for item in served_metronome(api, customer)}
    keys = [(issued[i], i) for i in ids]
    assert keys == sorted(keys, reverse=descending)


def served_metronome(api: Api, customer: str) -> list[dict[str, Any]]:
    found = []
    for body in metronome_walk(api, customer, [], 100).bodies:
        found += oracle_items(body)
    return found


@given(data=st.data())
def test_changes_interleaved_with_walks_match_the_oracle(servers, data) -> None:
    case = data.draw(S.worlds(), label="world")
    world = S.build_world(case.text)  # a world of its own: the test changes it
    api = servers.start(world)
    try:
        plain = PlainWorld(world)
        customers = [c.id for c in world.customers]
        for _ in range(data.draw(st.integers(1, 4), label="steps")):
            action = data.draw(
                st.sampled_from(("advance", "advance", "reset", "walk across")), label="action"
            )
            if action == "reset":
                assert api.post("/_mock/reset").status == 200
                plain.reset()
            else:
                duration = data.draw(st.sampled_from(DURATIONS), label="duration")
                if action == "walk across":
                    walk_across_a_change(api, plain, data.draw, customers, duration)
                else:
                    reply = api.post("/_mock/clock", {"advance": duration})
                    assert reply.status == 200, reply
                    plain.advance(parse_z(reply.json["now"]))
            assert api.get("/_mock/clock").json["now"] == z(plain.now)
            plain.adopt(served(api, plain, customers, case.dialect))
            check_walks(api, plain, data.draw, customers, case.dialect)
    finally:
        servers.stop(api)
