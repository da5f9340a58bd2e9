"""The billing lifecycle a clock advance runs, on the default world."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.world import clock
from mockserver.world.changes import Change, ChangeError
from mockserver.world.state import World
from mockserver.world.timeline import Timeline

DEC_1 = clock.parse_timestamp("2026-12-01T00:00:00Z").floor


@pytest.fixture
def timeline() -> Timeline:
    world = World.from_fixture(load_fixture(None))
    world.warm()
    return Timeline(world)


def drafts(world: World) -> dict[str, object]:
    return {world.cols.ids[o]: world.invoice(o) for o in sorted(world.drafts)}


async def test_an_advance_past_period_end_finalizes_each_draft_and_opens_the_next(timeline: Timeline) -> None:
    world = timeline.world
    before = drafts(world)
    assert before and all(d.period_end == DEC_1 for d in before.values())
    _, result = await timeline.submit("clock", {"advance": "P1M"})
    assert result["now"] == "2026-12-15T12:00:00Z"
    assert result["changed"]["finalized"] == len(before)
    for uid in before:
        finalized = world.invoice(world.invoice_by_id[uid])
        assert finalized.status == "finalized"
        assert finalized.issued_at == DEC_1 and finalized.finalized_at is not None
        assert finalized.due_at == DEC_1 + finalized.net_terms * clock.DAY
        assert (
            finalized.total
            == finalized.subtotal + finalized.tax - finalized.credits - finalized.coupons_total
        )
        assert finalized.payment_status in {"paid", "partially_paid", "errored", "processing", "unpaid"}
        assert 0 <= finalized.paid <= finalized.total
    changed = result["changed"]
    assert changed["opened"] == len(before)
    opened = [world.invoice(o) for o in range(len(world) - changed["opened"], len(world))]
    scheduled = [i for i in opened if i.kind in ("scheduled", "one_off", "adjustment")]
    assert changed["issued"] == len(scheduled) and len(drafts(world)) == len(opened) - len(scheduled)
    for invoice in opened:
        assert (invoice.period_start, invoice.period_end) == (DEC_1, clock.add_months(DEC_1, 1))
        if invoice in scheduled:  # a scheduled charge is issued at the start of its period, whole
            assert invoice.status == "finalized" and invoice.issued_at == DEC_1
            assert invoice.due_at == DEC_1 + invoice.net_terms * clock.DAY
        else:
            assert invoice.status == "draft" and invoice.issued_at == invoice.period_end
            assert invoice.payment_status == "unpaid"
    assert sorted(i.contract.id for i in opened) == sorted(d.contract.id for d in before.values())


async def test_a_draft_shows_month_to_date_spend_that_grows_with_the_clock(timeline: Timeline) -> None:
    world = timeline.world
    await timeline.submit("clock", {"to": "2026-12-02T00:00:00Z"})
    early = {uid: d.subtotal for uid, d in drafts(world).items()}
    await timeline.submit("clock", {"to": "2026-12-20T00:00:00Z"})
    later = drafts(world)
    assert early.keys() == later.keys()
    assert all(later[uid].subtotal >= early[uid] for uid in early)
    assert sum(d.subtotal for d in later.values()) > sum(early.values())
    for draft in later.values():
        rate = Fraction(0) if draft.tax_exemption else Fraction(draft.tax_rate)
        assert draft.total == draft.subtotal + draft.tax - draft.credits - draft.coupons_total
        assert abs(draft.tax - draft.subtotal * rate) <= 1


async def test_a_long_advance_closes_every_period_in_between(timeline: Timeline) -> None:
    world = timeline.world
    per_contract_before = {c.ordinal: len(world.by_contract[c.ordinal]) for c in world.contracts}
    open_before = len(world.drafts)
    _, result = await timeline.submit("clock", {"advance": "P3M"})
    changed = result["changed"]
    assert changed["finalized"] == open_before + changed["opened"] - changed["issued"] - len(world.drafts)
    for draft in drafts(world).values():
        assert draft.period_start == clock.add_months(DEC_1, 2)
    for contract, before in per_contract_before.items():
        running = contract in world.periods
        assert len(world.by_contract[contract]) == before + (3 if running else 0)


async def test_archived_customers_get_no_new_drafts(timeline: Timeline) -> None:
    world = timeline.world
    archived = {c.ordinal for c in world.customers if c.archived_at is not None}
    assert archived
    await timeline.submit("clock", {"advance": "P2M"})
    assert not any(world.cols.customer[o] in archived for o in world.drafts)


async def test_processing_payments_settle_once_their_time_has_passed(timeline: Timeline) -> None:
    world = timeline.world
    processing = sorted(world.processing)
    assert processing
    await timeline.submit("clock", {"advance": "P1M"})
    settled = [o for o in processing if world.invoice(o).payment_status == "paid"]
    assert settled == processing
    assert all(world.invoice(o).paid == world.invoice(o).total for o in settled)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"advance": "P-1D"}, "not an ISO 8601 duration"),
        ({"advance": "1 month"}, "not an ISO 8601 duration"),
        ({"to": "2020-01-01T00:00:00Z"}, "only moves forward"),
        ({"to": "2026-11-15T12:00:00Z"}, "only moves forward"),
        ({"to": "tomorrow"}, "RFC 3339"),
        ({"advance": "P1D", "to": "2027-01-01T00:00:00Z"}, "exactly one of"),
        ({}, "exactly one of"),
        ({"advance": 3}, "must be a string"),
        ({"forward": "P1D"}, "unknown field 'forward'"),
        ({"advance": "P9999Y"}, "9999"),
        ({"advance": "P1000Y"}, "past its horizon 2031-11-15T12:00:00Z (5 years after"),
        ({"to": "2031-11-15T12:00:01Z"}, "past its horizon 2031-11-15T12:00:00Z"),
        ({"advance": "P" + "9" * 5000 + "D"}, "has a number of more than 9 digits"),
        ({"advance": "PT9999999999S"}, "has a number of more than 9 digits"),
    ],
)
async def test_a_bad_clock_change_is_refused_and_changes_nothing(timeline: Timeline, args, says) -> None:
    world = timeline.world
    with pytest.raises(ChangeError) as refused:
        await timeline.submit("clock", args)
    assert says in str(refused.value)
    assert (world.seq, world.now, await timeline.export()) == (0, world.fixture.now, b"")


async def test_the_clock_moves_up_to_its_horizon_in_one_step_and_quickly(timeline: Timeline) -> None:
    started = time.perf_counter()
    _, result = await timeline.submit("clock", {"advance": f"P{clock.HORIZON_YEARS}Y"})
    assert time.perf_counter() - started < 3
    assert (
        result["now"] == "2031-11-15T12:00:00Z" == clock.format_z(clock.horizon(timeline.world.fixture.now))
    )
    with pytest.raises(ChangeError, match="horizon"):
        await timeline.submit("clock", {"advance": "PT1S"})
    await timeline.submit("reset", {})
    assert (await timeline.submit("clock", {"advance": "PT1S"}))[1]["now"] == "2026-11-15T12:00:01Z"


async def test_the_same_log_gives_the_same_world(timeline: Timeline) -> None:
    await timeline.submit("clock", {"advance": "P1M"})
    await timeline.submit("clock", {"advance": "PT36H"})
    await timeline.submit("reset", {})
    await timeline.submit("clock", {"to": "2027-02-03T04:05:06Z"})
    again = World.from_fixture(load_fixture(None))
    replay = Timeline(again)
    for line in (await timeline.export()).splitlines():
        change = Change.from_line(line)
        await replay.submit(change.kind, change.args)
    assert await replay.export() == await timeline.export()
    world = timeline.world
    assert len(again) == len(world) and again.now == world.now
    assert [again.invoice(o) for o in range(len(again))] == [world.invoice(o) for o in range(len(world))]
