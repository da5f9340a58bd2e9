"""The Metronome write endpoints: usage ingestion and its preview, voiding and regenerating
invoices, creating and archiving customers.

Bodies are read as the official SDK writes them (see `metronome/types/v1/*_params.py`); each
refusal is a 400 `{"message"}` naming the field, unless the API answers otherwise (404 for
an unknown customer or invoice, 409 for an ingest alias in use, 413 for a body too large).
Writes are submitted to the timeline as changes; a preview only reads the world.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from mockserver.metronome.errors import ApiError, bad_request, not_found
from mockserver.metronome.params import parse_uuid
from mockserver.metronome.render import Renderer
from mockserver.shell.app import Handler, json_response
from mockserver.shell.body import read_json
from mockserver.world import clock, ingest
from mockserver.world.errors import Args, ChangeError
from mockserver.world.timeline import Timeline

MAX_EVENTS = 100
MAX_NAME = 160  # a longer customer name is cut to this length, as the API does
MODES = ("replace", "merge")  # how previewed events meet the customer's usage; the first is the default
_ID_BODY = b'{"data":{"id":"%s"}}'


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request(f"the body must be a JSON object ({what})")
    return body


def _string(where: str, value: Any, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise bad_request(f"{where} must be a non-empty string")
    return value


def _timestamp(where: str, value: Any) -> int:
    if not isinstance(value, str):
        raise bad_request(f"{where} must be an RFC 3339 timestamp such as 2024-01-01T00:00:00Z")
    try:
        return clock.parse_timestamp(value).floor
    except ValueError:
        raise bad_request(
            f"{where} must be an RFC 3339 timestamp such as 2024-01-01T00:00:00Z, got {value!r}"
        ) from None


def _properties(where: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"{where} must be an object")
    return value


def _aliases(value: Any, required: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(a, str) and a for a in value):
        raise bad_request(
            "ingest_aliases must be an array of non-empty strings" + (" (required)" if required else "")
        )
    return value


def usage_batch(body: Any) -> list[Any]:
    """`[{transaction_id, customer_id, event_type, timestamp, properties?}]`, 1 to 100: each
    event is checked as the world takes it (see `ingest.checker`), field by field."""
    if not isinstance(body, list):
        raise bad_request("the body must be a JSON array of usage events")
    if not 1 <= len(body) <= MAX_EVENTS:
        raise bad_request(f"usage: a batch holds 1 to {MAX_EVENTS} usage events, got {len(body)}")
    for index, event in enumerate(body):
        # Left out, a timestamp is the clock's time; null is no timestamp (the SDK types it a string).
        if isinstance(event, dict) and "timestamp" in event and event["timestamp"] is None:
            raise bad_request(f"usage[{index}].timestamp must be an RFC 3339 timestamp, not null")
    return body


class MetronomeWrites:
    def __init__(self, timeline: Timeline, render: Renderer) -> None:
        self.timeline = timeline
        self.render = render

    def handlers(self) -> dict[str, Handler]:
        """The handlers by operation id: `openapi.operations` describes and routes them."""
        return {
            "ingest": self.ingest,
            "previewEvents": self.preview_events,
            "voidInvoice": self.void,
            "regenerateInvoice": self.regenerate,
            "createCustomer": self.create_customer,
            "archiveCustomer": self.archive_customer,
            "setIngestAliases": self.set_ingest_aliases,
        }

    async def submit(self, kind: str, args: Args, unknown: int = 400, conflict: int = 400) -> Args:
        """Submit a change; a refusal is answered with the status its reason calls for."""
        try:
            return (await self.timeline.submit(kind, args))[1]
        except ChangeError as exc:
            raise ApiError(exc.status(unknown, conflict), str(exc)) from None

    async def ingest(self, request: web.Request) -> web.Response:
        events = usage_batch(await read_json(request))
        await self.submit("ingest", {"policy": "metronome", "events": events})
        return web.Response(status=200)

    async def preview_events(self, request: web.Request) -> web.Response:
        world = self.timeline.world
        text = request.match_info["customer_id"]
        customer = world.customer_by_id.get(parse_uuid("customer_id", text))
        if customer is None:
            raise not_found(f"customer {text} not found")
        body = _object(await read_json(request), "events, mode and skip_zero_qty_line_items")
        mode = body.get("mode", MODES[0])
        if mode not in MODES:
            raise bad_request(f"mode must be {' or '.join(MODES)}, got {mode!r}")
        skip_zero = body.get("skip_zero_qty_line_items", False)
        if not isinstance(skip_zero, bool):
            raise bad_request("skip_zero_qty_line_items must be true or false")
        raw = body.get("events")
        if not isinstance(raw, list):
            raise bad_request("events must be an array of usage events")
        if mode == "merge" and not raw:
            raise bad_request("events must hold at least one event in merge mode")
        events = []
        seen: set[str] = set()
        for index, event in enumerate(raw):
            where = f"events[{index}]"
            if not isinstance(event, dict):
                raise bad_request(f"{where} must be an object")
            code = _string(f"{where}.event_type", event.get("event_type"))
            at = (
                world.now
                if "timestamp" not in event
                else _timestamp(f"{where}.timestamp", event["timestamp"])
            )
            key = _string(f"{where}.transaction_id", event.get("transaction_id"), required=False)
            if key is not None:
                if key in seen:
                    raise bad_request(
                        f"{where}.transaction_id {key!r} appears more than once in this request"
                    )
                seen.add(key)
                if ingest.remembered(world, "metronome", key):
                    continue
            events.append((code, at, _properties(f"{where}.properties", event.get("properties"))))
        invoices = ingest.preview(world, customer, events, merge=mode == "merge")
        items = [self.render.invoice(invoice, skip_zero) for invoice in invoices]
        return json_response(orjson.dumps({"data": items}))

    async def void(self, request: web.Request) -> web.Response:
        invoice = self._id(await read_json(request))
        result = await self.submit("invoice.void", {"invoice": invoice}, unknown=404)
        return json_response(_ID_BODY % result["invoice"].encode())

    async def regenerate(self, request: web.Request) -> web.Response:
        invoice = self._id(await read_json(request))
        result = await self.submit("invoice.regenerate", {"invoice": invoice}, unknown=404)
        return json_response(_ID_BODY % result["invoice"].encode())

    async def create_customer(self, request: web.Request) -> web.Response:
        body = _object(await read_json(request), "name, ingest_aliases, external_id, custom_fields, ...")
        name = _string("name", body.get("name"))
        fields: Args = {"name": name[:MAX_NAME]}  # type: ignore[index]
        aliases = _aliases(body.get("ingest_aliases", []))
        external_id = _string("external_id", body.get("external_id"), required=False)
        if external_id is not None:
            fields["external_id"] = external_id
            if external_id not in aliases:  # the deprecated field is an ingest alias too
                aliases = [*aliases, external_id]
        fields["aliases"] = list(dict.fromkeys(aliases))
        custom = body.get("custom_fields", {})
        if not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values()):
            raise bad_request("custom_fields must be an object of strings")
        fields["custom_fields"] = custom
        result = await self.submit("customer.create", {"fields": fields}, conflict=409)
        world = self.timeline.world
        customer = world.customers[world.customer_by_id[result["customer"]]]
        document = {
            "id": customer.id,
            "external_id": customer.external_id,
            "ingest_aliases": list(customer.aliases),
            "name": customer.name,
            "custom_fields": dict(customer.custom_fields),
        }
        return json_response(orjson.dumps({"data": document}))

    async def archive_customer(self, request: web.Request) -> web.Response:
        customer = self._id(await read_json(request))
        args = {"customer": customer, "end_contracts": True}
        result = await self.submit("customer.archive", args, unknown=404)
        return json_response(_ID_BODY % result["customer"].encode())

    async def set_ingest_aliases(self, request: web.Request) -> web.Response:
        """Replaces the customer's aliases whole; usage kept for a new alias is billed now."""
        customer = parse_uuid("customer_id", request.match_info["customer_id"])
        body = _object(await read_json(request), "ingest_aliases")
        aliases = _aliases(body.get("ingest_aliases"), required=True)
        fields = {"aliases": list(dict.fromkeys(aliases))}
        await self.submit(
            "customer.update", {"customer": customer, "fields": fields}, unknown=404, conflict=409
        )
        return web.Response(status=200)

    @staticmethod
    def _id(body: Any) -> str:
        """`{"id": <uuid>}` -> the id in its canonical spelling."""
        text = _string("id", _object(body, "id").get("id"))
        return parse_uuid("id", text)  # type: ignore[arg-type]
