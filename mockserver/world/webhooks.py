"""Webhook endpoints, and the events the world's changes give birth to, as values.

Registering or removing an endpoint, and triggering an event by hand, are changes like any
other, so every worker and a replay of the log know them. While endpoints exist, a change's
invoice writes are observed (`Hooks.observe`) and, once it is applied, turned into the events
of both providers (`give_birth`). An event's id derives from the change's sequence number and
its place among that change's events: the same log names the same events anywhere. A world
without endpoints observes nothing. Sending events is the shell's business (`mockserver.webhooks`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from mockserver.world import clock
from mockserver.world.columns import PAYMENT_CODE, STATUS_CODE
from mockserver.world.endpoints import MAX_ENDPOINTS, Endpoint, api_of, check, documented
from mockserver.world.errors import Args, ChangeError
from mockserver.world.hooks import KEPT_EVENTS, Event
from mockserver.world.ids import derive_uuid, to_base62_id
from mockserver.world.spec import STATUSES

if TYPE_CHECKING:
    from mockserver.world.state import World


def _resolve_create(world: World, args: Args) -> Args:
    if len(world.hooks.endpoints) >= MAX_ENDPOINTS:
        raise ChangeError(f"at most {MAX_ENDPOINTS} endpoints are registered", "conflict")
    return check(args, world.seed, world.seq + 1, world.hooks.endpoints)


def _apply_create(world: World, args: Args) -> Args:
    endpoint = Endpoint.of(args)
    world.hooks.endpoints = {**world.hooks.endpoints, endpoint.id: endpoint}
    return endpoint.public()


def _only(args: Args, allowed: frozenset[str], kind: str) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ChangeError(f"{unknown[0]}: unknown field; {kind} takes {', '.join(sorted(allowed))}")


def _resolve_delete(world: World, args: Args) -> Args:
    _only(args, frozenset({"id"}), "webhook.delete")
    if args.get("id") not in world.hooks.endpoints:
        raise ChangeError(f"no webhook endpoint {args.get('id')!r}", "unknown")
    return {"id": args["id"]}


def _apply_delete(world: World, args: Args) -> Args:
    world.hooks.endpoints = {k: v for k, v in world.hooks.endpoints.items() if k != args["id"]}
    return {"deleted": args["id"]}


def _resolve_trigger(world: World, args: Args) -> Args:
    """`{"api", "type", "payload"?}`: any documented type, with the payload given."""
    _only(args, frozenset({"api", "type", "payload"}), "a trigger")
    api = api_of(args.get("api"))
    event_type = args.get("type")
    if not isinstance(event_type, str) or not documented(api, event_type):
        raise ChangeError(f"type: {event_type!r} is not a documented {api} event type")
    payload = args.get("payload", {})
    if not isinstance(payload, dict):
        raise ChangeError("payload: must be a JSON object")
    if not any(e.wants(api, event_type) for e in world.hooks.endpoints.values()):
        raise ChangeError(f"no {api} endpoint wants {event_type} events", "conflict")
    return {"api": api, "type": event_type, "payload": payload}


def _apply_trigger(world: World, args: Args) -> Args:
    return {"api": args["api"], "type": args["type"]}


KINDS = {
    "webhook.create": (_resolve_create, _apply_create),
    "webhook.delete": (_resolve_delete, _apply_delete),
    "webhook.trigger": (_resolve_trigger, _apply_trigger),
}


# Events


def _moment(ts: int) -> str:
    """Meteroid's spelling of an instant in its events: milliseconds and Z."""
    return clock.format_z(ts)[:-1] + ".000Z"


def _facts(world: World, kind: str, args: Args, observed: list) -> list[tuple[str, str, Args]]:
    """What the change did, as (api, type, fields) in a stable order."""
    if kind == "webhook.trigger":
        return [(args["api"], args["type"], args["payload"])]
    facts: list[tuple[str, str, Args]] = []
    if kind == "customer.create":
        customer = world.customers[world.customer_by_id[args["id"]]]
        facts.append(
            (
                "meteroid",
                "customer.created",
                {
                    "customer_id": to_base62_id("cus_", customer.id),
                    "name": customer.name,
                    "alias": customer.alias,
                    "billing_email": customer.email,
                    "invoicing_emails": list(customer.invoicing_emails),
                    "phone": customer.phone,
                    "currency": customer.currency,
                },
            )
        )
    cols = world.cols
    for written, first_new in observed:
        for ordinal in sorted(written):
            fields, status = written[ordinal], cols.status[ordinal]
            happened = [
                ordinal >= first_new,
                "status" in fields and status == STATUS_CODE["finalized"],
                "payment_status" in fields and cols.payment_status[ordinal] == PAYMENT_CODE["paid"],
                "status" in fields and status == STATUS_CODE["void"],
            ]
            types = ("invoice.created", "invoice.finalized", "invoice.paid", "invoice.voided")
            for event_type in (t for t, yes in zip(types, happened, strict=True) if yes):
                if event_type == "invoice.finalized":
                    facts.append(("metronome", event_type, _metronome_invoice(world, ordinal)))
                facts.append(("meteroid", event_type, _meteroid_invoice(world, ordinal)))
    return facts


def _metronome_invoice(world: World, ordinal: int) -> Args:
    cols = world.cols
    return {
        "invoice_id": cols.ids[ordinal],
        "customer_id": world.customers[cols.customer[ordinal]].id,
        "invoice_finalized_date": clock.format_z(cols.issued_at[ordinal]),
    }


def _meteroid_invoice(world: World, ordinal: int) -> Args:
    cols = world.cols
    return {
        "invoice_id": to_base62_id("inv_", cols.ids[ordinal]),
        "customer_id": to_base62_id("cus_", world.customers[cols.customer[ordinal]].id),
        "status": STATUSES[cols.status[ordinal]].upper(),
        "currency": world.currencies[cols.currency[ordinal]],
        "total": world.total(ordinal),
        "tax_amount": cols.tax[ordinal],
        "created_at": _moment(cols.created_at[ordinal]),
    }


def envelope(world: World, api: str, event_id: str, event_type: str, fields: Args) -> bytes:
    """The body each provider sends: Metronome's `properties`, Meteroid's flat fields."""
    if api == "metronome":
        return orjson.dumps({"id": event_id, "type": event_type, "properties": fields})
    return orjson.dumps({"id": event_id, "type": event_type, **fields, "timestamp": _moment(world.now)})


def give_birth(world: World, kind: str, args: Args) -> None:
    """The events of the change just applied (`world.seq`), into `hooks.born` and `hooks.events`."""
    hooks = world.hooks
    facts = _facts(world, kind, args, hooks.take())
    hooks.born = []
    for index, (api, event_type, fields) in enumerate(facts):
        raw = derive_uuid(world.seed, "webhook event", world.seq, index)
        event_id = raw if api == "metronome" else to_base62_id("evt_", raw)
        event = Event(
            event_id, api, event_type, envelope(world, api, event_id, event_type, fields), world.seq
        )
        hooks.born.append(event)
        hooks.events[event_id] = event
    while len(hooks.events) > KEPT_EVENTS:
        hooks.events.popitem(last=False)
