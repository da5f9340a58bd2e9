"""The fixture layer and determinism, through both APIs: the world keeps what a fixture pins,
the same fixture answers byte for byte the same, another seed makes another world."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import event, given
from hypothesis import strategies as st

from mockserver.generation.fixture import parse_fixture
from mockserver.metronome.catalog import credit_type_id
from mockserver.world.spec import FixtureError
from tests.properties import oracle
from tests.properties import strategies as S
from tests.properties.harness import Api, encode, meteroid_walk, metronome_path, metronome_walk

METRONOME_STATUS = {"draft": "DRAFT", "finalized": "FINALIZED", "uncollectible": "FINALIZED", "void": "VOID"}
METRONOME_TYPE = {kind: name for name, kinds in oracle.METRONOME_TYPE.items() for kind in kinds}


def z(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def customer_walk(api: Api, query: list[tuple[str, str]]) -> list[bytes]:
    """Every page of `GET /v1/customers`, following `next_page`."""
    bodies, cursor = [], None
    for _ in range(1000):
        reply = api.get("/v1/customers", [*query, *([] if cursor is None else [("next_page", cursor)])])
        assert reply.status == 200, reply
        bodies.append(reply.body)
        cursor = reply.json["next_page"]
        if cursor is None:
            return bodies
    raise AssertionError("the walk does not end")


@given(case=S.worlds())
def test_every_id_in_the_world_is_unique(case) -> None:
    world = case.world
    for what, ids in (
        ("customer", [c.id for c in world.customers]),
        ("contract", [c.id for c in world.contracts]),
        ("invoice", [i.id for i in oracle.invoices(world)]),
    ):
        repeated = sorted({uid for uid in ids if ids.count(uid) > 1})
        assert not repeated, f"{what} ids repeated: {repeated}"


@given(case=S.worlds())
def test_the_world_keeps_what_the_fixture_pins(servers, case) -> None:
    world, spec = case.world, case.spec
    api = servers.api(world)
    pinned = spec["customers"]
    for index, given_customer in enumerate(pinned):
        customer = world.customers[index]  # pinned customers come first, in order
        if "id" in given_customer:
            assert customer.id == given_customer["id"]
        if "name" in given_customer:
            assert customer.name == given_customer["name"]
        aliases = given_customer.get(
            "aliases", [given_customer["alias"]] if "alias" in given_customer else None
        )
        if aliases is not None:
            assert list(customer.aliases) == aliases
        assert customer.currency == given_customer["currency"]
        archived = given_customer.get("archived", False) or "archived_at" in given_customer
        assert (customer.archived_at is not None) == archived
        contracts = [c.id for c in world.contracts if c.customer == index]
        if "contracts" in given_customer:
            assert contracts == [c["id"] for c in given_customer["contracts"]]
        reply = api.get(f"/v1/customers/{customer.id}")
        assert reply.status == 200 and (reply.json["data"]["archived_at"] is not None) == archived, reply
        event("archived pinned customer" if archived else "active pinned customer")

    for pin in case.pins:
        found = [i for i in oracle.invoices(world) if i.id == pin.id] if pin.id else []
        if not pin.id:
            continue
        assert len(found) == 1, pin
        invoice = found[0]
        customer = world.customers[pin.customer_index]
        assert invoice.customer.id == customer.id
        assert invoice.status == (pin.status or ("draft" if pin.period_end > world.now else "finalized"))
        assert invoice.kind == (pin.kind or "usage")
        assert (invoice.period_start, invoice.period_end) == (pin.period_start, pin.period_end)
        assert invoice.issued_at == (pin.period_end if pin.issued_at is None else pin.issued_at)
        assert invoice.currency == (pin.currency or customer.currency)
        first_contract = next(c.id for c in world.contracts if c.customer == customer.ordinal)
        assert invoice.contract is not None and invoice.contract.id == (pin.contract_id or first_contract)
        if pin.quantities is not None:
            assert tuple(line.quantity for line in invoice.lines) == pin.quantities

        reply = api.get(f"{metronome_path(customer.id)}/{pin.id}")
        assert reply.status == 200, reply
        body = reply.json["data"]
        assert body["status"] == METRONOME_STATUS[invoice.status]
        assert body["type"] == METRONOME_TYPE[invoice.kind]
        assert body["start_timestamp"] == z(pin.period_start) and body["end_timestamp"] == z(pin.period_end)
        assert body["issued_at"] == z(invoice.issued_at)
        assert body["credit_type"] == {
            "id": credit_type_id(invoice.currency),
            "name": f"{invoice.currency} (cents)",
        }
        assert body["contract_id"] == invoice.contract.id


@given(case=S.worlds())
def test_customer_lists_split_active_and_archived(servers, case) -> None:
    world = case.world
    api = servers.api(world)
    for archived in (False, True):
        query = [("only_archived", "true")] if archived else []
        listed = [
            item["id"]
            for body in customer_walk(api, [*query, ("limit", "2")])
            for item in orjson.loads(body)["data"]
        ]
        expected = [c.id for c in world.customers if (c.archived_at is not None) == archived]
        assert sorted(listed) == sorted(expected)
        assert len(set(listed)) == len(listed)
    event(f"archived customers: {sum(c.archived_at is not None for c in world.customers)}")


def script(api: Api, world, limit: int, order: str | None) -> list[bytes]:
    """One client session over both APIs; every response body, in order."""
    bodies: list[bytes] = []
    for customer in world.customers:
        bodies += metronome_walk(api, customer.id, [], limit).bodies
    bodies += customer_walk(api, [("limit", str(limit))])
    bodies += meteroid_walk(api, [] if order is None else [("order_by", order)], limit).bodies
    for invoice in oracle.invoices(world)[:5]:
        bodies.append(api.get(f"{metronome_path(invoice.customer.id)}/{invoice.id}").body)
        bodies.append(api.get(f"/api/v1/invoices/{oracle.meteroid_id('inv_', invoice.id)}").body)
    bodies.append(api.get("/api/v1/customers", encode([("per_page", "100")])).body)
    return bodies


@given(case=S.worlds(), limit=st.integers(1, 5), order=S.order_bys)
def test_the_same_fixture_gives_byte_identical_responses(servers, case, limit, order) -> None:
    first_world, second_world = S.build_world(case.text), S.build_world(case.text)
    first, second = servers.start(first_world), servers.start(second_world)
    try:
        assert script(first, first_world, limit, order) == script(second, second_world, limit, order)
    finally:
        servers.stop(first)
        servers.stop(second)


@given(case=S.worlds(), other_seed=st.integers(0, 2**63 - 1))
def test_a_different_seed_gives_a_different_world(servers, case, other_seed) -> None:
    seed = case.spec["seed"]
    other_seed = other_seed if other_seed != seed else seed + 1 if seed < 2**63 - 1 else 0
    text = re.sub(r"^seed: \d+$", f"seed: {other_seed}", case.text, count=1, flags=re.M)
    assert text != case.text
    world, other = case.world, S.world_of(text)
    assert {i.id for i in oracle.invoices(world)} != {i.id for i in oracle.invoices(other)}
    mine = meteroid_walk(servers.api(world), [], 100).bodies
    theirs = meteroid_walk(servers.api(other), [], 100).bodies
    assert mine != theirs


# --- fixtures that repeat an id -------------------------------------------------------------------


def dumped(spec: dict[str, Any]) -> str:
    return yaml.dump(spec, Dumper=S.DUMPER, sort_keys=False, allow_unicode=True, width=1000)


@given(case=S.worlds(), what=st.sampled_from(["customer", "contract", "contract-within", "invoice"]))
def test_a_fixture_repeating_an_id_is_rejected(case, what) -> None:
    """Two entities with one id would make every lookup by id ambiguous."""
    spec = case.spec
    anchor = spec["customers"][0]
    copy: dict[str, Any] = {"name": "Copy Corp", "currency": "USD"}
    if what == "customer":
        copy["id"] = anchor["id"]
    elif what.startswith("contract"):
        if "contracts" not in anchor:
            anchor["contracts"] = [{"id": "c0ffee00-0000-4000-8000-000000000001"}]
        repeated = anchor["contracts"][0]["id"]
        if what == "contract":
            copy["contracts"] = [{"id": repeated}]
        else:
            anchor["contracts"].append({"id": repeated})
    else:
        pinned = [p for p in anchor["invoices"]["pinned"] if "id" in p]
        if not pinned:
            anchor["invoices"]["pinned"][0]["id"] = "1a2b3c4d-0000-4000-8000-000000000001"
            pinned = anchor["invoices"]["pinned"][:1]
        copy["invoices"] = {"pinned": [{**pinned[0], "contract_id": None}]}
        del copy["invoices"]["pinned"][0]["contract_id"]
    spec["customers"].append(copy)
    with pytest.raises(FixtureError) as refused:
        parse_fixture(dumped(spec), "property.yaml")
    assert refused.value.path.startswith("customers["), refused.value
    assert "duplicate" in refused.value.message or "also" in refused.value.message, refused.value


def test_pinned_customers_sharing_a_name_and_no_id_get_ids_of_their_own() -> None:
    text = (
        "seed: 5\nnow: 2026-03-15T12:00:00Z\ninvoices: {months: 2}\n"
        "customers:\n  - {name: Acme}\n  - {name: Acme}\n"
        "  - {name: Acme, id: 1a2b3c4d-0000-4000-8000-000000000001}\n"
    )
    world = S.build_world(text)
    assert len({c.id for c in world.customers}) == 3
    assert len({i.id for i in oracle.invoices(world)}) == len(world)


def test_a_contract_id_pinned_twice_is_rejected() -> None:
    text = (
        "customers:\n"
        "  - {name: One, contracts: [{id: c0000000-0000-4000-8000-000000000001}]}\n"
        "  - {name: Two, contracts: [{id: c0000000-0000-4000-8000-000000000001}]}\n"
    )
    with pytest.raises(FixtureError) as refused:
        parse_fixture(text, "twice.yaml")
    assert refused.value.path == "customers[1].contracts[0].id"
    assert "duplicate contract id (also customers[0].contracts[0])" in str(refused.value)
