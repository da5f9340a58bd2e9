"""The Meteroid-style write endpoints: event ingestion, and creating, updating, archiving and
unarchiving customers.

Bodies are read as upstream's server deserializes them (the SDK's `models/` state each
field): a body that does not deserialize is a 400 `text/plain` in axum's words, a body that
is not declared as JSON a 415; a request refused for what it asks is a JSON error
`{"code", "message"}`. Writes are submitted to the timeline as changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web
from multidict import CIMultiDictProxy

from mockserver.meteroid.errors import ApiError, BodyShapeError, not_found
from mockserver.meteroid.render import ADDRESS_KEYS
from mockserver.meteroid.view import MeteroidView
from mockserver.shell.app import Handler, json_response
from mockserver.shell.body import read_json
from mockserver.world import clock
from mockserver.world.errors import Args, ChangeError
from mockserver.world.timeline import Timeline

if TYPE_CHECKING:
    from mockserver.meteroid.routes import Served

MAX_EVENTS = 100
CUSTOMER_TYPES = ("COMPANY", "INDIVIDUAL")  # an individual may be named by first and last name
# What a PUT must hold besides its currency; read as present, their values are not emulated.
REPLACED = ("custom_taxes", "invoicing_emails", "invoicing_entity_id")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "floating point", str: "string", list: "sequence"}.get(
        type(value), "map"
    )


def _object(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BodyShapeError(where, f"invalid type: {_kind(value)}, expected a map")
    return value


def _string(where: str, body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise BodyShapeError(where, f"missing field `{name}`")
        return None
    if not isinstance(value, str):
        raise BodyShapeError(_at(where, name), f"invalid type: {_kind(value)}, expected a string")
    return value


def _boolean(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise BodyShapeError(name, f"invalid type: {_kind(value)}, expected a boolean")
    return bool(value)


def _strings(where: str, value: Any) -> dict[str, str]:
    for key, item in _object(where, value).items():
        if not isinstance(item, str):
            raise BodyShapeError(_at(where, key), f"invalid type: {_kind(item)}, expected a string")
    return value


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def events_of(body: Any, view: MeteroidView) -> list[Args]:
    """`events` deserialized as upstream does; a customer named by its `cus_` id is passed on
    by its UUID, which the world knows it by."""
    raw = _object("", body).get("events")
    if not isinstance(raw, list):
        raise BodyShapeError("", "missing field `events`" if raw is None else "events: expected a sequence")
    if not 1 <= len(raw) <= MAX_EVENTS:
        raise ApiError(400, f"events: a batch holds 1 to {MAX_EVENTS} events, got {len(raw)}")
    world = view.world
    events = []
    for index, item in enumerate(raw):
        where = f"events[{index}]"
        event = _object(where, item)
        key = _string(where, event, "event_id", required=True)
        code = _string(where, event, "code", required=True)
        customer = _string(where, event, "customer_id", required=True)
        ordinal = view.customer_ordinal(customer)  # type: ignore[arg-type]
        checked: Args = {
            "event_id": key,
            "customer_id": customer if ordinal is None else world.customers[ordinal].id,
            "code": code,
        }
        timestamp = _string(where, event, "timestamp")
        if timestamp is not None:
            try:
                clock.parse_timestamp(timestamp)
            except ValueError:
                raise BodyShapeError(
                    f"{where}.timestamp", "premature end of input or invalid characters"
                ) from None
            checked["timestamp"] = timestamp
        if event.get("properties") is not None:
            properties = _strings(f"{where}.properties", event["properties"])
            if properties:
                checked["properties"] = properties
        events.append(checked)
    return events


def _address(where: str, value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    address = _object(where, value)
    return {key: text for key in ADDRESS_KEYS if (text := _string(where, address, key)) is not None}


def customer_fields(body: Any, current_aliases: tuple[str, ...], full: bool) -> Args:
    """A create (`full`, every field), a PUT (`full`) or a PATCH body -> neutral customer fields.
    The Meteroid alias is the customer's first ingest alias."""
    body = _object("", body)
    fields: Args = {}
    if full or "currency" in body:
        currency = _string("", body, "currency", required=full)
        if currency is not None:
            fields["currency"] = currency
    name = _string("", body, "name")
    if body.get("customer_type") == CUSTOMER_TYPES[1] and name is None:
        first, last = _string("", body, "first_name"), _string("", body, "last_name")
        name = " ".join(part for part in (first, last) if part) or None
    if name is not None:
        fields["name"] = name
    for source, target in (("billing_email", "email"), ("phone", "phone"), ("vat_number", "vat_number")):
        if full or source in body:
            fields[target] = _string("", body, source)
    if full or "billing_address" in body:
        fields["address"] = _address("billing_address", body.get("billing_address"))
    if full or "alias" in body:
        alias = _string("", body, "alias")
        rest = [a for a in current_aliases[1:] if a != alias]
        fields["aliases"] = [alias, *rest] if alias else rest
    return fields


def _custom_properties(body: Any, current: dict[str, str], merge: bool) -> dict[str, str] | None:
    """The customer's custom properties after a body: replaced, or merged (a null removes a key);
    None when the body leaves them alone."""
    value = body.get("custom_properties")
    if value is None:
        return None
    given = _object("custom_properties", value)
    result = dict(current) if merge else {}
    for key, item in given.items():
        if item is None and merge:
            result.pop(key, None)
        else:
            result[key] = item if isinstance(item, str) else orjson.dumps(item).decode()
    return result


class MeteroidWrites:
    def __init__(self, timeline: Timeline, choose: Callable[[CIMultiDictProxy[str]], Served]) -> None:
        self.timeline = timeline
        self.choose = choose  # request headers -> the dialect served (`routes.Served`)

    def handlers(self) -> dict[str, Handler]:
        """The handlers by operation id: `openapi.operations` describes and routes them."""
        return {
            "ingestEvents": self.ingest,
            "createCustomer": self.create_customer,
            "replaceCustomer": self.replace_customer,
            "patchCustomer": self.patch_customer,
            "archiveCustomer": self.archive_customer,
            "unarchiveCustomer": self.unarchive_customer,
        }

    def submit(self, kind: str, args: Args, unknown: int = 404, conflict: int = 409) -> Args:
        """Submit a change; a refusal is answered with the status its reason calls for."""
        try:
            return self.timeline.submit(kind, args)[1]
        except ChangeError as exc:
            raise ApiError(exc.status(unknown, conflict), str(exc)) from None

    async def ingest(self, request: web.Request) -> web.Response:
        served = self.choose(request.headers)
        body = await read_json(request)
        events = events_of(body, served.view)
        args = {
            "policy": "meteroid",
            "events": events,
            "backfill": _boolean(body, "allow_backfilling"),
            "partial": _boolean(body, "allow_partial_failures"),
        }
        failures = self.submit("ingest", args, unknown=400)["failures"]
        answer = (
            {"failures": [{"event_id": f["id"], "reason": f["reason"]} for f in failures]} if failures else {}
        )
        return json_response(orjson.dumps(answer), headers=served.headers)

    def _customer(self, request: web.Request, served: Served) -> int:
        ordinal = served.view.customer_ordinal(request.match_info["id_or_alias"])
        if ordinal is None:
            raise not_found("Customer")
        return ordinal

    def _answer(self, served: Served, ordinal: int, status: int = 200) -> web.Response:
        return json_response(served.view.customer_bytes(ordinal), status, served.headers)

    async def create_customer(self, request: web.Request) -> web.Response:
        served = self.choose(request.headers)
        body = await read_json(request)
        fields = customer_fields(body, (), full=True)
        if "name" not in fields:
            individual = CUSTOMER_TYPES[1]
            raise ApiError(400, f"name is required (an {individual} may give first_name or last_name)")
        custom = _custom_properties(body, {}, merge=False)
        if custom is not None:
            fields["custom_fields"] = custom
        result = self.submit("customer.create", {"fields": fields})
        return self._answer(served, self.timeline.world.customer_by_id[result["customer"]], 201)

    async def replace_customer(self, request: web.Request) -> web.Response:
        return await self._update(request, full=True)

    async def patch_customer(self, request: web.Request) -> web.Response:
        return await self._update(request, full=False)

    async def _update(self, request: web.Request, full: bool) -> web.Response:
        served = self.choose(request.headers)
        ordinal = self._customer(request, served)
        body = await read_json(request)
        customer = self.timeline.world.customers[ordinal]
        if full:
            for name in REPLACED:
                if name not in _object("", body):
                    raise BodyShapeError("", f"missing field `{name}`")
        fields = customer_fields(body, customer.aliases, full)
        custom = _custom_properties(body, dict(customer.custom_fields), merge=not full)
        if custom is not None:
            fields["custom_fields"] = custom
        self.submit("customer.update", {"customer": customer.id, "fields": fields})
        return self._answer(served, ordinal)

    async def archive_customer(self, request: web.Request) -> web.Response:
        return self._archiving(request, "customer.archive")

    async def unarchive_customer(self, request: web.Request) -> web.Response:
        return self._archiving(request, "customer.unarchive")

    def _archiving(self, request: web.Request, kind: str) -> web.Response:
        served = self.choose(request.headers)
        customer = self.timeline.world.customers[self._customer(request, served)]
        self.submit(kind, {"customer": customer.id}, conflict=400)
        return web.Response(status=204)
