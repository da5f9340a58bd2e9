"""The world as one canonical JSON document: what `mockserver generate` writes."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from mockserver.world.model import Contract, Customer, Invoice
from mockserver.world.state import World


def _customer(customer: Customer) -> dict[str, Any]:
    data = dataclasses.asdict(customer)
    del data["profile"], data["ordinal"]
    return data


def _contract(contract: Contract, world: World) -> dict[str, Any]:
    data = dataclasses.asdict(contract)
    del data["ordinal"]
    data["customer"] = world.customers[contract.customer].id
    return data


def _invoice(invoice: Invoice) -> dict[str, Any]:
    data = {f.name: getattr(invoice, f.name) for f in dataclasses.fields(invoice) if f.name != "ordinal"}
    data["customer"] = invoice.customer.id
    data["contract"] = invoice.contract.id if invoice.contract else None
    for name in ("lines", "credit_applications", "coupons", "payments"):
        data[name] = [dataclasses.asdict(v) for v in data[name]]
    if invoice.external is not None:
        data["external"] = dataclasses.asdict(invoice.external)
    data["amount_due"] = invoice.amount_due
    data["due_at"] = invoice.due_at
    return data


def world_document(world: World) -> dict[str, Any]:
    fixture = world.fixture
    return {
        "fixture": {"name": fixture.name, "seed": fixture.seed, "now": fixture.now},
        "customers": [_customer(c) for c in world.customers],
        "contracts": [_contract(c, world) for c in world.contracts],
        "invoices": [_invoice(world.invoice(i)) for i in range(len(world))],
    }


def canonical_json(world: World) -> bytes:
    """Sorted keys, fixed indentation: equal worlds give equal bytes."""
    return orjson.dumps(world_document(world), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
