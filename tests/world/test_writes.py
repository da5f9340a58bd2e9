"""Changes that write the world: usage ingested onto drafts, invoices voided and regenerated,
customers created and changed; each checked whole before anything is applied, undone by
reset, and replayed from the exported log to the same world."""

from __future__ import annotations

from fractions import Fraction

import pytest

from mockserver.generation.export import canonical_json
from mockserver.generation.fixture import parse_fixture
from mockserver.world import clock
from mockserver.world.changes import ChangeError
from mockserver.world.draws import month_to_date, priced
from mockserver.world.ingest import remembered
from mockserver.world.log import FileLog
from mockserver.world.metering import LIMIT
from mockserver.world.state import World
from mockserver.world.timeline import Timeline

SOLO = "5010a000-0000-4000-8000-000000000001"
EURO = "5010a000-0000-4000-8000-000000000002"
FIXTURE = f"""\
seed: 3
now: 2026-05-15T12:00:00Z
generate: {{customers: 0}}
invoices: {{months: 3, credits_share: 0, coupons_share: 0, tax_exempt_share: 0, void_share: 0,
           status_mix: {{finalized: 1}}}}
metrics:
  - {{code: api_request, name: Requests, price: 0.01}}
  - {{code: api_request, name: Users, aggregation: unique, property: user, price: 2}}
  - {{code: compute, name: Seconds, aggregation: sum, property: seconds, filters: {{tier: std}}, price: 0.5}}
  - {{code: storage, name: Peak GB, aggregation: max, property: gb, prices: {{EUR: 0.2}}}}
customers:
  - id: {SOLO}
    name: Solo
    aliases: [solo, solo-two]
    currency: USD
    contracts:
      - {{id: 5010c000-0000-4000-8000-000000000001, name: Compute only, metrics: [Seconds]}}
      - {{id: 5010c000-0000-4000-8000-000000000002, name: Main}}
  - id: {EURO}
    name: Euro GmbH
    alias: euro
    currency: EUR
"""
METRICS = ("Requests", "Users", "Seconds", "Peak GB")
NOW = clock.parse_timestamp("2026-05-15T12:00:00Z").floor


@pytest.fixture
def timeline() -> Timeline:
    return Timeline(World.from_fixture(parse_fixture(FIXTURE, "writes.yaml")))


def event(
    key: str, customer: str = "solo", code: str = "api_request", at: str = "2026-05-15T10:00:00Z", **props
):
    """An event in Metronome's spelling, which Meteroid's differs from in two names (`meteroid`)."""
    return {
        "transaction_id": key,
        "customer_id": customer,
        "event_type": code,
        "timestamp": at,
        "properties": props,
    }


def meteroid(event: dict) -> dict:
    renamed = {"transaction_id": "event_id", "event_type": "code"}
    return {renamed.get(name, name): value for name, value in event.items()}


async def ingest(timeline: Timeline, *events, policy: str = "metronome", **flags):
    sent = list(events) if policy == "metronome" else [meteroid(e) for e in events]
    return (await timeline.submit("ingest", {"policy": policy, "events": sent, **flags}))[1]


def draft(world: World, customer: str, contract_name: str | None = None):
    """The customer's open draft on the named contract (else its first), as it is now."""
    for ordinal in world.customer_drafts(world.customer_by_id[customer]):
        if contract_name in (None, world.contracts[world.cols.contract[ordinal]].name):
            return world.invoice(ordinal)
    raise AssertionError(f"no draft on {contract_name}")


def usage(invoice) -> dict[str, tuple[str, int]]:
    """(quantity, total) of the invoice's usage lines by metric name."""
    return {line.name: (line.quantity, line.total) for line in invoice.lines if line.name in METRICS}


async def test_events_are_metered_on_the_draft_of_a_contract_that_bills_them(timeline) -> None:
    world = timeline.world
    before = draft(world, SOLO, "Main")
    await ingest(
        timeline,
        event("a", user="u1"),
        event("b", customer=SOLO, user="u2"),
        event("c", customer="solo-two", user="u1"),
        event("d", code="compute", seconds="30", tier="std"),
        event("e", code="compute", seconds="12.5", tier="std"),
        event("f", code="compute", seconds="99", tier="premium"),  # filtered out
        event("g", code="unknown"),  # matches no metric: accepted, bills nothing
    )
    main, compute = draft(world, SOLO, "Main"), draft(world, SOLO, "Compute only")
    assert usage(main) == {"Requests": ("3", 3), "Users": ("2", 400)}
    assert usage(compute) == {"Seconds": ("42.5", 2125)}
    # The draft's own spend so far, plus what the usage lines bill; tax follows.
    spent = month_to_date(world.cols.planned[main.ordinal], main.period_start, main.period_end, NOW)
    assert main.subtotal == spent + 403 == before.subtotal + 403
    tax, _, _ = priced(main.subtotal, Fraction(main.customer.tax_rate), False, 0, 0)
    assert (main.tax, main.total, main.amount_due) == (tax, main.subtotal + tax, main.subtotal + tax)
    assert sum(line.total for line in main.lines) == main.subtotal


async def test_a_metric_without_a_price_in_the_currency_bills_nothing(timeline) -> None:
    world = timeline.world
    await ingest(
        timeline, event("s1", code="storage", gb="3"), event("s2", customer="euro", code="storage", gb="7")
    )
    await ingest(timeline, event("s3", customer="euro", code="storage", gb="5"))
    assert usage(draft(world, SOLO, "Main")) == {}
    assert usage(draft(world, EURO)) == {"Peak GB": ("7", 140)}


async def test_an_advance_bills_a_draft_its_usage_and_the_next_period_opens_without_any(timeline) -> None:
    """Finalizing prices the whole period plus the usage lines; Main's next period is a one-off
    charge, issued at once at its start: no draft of Main is open, so no usage lands there."""
    world = timeline.world
    await ingest(timeline, event("a", user="u1"))
    main = draft(world, SOLO, "Main")
    await timeline.submit("clock", {"advance": "P1M"})
    finalized = world.invoice(main.ordinal)
    assert finalized.status == "finalized" and finalized.issued_at == main.period_end
    assert usage(finalized) == {"Requests": ("1", 1), "Users": ("1", 200)}
    assert finalized.subtotal == world.cols.planned[main.ordinal] + 201
    contract = world.contract_by_id["5010c000-0000-4000-8000-000000000002"]
    issued = world.invoice(world.periods[contract])
    assert (issued.kind, issued.status, issued.issued_at) == ("one_off", "finalized", main.period_end)
    await ingest(timeline, event("b", at="2026-06-15T11:00:00Z", user="u2"))
    assert usage(world.invoice(world.periods[contract])) == {}
    assert all(not usage(world.invoice(o)) for o in world.customer_drafts(world.customer_by_id[SOLO]))


async def test_quantities_and_totals_stop_where_64_bit_amounts_do(timeline) -> None:
    """A value of more than 15 digits is not read, as no value a sum cannot read is; a sum stops
    at LIMIT units and a line's total at LIMIT minor units: no amount outgrows the columns."""
    world = timeline.world
    await ingest(timeline, event("long", code="compute", seconds="1" * 5000, tier="std"))
    assert usage(draft(world, SOLO, "Compute only")) == {}
    nines = "9" * 15
    await ingest(timeline, *(event(f"n{i}", code="compute", seconds=nines, tier="std") for i in range(3)))
    compute = draft(world, SOLO, "Compute only")
    assert usage(compute) == {"Seconds": (str(LIMIT), LIMIT)}
    assert world.cols.subtotal[compute.ordinal] == compute.subtotal > LIMIT


async def test_transaction_ids_are_remembered_34_days(timeline) -> None:
    world = timeline.world
    await ingest(timeline, event("t1"), event("t1"), event("t2"))
    await ingest(timeline, event("t2"), event("t3"))
    assert usage(draft(world, SOLO, "Main"))["Requests"] == ("3", 3)
    assert all(remembered(world, "metronome", key) for key in ("t1", "t2", "t3"))
    await timeline.submit("clock", {"advance": "P33DT23H"})
    await ingest(timeline, event("t1", at=clock.format_z(world.now)))  # still remembered: dropped
    assert remembered(world, "metronome", "t1")
    await timeline.submit("clock", {"advance": "PT1H"})  # 34 days on: forgotten
    assert not remembered(world, "metronome", "t1")


async def test_event_ids_are_remembered_34_days_per_customer(timeline) -> None:
    world = timeline.world
    await ingest(timeline, event("m1", at=clock.format_z(world.now)), policy="meteroid")
    assert remembered(world, "meteroid", "m1", SOLO) and not remembered(world, "meteroid", "m1", EURO)
    await timeline.submit("clock", {"advance": "P34D"})
    assert not remembered(world, "meteroid", "m1", SOLO)


async def test_a_batch_of_duplicates_only_is_not_logged(timeline) -> None:
    world = timeline.world
    await ingest(timeline, event("d1"), event("d2"))
    seq, log = world.seq, await timeline.export()
    assert await ingest(timeline, event("d1"), event("d2"), event("d1")) == {"accepted": 0, "failures": []}
    assert (world.seq, await timeline.export()) == (seq, log)


async def test_a_batch_with_one_bad_event_changes_nothing(timeline) -> None:
    world = timeline.world
    before = canonical_json(world)
    for bad, reason in (
        (event("x", at="2026-04-10T00:00:00Z"), "more than 34 days before now"),
        (event("x", at="2026-05-16T12:00:01Z"), "more than 24 hours after now"),
        (event("x", at="yesterday"), "not an RFC 3339 timestamp"),
    ):
        with pytest.raises(ChangeError, match=reason):
            await ingest(timeline, event("ok"), bad)
    assert canonical_json(world) == before
    assert world.seq == 0 and not remembered(world, "metronome", "ok") and not world.pending


async def test_usage_for_an_unknown_alias_is_billed_once_a_customer_gets_it(timeline) -> None:
    """Kept, not billed, until a customer has the alias; then the drafts grow by exactly what
    the same events sent for a known alias add."""
    world = timeline.world
    twin = Timeline(World.from_fixture(parse_fixture(FIXTURE, "writes.yaml")))
    sent = [event("u1", customer="solo-eu", user="a"), event("u2", customer="solo-eu", user="b")]
    before = canonical_json(world)
    await ingest(timeline, *sent)
    assert canonical_json(world) == before and len(world.pending) == 2
    await ingest(timeline, event("u1", customer="solo-eu"))  # a duplicate: not kept twice
    await timeline.submit("customer.update", {"customer": SOLO, "fields": {"aliases": ["solo", "solo-eu"]}})
    assert len(world.pending) == 0
    await ingest(twin, *({**e, "customer_id": "solo"} for e in sent))
    assert usage(draft(world, SOLO, "Main")) == usage(draft(twin.world, SOLO, "Main")) != {}
    assert draft(world, SOLO, "Main").total == draft(twin.world, SOLO, "Main").total


async def test_usage_for_an_unknown_alias_is_forgotten_after_34_days(timeline) -> None:
    world = timeline.world
    await ingest(timeline, event("f1", customer="later", at="2026-05-01T00:00:00Z"))
    await ingest(timeline, event("f2", customer="later", at="2026-05-15T00:00:00Z"))
    await timeline.submit("clock", {"to": "2026-06-10T00:00:00Z"})  # f1 is 40 days old, f2 26
    assert len(world.pending) == 1
    await timeline.submit("clock", {"to": "2026-06-20T00:00:00Z"})
    assert len(world.pending) == 0


async def test_a_created_customer_takes_the_usage_kept_for_its_alias(timeline) -> None:
    world = timeline.world
    await ingest(timeline, event("c1", customer="newcomer"))
    await timeline.submit("customer.create", {"fields": {"name": "Newcomer", "aliases": ["newcomer"]}})
    assert len(world.pending) == 0  # attributed; with no contract it bills nothing


async def test_backdated_into_a_finalized_period_changes_no_invoice(timeline) -> None:
    world = timeline.world
    before = canonical_json(world)
    await ingest(timeline, event("late", at="2026-04-20T00:00:00Z"))
    assert canonical_json(world) == before
    assert remembered(world, "metronome", "late")


async def test_meteroid_window_partial_failures_and_per_customer_keys(timeline) -> None:
    world = timeline.world
    result = await ingest(
        timeline,
        event("m1", at="2026-05-15T12:30:00Z"),
        event("m2", at="2026-05-14T11:00:00Z"),  # 25 hours back
        event("m3", at="2026-05-15T14:00:00Z"),  # 2 hours ahead
        event("m4", customer="nobody"),
        event("m1", customer="euro"),  # another customer: not a duplicate
        policy="meteroid",
        partial=True,
    )
    assert [(f["id"], f["reason"].split(": ")[0]) for f in result["failures"]] == [
        ("m2", "events[1].timestamp"),
        ("m3", "events[2].timestamp"),
        ("m4", "events[3].customer_id"),
    ]
    assert remembered(world, "meteroid", "m1", SOLO) and remembered(world, "meteroid", "m1", EURO)
    assert not any(remembered(world, "meteroid", key, SOLO) for key in ("m2", "m3", "m4"))
    with pytest.raises(ChangeError, match="24 hours before now"):
        await ingest(timeline, event("m5", at="2026-05-14T11:00:00Z"), policy="meteroid")
    await ingest(timeline, event("m5", at="2026-05-14T11:00:00Z"), policy="meteroid", backfill=True)
    assert usage(draft(world, SOLO, "Main"))["Requests"] == ("2", 2)


async def test_void_and_regenerate(timeline) -> None:
    world = timeline.world
    finalized = next(o for o in range(len(world)) if world.invoice(o).status == "finalized")
    invoice_id = world.cols.ids[finalized]
    with pytest.raises(ChangeError, match="not void") as refused:
        await timeline.submit("invoice.regenerate", {"invoice": invoice_id})
    assert refused.value.reason == "invalid"
    await timeline.submit("clock", {"advance": "PT1H"})
    await timeline.submit("invoice.void", {"invoice": invoice_id})
    voided = world.invoice(finalized)
    assert (voided.status, voided.voided_at) == ("void", NOW + 3600)
    with pytest.raises(ChangeError) as again:
        await timeline.submit("invoice.void", {"invoice": invoice_id})
    assert again.value.reason == "conflict"
    new_id = (await timeline.submit("invoice.regenerate", {"invoice": invoice_id}))[1]["invoice"]
    new = world.invoice(world.invoice_by_id[new_id])
    assert (new.status, new.regenerated_from, new.issued_at, new.payment_status) == (
        "finalized",
        invoice_id,
        NOW + 3600,
        "unpaid",
    )
    assert (new.period_start, new.subtotal, new.customer.id) == (voided.period_start, voided.subtotal, SOLO)
    assert world.by_customer[world.customer_by_id[SOLO]][-1] == new.ordinal
    with pytest.raises(ChangeError, match="regenerated already"):
        await timeline.submit("invoice.regenerate", {"invoice": invoice_id})
    with pytest.raises(ChangeError) as unknown:
        await timeline.submit("invoice.void", {"invoice": "5010f000-0000-4000-8000-000000000000"})
    assert unknown.value.reason == "unknown"
    draft_id = world.cols.ids[world.customer_drafts(0)[0]]
    with pytest.raises(ChangeError, match="is a draft"):
        await timeline.submit("invoice.void", {"invoice": draft_id})


async def test_customers_are_created_changed_and_archived(timeline) -> None:
    world = timeline.world
    created = (
        await timeline.submit("customer.create", {"fields": {"name": "New Co", "aliases": ["new-co"]}})
    )[1]
    ordinal = world.customer_by_id[created["customer"]]
    customer = world.customers[ordinal]
    assert (customer.name, customer.aliases, customer.external_id, customer.currency) == (
        "New Co",
        ("new-co",),
        "new-co",
        "USD",
    )
    assert world.customer_ordinal("new-co") == ordinal and list(world.by_customer[ordinal]) == []
    with pytest.raises(ChangeError) as taken:
        await timeline.submit("customer.create", {"fields": {"name": "Copy", "aliases": ["solo"]}})
    assert taken.value.reason == "conflict"
    epoch = world.customer_epoch
    await timeline.submit(
        "customer.update", {"customer": SOLO, "fields": {"name": "Solo Renamed", "aliases": ["s"]}}
    )
    assert world.customer_epoch > epoch
    assert world.customer_ordinal("solo") is None and world.customer_ordinal("s") == 0
    assert all(world.invoice(o).customer.name == "Solo Renamed" for o in world.by_customer[0])
    with pytest.raises(ChangeError, match="Cannot archive customer with active subscriptions"):
        await timeline.submit("customer.archive", {"customer": SOLO})  # Meteroid's: contracts run
    await timeline.submit("customer.archive", {"customer": SOLO, "end_contracts": True})
    assert world.customers[0].archived_at == NOW
    with pytest.raises(ChangeError, match="is archived"):
        await timeline.submit("customer.archive", {"customer": SOLO})
    await timeline.submit("customer.unarchive", {"customer": SOLO})
    assert world.customers[0].archived_at is None


async def test_archiving_with_its_contracts_voids_the_drafts_and_opens_no_period(timeline) -> None:
    world = timeline.world
    drafts = world.customer_drafts(0)
    await timeline.submit("customer.archive", {"customer": SOLO, "end_contracts": True})
    assert drafts and all(world.invoice(o).status == "void" for o in drafts)
    assert all(c.ends_at == NOW for c in world.contracts if c.customer == 0)
    count = len(world.by_customer[0])
    await timeline.submit("clock", {"advance": "P2M"})
    assert len(world.by_customer[0]) == count and world.customer_drafts(0) == []
    await timeline.submit("reset", {})
    assert all(c.ends_at is None for c in world.contracts if c.customer == 0)


async def test_reset_undoes_every_write(timeline) -> None:
    world = timeline.world
    before = canonical_json(world)
    await ingest(timeline, event("r1", user="u"), event("r2", customer="euro", code="storage", gb="2"))
    await ingest(timeline, event("r3"), policy="meteroid")
    await timeline.submit("customer.create", {"fields": {"name": "Gone soon", "aliases": ["gone"]}})
    await timeline.submit("customer.update", {"customer": EURO, "fields": {"name": "Renamed"}})
    await ingest(timeline, event("r4", customer="nobody-yet"))
    assert canonical_json(world) != before
    await timeline.submit("reset", {})
    assert canonical_json(world) == before
    assert not (world.usage or world.ingested or world.pending)
    assert world.customer_ordinal("gone") is None and world.customer_ordinal("euro") == 1
    await ingest(timeline, event("r1"))  # forgotten by reset: counted again
    assert usage(draft(world, SOLO, "Main"))["Requests"] == ("1", 1)


async def test_the_exported_log_replays_to_the_same_world(timeline, tmp_path) -> None:
    world = timeline.world
    await ingest(timeline, event("p1", user="a"), event("p2", customer="solo-two", user="b"), event("p1"))
    await ingest(
        timeline, event("p3", code="compute", seconds="4", tier="std"), policy="meteroid", partial=True
    )
    await ingest(timeline, event("p5", customer="replayed", user="c"), event("p6", customer="solo-eu"))
    await timeline.submit("customer.create", {"fields": {"name": "Replayed", "aliases": ["replayed"]}})
    await timeline.submit("customer.update", {"customer": SOLO, "fields": {"aliases": ["solo", "solo-eu"]}})
    await timeline.submit("customer.archive", {"customer": EURO, "end_contracts": True})
    await timeline.submit("clock", {"advance": "P1M"})  # drafts with usage finalize; the next ones open
    await ingest(timeline, event("p4", at="2026-06-15T11:00:00Z"))
    (tmp_path / "changes.jsonl").write_bytes(await timeline.export())
    log = FileLog(tmp_path / "changes.jsonl")
    again = Timeline(World.from_fixture(parse_fixture(FIXTURE, "writes.yaml")), log)
    await again.catch_up()  # each logged change checked again and applied, as `serve --changes` does
    assert await again.export() == await timeline.export()
    assert canonical_json(again.world) == canonical_json(world)
