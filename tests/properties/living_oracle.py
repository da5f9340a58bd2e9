"""The living world as plain data: what clock advances and resets do, written from the issue's
words alone.

At each period end, in time order, an open draft is finalized. A running contract's current
period is its draft that ends last; at its end the next period (from that end to the first of
the following month) opens, unless the contract or its customer has ended by then: a draft,
or a scheduled charge issued at once. Reset is the fixture's world again. What the oracle
cannot know (the ids of new invoices, which of them are scheduled charges, the amounts and
times drawn for them) it adopts from the server once it has checked everything else.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mockserver.world.state import World
from tests.properties.strategies import add_months, month_start


@dataclass
class Plain:
    id: str | None  # None until adopted from the server
    customer: str
    contract: str | None
    status: str
    start: int
    end: int
    values: dict[str, Any]  # what the oracle sorts by but does not predict: adopted


def z(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_z(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class PlainWorld:
    def __init__(self, world: World) -> None:
        self.fixture_now = self.now = world.fixture.now
        self.initial: list[Plain] = []
        for ordinal in range(len(world)):
            invoice = world.invoice(ordinal)
            self.initial.append(
                Plain(
                    invoice.id,
                    invoice.customer.id,
                    invoice.contract.id if invoice.contract else None,
                    invoice.status,
                    invoice.period_start,
                    invoice.period_end,
                    {},
                )
            )
        self.ends: dict[str, int | None] = {}
        for contract in world.contracts:
            customer = world.customers[contract.customer]
            ends = [t for t in (contract.ends_at, customer.archived_at) if t is not None]
            self.ends[contract.id] = min(ends) if ends else None
        self.reset()

    def reset(self) -> None:
        self.now = self.fixture_now
        self.invoices = copy.deepcopy(self.initial)
        self.current: dict[str, Plain] = {}
        for plain in sorted(self.invoices, key=lambda p: (p.end, p.id)):
            if plain.status == "draft" and plain.contract is not None:
                self.current[plain.contract] = plain

    def advance(self, to: int) -> None:
        for draft in self.invoices:
            if draft.status == "draft" and draft.end <= to:
                draft.status = "finalized"
        while True:
            due = [p for p in self.current.values() if p.end <= to]
            if not due:
                break
            ending = min(due, key=lambda p: p.end)
            contract, start = ending.contract, ending.end
            assert contract is not None
            if self.ends[contract] is not None and start >= self.ends[contract]:
                del self.current[contract]
                continue
            end = add_months(month_start(start), 1)
            status = "finalized" if end <= to else "draft or scheduled"
            self.current[contract] = Plain(None, ending.customer, contract, status, start, end, {})
            self.invoices.append(self.current[contract])
        self.now = to

    def adopt(self, served: list[dict[str, Any]]) -> None:
        """Match the server's invoices (Metronome's shape, with `values` added) to the plain ones:
        every known invoice by id, every new one by contract and period; each exactly once."""
        by_id = {p.id: p for p in self.invoices if p.id is not None}
        new = {(p.contract, p.start): p for p in self.invoices if p.id is None}
        assert len(served) == len(self.invoices), (len(served), len(self.invoices))
        for item in served:
            plain = by_id.pop(item["id"], None)
            if plain is None:
                plain = new.pop((item.get("contract_id"), item["start"]), None)
                assert plain is not None, f"an invoice the lifecycle does not open: {item}"
                plain.id = item["id"]
                if plain.status == "draft or scheduled":
                    plain.status = "finalized" if item["type"] == "SCHEDULED" else "draft"
            assert (plain.customer, plain.contract, plain.start, plain.end) == (
                item["customer_id"],
                item.get("contract_id"),
                item["start"],
                item["end"],
            ), (plain, item)
            assert plain.status == item["status"], (plain, item)
            plain.values = item["values"]
        assert not by_id and not new, (by_id, new)
