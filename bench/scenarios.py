"""The benchmarked requests, with ids, filters and cursors discovered from the running server.

Nothing is hard-coded about the world: customers, the date window, the status spelling of the
dialect and invoice ids are read from the server's own answers, so the same benchmark works on
any fixture.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.client import Client, ClientError, path_segment, request_target, walk
from bench.responses import CapturedResponse
from bench.rotation import varied_targets

SCENARIOS = ("metronome_list", "metronome_page3", "meteroid_list", "meteroid_get", "varied")
METRONOME = ("metronome_list", "metronome_page3")
METEROID = ("meteroid_list", "meteroid_get")
VARIED = ("varied",)
PAGE_SIZE = 25
DISCOVERY_CONCURRENCY = 8

Period = tuple[datetime, datetime]


Targets = dict[str, list[str]]  # scenario -> its request targets, loaded in turn


@dataclass(frozen=True)
class Scenario:
    """One request target, or a rotation of them loaded in turn, and the mock's responses."""

    name: str
    captures: dict[str, CapturedResponse]  # request target -> response, in rotation order

    @property
    def targets(self) -> list[str]:
        return list(self.captures)

    @property
    def target(self) -> str:
        """The first target: the only one unless the scenario rotates."""
        return next(iter(self.captures))

    @property
    def content_type(self) -> str:
        return next(iter(self.captures.values())).content_type

    @property
    def mean_bytes(self) -> int:
        return round(sum(len(r.body) for r in self.captures.values()) / len(self.captures))


@dataclass
class Plan:
    """What will be benchmarked, what cannot be and why, and what discovery chose."""

    scenarios: list[Scenario] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    choices: dict[str, Any] = field(default_factory=dict)


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    """UTC with `Z`, keeping sub-second precision only when there is some."""
    moment = moment.astimezone(UTC)
    if not moment.microsecond:
        spec = "seconds"
    elif moment.microsecond % 1000:
        spec = "microseconds"
    else:
        spec = "milliseconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


async def invoice_history(client: Client, customer_id: str) -> tuple[int, list[Period]]:
    """Count a customer's invoices and collect their billing periods."""
    count, periods = 0, []
    path = f"/v1/customers/{path_segment(customer_id)}/invoices"
    async for invoice in walk(client, path, [("limit", 100)]):
        count += 1
        if invoice.get("start_timestamp") and invoice.get("end_timestamp"):
            periods.append((parse_time(invoice["start_timestamp"]), parse_time(invoice["end_timestamp"])))
    return count, periods


async def pick_customer(client: Client, choice: str, examine: int) -> tuple[str, int, list[Period], int]:
    """`most`: the customer with the most invoices among the first `examine` listed; `first`:
    the first listed; else an id."""
    if choice in ("most", "first"):
        wanted = 1 if choice == "first" else examine
        ids: list[str] = []
        async for customer in walk(client, "/v1/customers", [("limit", min(wanted, 100))]):
            ids.append(customer["id"])
            if len(ids) == wanted:
                break
        if not ids:
            raise ClientError("GET /v1/customers lists no customers")
    else:
        ids = [choice]
    limit = asyncio.Semaphore(DISCOVERY_CONCURRENCY)

    async def history(customer_id: str) -> tuple[int, list[Period]]:
        async with limit:
            return await invoice_history(client, customer_id)

    histories = await asyncio.gather(*(history(i) for i in ids))
    best = max(range(len(ids)), key=lambda i: histories[i][0])
    return ids[best], *histories[best], len(ids)


def middle_window(periods: list[Period], wanted: int) -> Period | None:
    """The middle of the history (trimming 20%, then 10%, then 0% off each end), stopping at
    the first window holding `wanted` periods so that deep pages exist."""
    if not periods:
        return None
    periods = sorted(periods)
    for trim in (0.2, 0.1, 0.0):
        cut = int(len(periods) * trim)
        kept = periods[cut : len(periods) - cut]
        window = kept[0][0], max(end for _, end in kept)
        inside = sum(window[0] <= start and end <= window[1] for start, end in periods)
        if inside >= wanted:
            break
    return window


async def metronome_targets(client: Client, customer: str, examine: int, plan: Plan) -> Targets:
    customer_id, count, periods, examined = await pick_customer(client, customer, examine)
    window = middle_window(periods, 2 * PAGE_SIZE + 1)
    params: list[tuple[str, str | int]] = [("limit", PAGE_SIZE)]
    if window:
        params += [("starting_on", rfc3339(window[0])), ("ending_before", rfc3339(window[1]))]
    plan.choices["metronome"] = {
        "customer_id": customer_id,
        "customer_invoices": count,
        "customers_examined": examined,
        "starting_on": rfc3339(window[0]) if window else None,
        "ending_before": rfc3339(window[1]) if window else None,
    }
    path = f"/v1/customers/{path_segment(customer_id)}/invoices"
    targets = {"metronome_list": [request_target(path, params)]}
    cursor: str | None = None
    for _ in range(2):
        query = [*params, ("next_page", cursor)] if cursor else params
        cursor = (await client.get_json(request_target(path, query))).get("next_page")
        if not cursor:
            plan.skipped["metronome_page3"] = (
                f"the window holds at most {2 * PAGE_SIZE} invoices of customer {customer_id}"
            )
            return targets
    targets["metronome_page3"] = [request_target(path, [*params, ("next_page", cursor)])]
    return targets


async def meteroid_targets(client: Client, plan: Plan) -> Targets:
    unfiltered = await client.get_json(request_target("/api/v1/invoices", [("per_page", 100)]))
    seen = Counter(invoice["status"] for invoice in unfiltered["data"])
    if not seen:
        raise ClientError("GET /api/v1/invoices lists no invoices")
    statuses = [status for status, _ in seen.most_common(2)]
    params: list[tuple[str, str | int]] = [("per_page", PAGE_SIZE)]
    params += [("statuses", status) for status in statuses]
    list_target = request_target("/api/v1/invoices", params)
    invoice_id = (await client.get_json(list_target))["data"][0]["id"]
    plan.choices["meteroid"] = {"statuses": statuses, "invoice_id": invoice_id}
    return {
        "meteroid_list": [list_target],
        "meteroid_get": [f"/api/v1/invoices/{path_segment(invoice_id)}"],
    }


async def capture(client: Client, name: str, targets: list[str], plan: Plan) -> None:
    """The scenario with the mock's response to each of its targets, or skipped at the first
    that is not a 200."""
    captures: dict[str, CapturedResponse] = {}
    for target in targets:
        response = await client.fetch(target)
        if response.status != 200:
            plan.skipped[name] = f"GET {target} -> {response.status}"
            return
        captures[target] = response
    plan.scenarios.append(Scenario(name, captures))


async def plan_scenarios(base_url: str, selected: list[str], customer: str, examine: int = 200) -> Plan:
    """Discover the targets of the selected scenarios and capture the mock's responses."""
    plan = Plan()
    targets: Targets = {}
    async with Client(base_url) as client:
        families = (
            (METRONOME, lambda: metronome_targets(client, customer, examine, plan)),
            (METEROID, lambda: meteroid_targets(client, plan)),
            (VARIED, lambda: varied_targets(client, examine, plan.choices.setdefault("varied", {}))),
        )
        for names, discover in families:
            if not set(names) & set(selected):
                continue
            try:
                targets.update(await discover())
            except ClientError as error:
                plan.skipped.update({n: f"discovery failed: {error}" for n in names})
            except (KeyError, IndexError, TypeError, ValueError) as error:
                why = f"discovery failed: unexpected response shape ({error!r})"
                plan.skipped.update(dict.fromkeys(names, why))
        for name in selected:
            if name in targets:
                await capture(client, name, targets[name], plan)
    plan.skipped = {name: why for name, why in plan.skipped.items() if name in selected}
    return plan
