"""Webhook endpoints, and the events the world's changes give birth to, as values.

Registering or removing an endpoint, and triggering an event by hand, are changes like any
other, so every worker and a replay of the log know them. While endpoints exist, a change's
invoice writes are observed (`Hooks.observe`) and, once it is applied, turned into the events
of both providers (`give_birth`). An event's id derives from the change's sequence number and
its place among that change's events: the same log names the same events anywhere. A world
without endpoints observes nothing. Sending events is the shell's business (`mockserver.webhooks`).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from mockserver.generation.fixture import STATUSES
from mockserver.generation.generator import PAYMENT_CODE, STATUS_CODE
from mockserver.world import clock
from mockserver.world.errors import Args, ChangeError
from mockserver.world.ids import derive_uuid, to_base62_id

if TYPE_CHECKING:
    from mockserver.world.state import World

APIS = ("metronome", "meteroid")
# Meteroid's documented event types (its OpenAPI document's `webhooks`).
METEROID_TYPES = (
    "addon.archived",
    "addon.created",
    "addon.updated",
    "coupon.archived",
    "coupon.created",
    "coupon.updated",
    "credit_note.created",
    "credit_note.finalized",
    "credit_note.voided",
    "customer.created",
    "invoice.consolidated",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.voided",
    "metric.archived",
    "metric.created",
    "metric.updated",
    "plan.archived",
    "plan.created",
    "plan.published",
    "product.archived",
    "product.created",
    "product.updated",
    "quote.accepted",
    "quote.converted",
    "subscription.created",
)
# Metronome's documented types; `alerts.<alert type>` besides these.
METRONOME_TYPES = ("invoice.finalized", "invoice.billing_provider_error")
ALERT_TYPE = re.compile(r"^alerts\.[a-z][a-z0-9_]*$")
# The types the world's changes give birth to, per API, in the order a change's are named.
BORN = {
    "metronome": ("invoice.finalized",),
    "meteroid": (
        "customer.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.voided",
    ),
}
MAX_ENDPOINTS = 100
KEPT_EVENTS = 1_000  # the latest events, kept for a redelivery asked for by id
TIMEOUT_MS = 15_000  # per attempt, as Svix waits
SECRET_PREFIX = "whsec_"


def documented(api: str, event_type: str) -> bool:
    if api == "metronome":
        return event_type in METRONOME_TYPES or bool(ALERT_TYPE.match(event_type))
    return event_type in METEROID_TYPES


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    api: str
    url: str
    secret: str
    types: tuple[str, ...] | None  # None: every type
    retry_scale: float
    timeout_ms: int

    def wants(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types

    def public(self) -> Args:
        return {
            "id": self.id,
            "api": self.api,
            "url": self.url,
            "secret": self.secret,
            "types": None if self.types is None else list(self.types),
            "retry_scale": self.retry_scale,
            "timeout_ms": self.timeout_ms,
        }


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    api: str
    type: str
    body: bytes  # the JSON sent, the same bytes on every attempt
    seq: int  # the change it was born of


class Hooks:
    """A world's endpoints, its latest events, and what the change being applied wrote."""

    def __init__(self, endpoints: dict[str, Endpoint] | None = None) -> None:
        self.endpoints: dict[str, Endpoint] = endpoints or {}
        self.events: OrderedDict[str, Event] = OrderedDict()
        self.born: list[Event] = []  # of the change applied last
        self._observed: list[tuple[dict[int, set[str]], int]] = []

    def copy(self) -> Hooks:
        twin = Hooks(dict(self.endpoints))
        twin.events = OrderedDict(self.events)
        return twin

    def observe(self, written: dict[int, set[str]], first_new: int) -> None:
        """The invoices one write wrote (by the columns written) and the first ordinal it added."""
        self._observed.append((written, first_new))

    def take(self) -> list[tuple[dict[int, set[str]], int]]:
        observed, self._observed = self._observed, []
        return observed


# Checking an endpoint


def _url(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 2048:
        raise ChangeError("url: must be an http or https URL (at most 2048 characters)")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChangeError(f"url: must be an http or https URL with a host, got {value!r}")
    return value


def _api(value: Any) -> str:
    if value not in APIS:
        raise ChangeError(f"api: must be one of {', '.join(APIS)}, got {orjson.dumps(value).decode()}")
    return value


def _types(api: str, value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise ChangeError("types: must be a non-empty list of event types")
    for i, event_type in enumerate(value):
        if not isinstance(event_type, str) or not documented(api, event_type):
            raise ChangeError(f"types[{i}]: {event_type!r} is not a documented {api} event type")
    return sorted(set(value))


def _secret(world: World, api: str, value: Any) -> str:
    if value is None:
        key = hashlib.blake2b(f"{world.seed}/webhook secret/{world.seq + 1}".encode(), digest_size=24)
        if api == "meteroid":
            return SECRET_PREFIX + base64.b64encode(key.digest()).decode()
        return key.hexdigest()
    if not isinstance(value, str) or not value or len(value) > 256:
        raise ChangeError("secret: must be a non-empty string of at most 256 characters")
    if api == "meteroid" and not _standard_secret(value):
        raise ChangeError("secret: a meteroid secret is whsec_ followed by base64 (24 to 64 bytes)")
    return value


def _standard_secret(value: str) -> bool:
    if not value.startswith(SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(value[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        return False
    return 24 <= len(key) <= 64


def _number(name: str, value: Any, default: float, low: float, high: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ChangeError(f"{name}: must be a number from {low:g} to {high:g}")
    if not low <= value <= high:
        raise ChangeError(f"{name}: must be from {low:g} to {high:g}, got {value:g}")
    return value


ENDPOINT_FIELDS = frozenset({"id", "url", "api", "secret", "types", "retry_scale", "timeout_ms"})
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _endpoint_id(world: World, value: Any) -> str:
    if value is None:
        return derive_uuid(world.seed, "webhook endpoint", world.seq + 1)
    if not isinstance(value, str) or not _ID.match(value):
        raise ChangeError("id: must be 1 to 64 letters, digits, - or _")
    if value in world.hooks.endpoints:
        raise ChangeError(f"id: an endpoint {value!r} exists already", "conflict")
    return value


def _only(args: Args, allowed: frozenset[str], kind: str) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ChangeError(f"{unknown[0]}: unknown field; {kind} takes {', '.join(sorted(allowed))}")


def _resolve_create(world: World, args: Args) -> Args:
    _only(args, ENDPOINT_FIELDS, "an endpoint")
    if len(world.hooks.endpoints) >= MAX_ENDPOINTS:
        raise ChangeError(f"at most {MAX_ENDPOINTS} endpoints are registered", "conflict")
    url, api = _url(args.get("url")), _api(args.get("api"))
    timeout = _number("timeout_ms", args.get("timeout_ms"), TIMEOUT_MS, 1, 60_000)
    if timeout != int(timeout):
        raise ChangeError("timeout_ms: must be a whole number of milliseconds")
    return {
        "id": _endpoint_id(world, args.get("id")),
        "url": url,
        "api": api,
        "secret": _secret(world, api, args.get("secret")),
        "types": _types(api, args.get("types")),
        "retry_scale": _number("retry_scale", args.get("retry_scale"), 1, 0, 1),
        "timeout_ms": int(timeout),
    }


def endpoint_of(args: Args) -> Endpoint:
    types = args["types"]
    return Endpoint(
        args["id"],
        args["api"],
        args["url"],
        args["secret"],
        None if types is None else tuple(types),
        args["retry_scale"],
        args["timeout_ms"],
    )


def _apply_create(world: World, args: Args) -> Args:
    endpoint = endpoint_of(args)
    world.hooks.endpoints = {**world.hooks.endpoints, endpoint.id: endpoint}
    return endpoint.public()


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
    api = _api(args.get("api"))
    event_type = args.get("type")
    if not isinstance(event_type, str) or not documented(api, event_type):
        raise ChangeError(f"type: {event_type!r} is not a documented {api} event type")
    payload = args.get("payload", {})
    if not isinstance(payload, dict):
        raise ChangeError("payload: must be a JSON object")
    if not any(e.api == api and e.wants(event_type) for e in world.hooks.endpoints.values()):
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
