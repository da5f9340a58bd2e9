"""The Meteroid-style write endpoints: event ingestion, and creating, updating, archiving and
unarchiving customers.

Bodies are read as upstream's server deserializes them (the SDK's `models/` state each
field): a body that does not deserialize is a 400 `text/plain` in axum's words, a body that
is not declared as JSON a 415; a request refused for what it asks is a JSON error
`{"code", "message"}`. Writes are submitted to the timeline as changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from mockserver.meteroid.errors import ApiError, BodyShapeError, not_found
from mockserver.meteroid.render import ADDRESS_KEYS
from mockserver.meteroid.view import MeteroidView
from mockserver.shell.app import Handler, json_response
from mockserver.shell.body import read_json
from mockserver.world import clock
from mockserver.world.errors import Args, ChangeError
from mockserver.world.model import Customer
from mockserver.world.timeline import Timeline

MAX_EVENTS = 100
CUSTOMER_TYPES = ("COMPANY", "INDIVIDUAL")  # an individual is named by first and last name
INDIVIDUAL_NEEDS = "INDIVIDUAL requires first_name, last_name, and a billing-address country"
# What a PUT must hold besides its currency; read as present, their values are not emulated.
REPLACED = ("custom_taxes", "invoicing_emails", "invoicing_entity_id")
TAX_KEYS = ("name", "rate", "tax_code")  # a custom tax rate, as the SDK's `CustomTaxRate`
RATE = re.compile(r"[0-9]+(\.[0-9]+)?")  # a tax rate: an exact unsigned decimal
ENTITY_ID = re.compile(r"ive_[0-9A-Za-z]{1,22}")


class Served(Protocol):
    """One dialect as the routes serve it (`routes.Served`): what a write's answer reads."""

    view: MeteroidView
    headers: CIMultiDict[str]


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
    by its UUID, which the world knows it by. What many events of a batch share (a customer,
    a timestamp) is looked up once."""
    raw = _object("", body).get("events")
    if not isinstance(raw, list):
        raise BodyShapeError("", "missing field `events`" if raw is None else "events: expected a sequence")
    if not 1 <= len(raw) <= MAX_EVENTS:
        raise ApiError(400, f"events: a batch holds 1 to {MAX_EVENTS} events, got {len(raw)}")
    customers = view.world.customers
    ids: dict[str, str] = {}  # customer as sent -> as passed on
    stamps: set[str] = set()  # timestamps that parse
    events = []
    for index, item in enumerate(raw):
        event = item if _plain(item) else _shaped(f"events[{index}]", item)
        customer = event["customer_id"]
        found = ids.get(customer)
        if found is None:
            ordinal = view.customer_ordinal(customer)
            found = ids[customer] = customer if ordinal is None else customers[ordinal].id
        checked: Args = {"event_id": event["event_id"], "customer_id": found, "code": event["code"]}
        timestamp = event.get("timestamp")
        if timestamp is not None:
            if timestamp not in stamps:
                try:
                    clock.parse_timestamp(timestamp)
                except ValueError:
                    raise BodyShapeError(
                        f"events[{index}].timestamp", "premature end of input or invalid characters"
                    ) from None
                stamps.add(timestamp)
            checked["timestamp"] = timestamp
        properties = event.get("properties")
        if properties:
            checked["properties"] = properties
        events.append(checked)
    return events


_TEXTS = (str, type(None))


def _plain(event: Any) -> bool:
    """Whether an event deserializes as it stands, as most do: its ids and code strings, its
    timestamp a string or absent, its properties an object of strings or absent."""
    if type(event) is not dict:
        return False
    get = event.get
    if not (
        type(get("event_id")) is str
        and type(get("code")) is str
        and type(get("customer_id")) is str
        and isinstance(get("timestamp"), _TEXTS)
    ):
        return False
    properties = get("properties")
    if properties is None:
        return True
    if type(properties) is not dict:
        return False
    for value in properties.values():  # noqa: SIM110 (a generator costs more than a property or two)
        if type(value) is not str:
            return False
    return True


def _shaped(where: str, item: Any) -> dict[str, Any]:
    """An event that is not plain, field by field: the first that does not deserialize named
    as upstream names it."""
    event = _object(where, item)
    for name in ("event_id", "code", "customer_id"):
        _string(where, event, name, required=True)
    _string(where, event, "timestamp")
    if event.get("properties") is not None:
        _strings(f"{where}.properties", event["properties"])
    return event


def _address(where: str, value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    address = _object(where, value)
    return {key: text for key in ADDRESS_KEYS if (text := _string(where, address, key)) is not None}


def _strings_list(where: str, value: Any) -> list[str]:
    """A list of strings; null is an empty one."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BodyShapeError(where, f"invalid type: {_kind(value)}, expected a sequence")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise BodyShapeError(f"{where}[{index}]", f"invalid type: {_kind(item)}, expected a string")
    return value


def _taxes(where: str, value: Any) -> list[dict[str, str]]:
    """`[{name, rate, tax_code}]` -> the world's tax rates; null is none."""
    if value is not None and not isinstance(value, list):
        raise BodyShapeError(where, f"invalid type: {_kind(value)}, expected a sequence")
    taxes = []
    for index, item in enumerate(value or []):
        tax = _object(f"{where}[{index}]", item)
        name, rate, code = (_string(f"{where}[{index}]", tax, key, required=True) for key in TAX_KEYS)
        if not RATE.fullmatch(rate):  # type: ignore[arg-type]
            raise BodyShapeError(
                f"{where}[{index}].rate", "invalid decimal: expected digits, a point and digits"
            )
        taxes.append({"name": name, "rate": rate, "code": code})
    return taxes


def _flag(where: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise BodyShapeError(where, f"invalid type: {_kind(value)}, expected a boolean")
    return value


def _customer_type(where: str, value: Any) -> str | None:
    if value is None:
        return None
    if value not in CUSTOMER_TYPES:
        variants = ", ".join(f"`{t}`" for t in CUSTOMER_TYPES)
        raise BodyShapeError(where, f"unknown variant `{value}`, expected one of {variants}")
    return value.lower()


def _shipping(where: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    shipping = _object(where, value)
    same = shipping.get("same_as_billing")
    if not isinstance(same, bool):
        problem = "missing field `same_as_billing`" if same is None else "expected a boolean"
        raise BodyShapeError(where, problem)
    return {"same_as_billing": same, "address": _address(f"{where}.address", shipping.get("address"))}


def _text_field(where: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise BodyShapeError(where, f"invalid type: {_kind(value)}, expected a string")
    return value


def _entity(where: str, value: Any) -> str | None:
    if value is not None and not (isinstance(value, str) and ENTITY_ID.fullmatch(value)):
        raise BodyShapeError(where, "invalid invoicing entity id")
    return value


# Request fields read one by one: (request name, customer field, reader). A full request
# (create or PUT) clears a field it leaves out, except those in KEPT_WHEN_OMITTED.
_READERS: tuple[tuple[str, str, Callable[[str, Any], Any]], ...] = (
    ("billing_email", "email", _text_field),
    ("phone", "phone", _text_field),
    ("vat_number", "vat_number", _text_field),
    ("legal_number", "legal_number", _text_field),
    ("buyer_reference", "buyer_reference", _text_field),
    ("exemption_reason", "exemption_reason", _text_field),
    ("first_name", "first_name", _text_field),
    ("last_name", "last_name", _text_field),
    ("customer_type", "kind", _customer_type),
    ("is_tax_exempt", "tax_exempt", _flag),
    ("invoicing_emails", "invoicing_emails", _strings_list),
    ("custom_taxes", "custom_taxes", _taxes),
    ("billing_address", "address", lambda where, value: _address(where, value)),
    ("shipping_address", "shipping", _shipping),
    ("invoicing_entity_id", "invoicing_entity", _entity),
    ("connected_account_id", "connected_account", _text_field),
)
# What a PUT leaves as it is when the body omits it (a full replace does not blank a person's
# name, the SDK says); the connected account is set on create only.
KEPT_WHEN_OMITTED = frozenset({"first_name", "last_name", "customer_type", "connected_account_id"})


def customer_fields(body: Any, current: Customer | None, full: bool) -> Args:
    """A create (no `current`), a PUT (`full`) or a PATCH body -> neutral customer fields.
    The Meteroid alias is the customer's first ingest alias."""
    body = _object("", body)
    fields: Args = {}
    if full or "currency" in body:
        currency = _string("", body, "currency", required=full)
        if currency is not None:
            fields["currency"] = currency
    creating = current is None
    for source, target, read in _READERS:
        omitted = source not in body
        if omitted and not (full and (creating or source not in KEPT_WHEN_OMITTED)):
            continue
        fields[target] = read(source, body.get(source))
    name = _string("", body, "name")

    def now(field: str) -> Any:
        """A field as the body leaves it: as sent, else as the customer has it."""
        return fields.get(field, getattr(current, field, None))

    if creating and now("kind") is None:
        fields["kind"] = CUSTOMER_TYPES[0].lower()  # the SDK: it defaults to COMPANY
    if now("kind") == CUSTOMER_TYPES[1].lower():
        address = now("address")  # as sent (an object), or as the customer has it
        country = address.get("country") if isinstance(address, dict) else getattr(address, "country", None)
        if not (now("first_name") and now("last_name") and country):
            raise ApiError(400, f"Invalid input: {INDIVIDUAL_NEEDS}")
        name = f"{now('first_name')} {now('last_name')}"
    if name is not None:
        fields["name"] = name
    if full or "preferred_locales" in body or "invoicing_language" in body:
        locales = _strings_list("preferred_locales", body.get("preferred_locales"))
        language = _text_field("invoicing_language", body.get("invoicing_language"))
        fields["locales"] = locales if "preferred_locales" in body or language is None else [language]
    if full or "alias" in body:
        alias = _string("", body, "alias")
        aliases = () if current is None else current.aliases
        rest = [a for a in aliases[1:] if a != alias]
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

    async def submit(self, kind: str, args: Args, unknown: int = 404, conflict: int = 409) -> Args:
        """Submit a change; a refusal is answered with the status its reason calls for."""
        try:
            return (await self.timeline.submit(kind, args))[1]
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
        failures = (await self.submit("ingest", args, unknown=400))["failures"]
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
        fields = customer_fields(body, None, full=True)
        if "name" not in fields:
            individual = CUSTOMER_TYPES[1]
            raise ApiError(400, f"name is required (an {individual} gives first_name and last_name)")
        custom = _custom_properties(body, {}, merge=False)
        if custom is not None:
            fields["custom_fields"] = custom
        result = await self.submit("customer.create", {"fields": fields})
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
        fields = customer_fields(body, customer, full)
        custom = _custom_properties(body, dict(customer.custom_fields), merge=not full)
        if custom is not None:
            fields["custom_fields"] = custom
        await self.submit("customer.update", {"customer": customer.id, "fields": fields})
        return self._answer(served, ordinal)

    async def archive_customer(self, request: web.Request) -> web.Response:
        return await self._archiving(request, "customer.archive")

    async def unarchive_customer(self, request: web.Request) -> web.Response:
        return await self._archiving(request, "customer.unarchive")

    async def _archiving(self, request: web.Request, kind: str) -> web.Response:
        served = self.choose(request.headers)
        customer = self.timeline.world.customers[self._customer(request, served)]
        await self.submit(kind, {"customer": customer.id}, conflict=400)
        return web.Response(status=204)
