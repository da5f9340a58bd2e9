"""Changes to customers and to finalized invoices: create, update, archive and unarchive a
customer; void an invoice and regenerate a voided one.

Ids of what a change creates derive from the seed and the change's sequence number (or the
invoice it stands in for), never from randomness or the wall clock, and are logged with the
change, so that a replay creates the same entities byte for byte.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable
from typing import Any

from mockserver.world import ingest, lifecycle
from mockserver.world.columns import PAYMENT_CODE, STATUS_CODE
from mockserver.world.errors import Args, ChangeError
from mockserver.world.generator import tax_of
from mockserver.world.ids import derive_uuid
from mockserver.world.metering import copied
from mockserver.world.model import Customer, Shipping, TaxRate
from mockserver.world.spec import Address
from mockserver.world.state import World

_ADDRESS_KEYS = frozenset(f.name for f in dataclasses.fields(Address))
CURRENCY_PATTERN = "^[A-Z]{3}$"  # an ISO 4217 code; what the APIs' documents state too
_CURRENCY = re.compile(CURRENCY_PATTERN)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ChangeError(f"{name} must be a non-empty string")
    return value


def _optional_text(name: str, value: Any) -> str | None:
    return None if value is None else _text(name, value)


def _aliases(name: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ChangeError(f"{name} must be a list of strings")
    texts = [_text(f"{name}[{i}]", alias) for i, alias in enumerate(value)]
    if len(set(texts)) != len(texts):
        raise ChangeError(f"{name} holds an alias twice")
    return texts


def _strings(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ChangeError(f"{name} must be an object of strings")
    return dict(sorted(value.items()))


def _address(name: str, value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not _ADDRESS_KEYS.issuperset(value):
        raise ChangeError(f"{name} must be an object of {', '.join(sorted(_ADDRESS_KEYS))}")
    return {key: _text(f"{name}.{key}", text) for key, text in sorted(value.items()) if text is not None}


def _currency(name: str, value: Any) -> str:
    text = _text(name, value)
    if not _CURRENCY.fullmatch(text):
        raise ChangeError(f"{name} must be a three-letter currency code such as USD, got {text!r}")
    return text


def _optional_flag(name: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ChangeError(f"{name} must be true, false or null")
    return value


def _texts(name: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ChangeError(f"{name} must be a list of strings")
    return [_text(f"{name}[{i}]", item) for i, item in enumerate(value)]


def _kind(name: str, value: Any) -> str | None:
    if value is not None and value not in KINDS_OF_CUSTOMER:
        raise ChangeError(f"{name} must be one of {', '.join(KINDS_OF_CUSTOMER)}, got {value!r}")
    return value


def _taxes(name: str, value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise ChangeError(f"{name} must be a list of tax rates")
    taxes = []
    for i, tax in enumerate(value):
        if not isinstance(tax, dict) or set(tax) != _TAX_KEYS:
            raise ChangeError(f"{name}[{i}] must be an object of {', '.join(sorted(_TAX_KEYS))}")
        taxes.append({key: _text(f"{name}[{i}].{key}", tax[key]) for key in sorted(tax)})
    return taxes


def _shipping(name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("same_as_billing"), bool):
        raise ChangeError(f"{name} must be an object with same_as_billing (a boolean) and address")
    if not {"same_as_billing", "address"}.issuperset(value):
        raise ChangeError(f"{name} holds only same_as_billing and address")
    return {
        "same_as_billing": value["same_as_billing"],
        "address": _address(f"{name}.address", value.get("address")),
    }


KINDS_OF_CUSTOMER = ("company", "individual")
_TAX_KEYS = frozenset(f.name for f in dataclasses.fields(TaxRate))

# Customer fields a change may set, and the check of each value.
FIELDS: dict[str, Callable[[str, Any], Any]] = {
    "name": _text,
    "aliases": _aliases,
    "external_id": _text,
    "email": _optional_text,
    "phone": _optional_text,
    "currency": _currency,
    "address": _address,
    "vat_number": _optional_text,
    "custom_fields": _strings,
    "kind": _kind,
    "first_name": _optional_text,
    "last_name": _optional_text,
    "invoicing_emails": _texts,
    "locales": _texts,
    "custom_taxes": _taxes,
    "tax_exempt": _optional_flag,
    "exemption_reason": _optional_text,
    "legal_number": _optional_text,
    "buyer_reference": _optional_text,
    "shipping": _shipping,
    "invoicing_entity": _optional_text,
    "connected_account": _optional_text,
}


def _fields(world: World, values: Any, ordinal: int | None) -> Args:
    """Customer fields checked; an alias another customer holds is a conflict."""
    if not isinstance(values, dict):
        raise ChangeError("customer fields must be an object")
    checked = {}
    for name, value in values.items():
        check = FIELDS.get(name)
        if check is None:
            raise ChangeError(f"unknown customer field {name!r}; expected one of {', '.join(FIELDS)}")
        checked[name] = check(name, value)
    for alias in checked.get("aliases", ()):
        holder = world.customer_ordinal(alias)
        if holder is not None and holder != ordinal:
            raise ChangeError(
                f"ingest alias {alias!r} is already used by customer {world.customers[holder].id}", "conflict"
            )
    return checked


def _customer(world: World, args: Args) -> int:
    text = args.get("customer")
    ordinal = world.customer_by_id.get(text) if isinstance(text, str) else None
    if ordinal is None:
        raise ChangeError(f"customer {text} not found", "unknown")
    return ordinal


def _only(args: Args, allowed: set[str], kind: str) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ChangeError(f"{kind}: unknown field {unknown[0]!r}")


def _with_fields(customer: Customer, fields: Args, now: int) -> Customer:
    changes: dict[str, Any] = {"updated_at": now}
    for name, value in fields.items():
        if name in ("aliases", "invoicing_emails", "locales"):
            changes[name] = tuple(value)
        elif name == "address":
            changes[name] = None if value is None else Address(**value)
        elif name == "custom_fields":
            changes[name] = tuple(value.items())
        elif name == "custom_taxes":
            changes[name] = tuple(TaxRate(**tax) for tax in value)
        elif name == "shipping" and value is not None:
            address = value["address"]
            changes[name] = Shipping(
                value["same_as_billing"], None if address is None else Address(**address)
            )
        else:
            changes[name] = value
    if "currency" in fields:
        changes["tax_name"], changes["tax_rate"] = tax_of(fields["currency"])
    return dataclasses.replace(customer, **changes)


# customer.create


def _resolve_create(world: World, args: Args) -> Args:
    _only(args, {"id", "fields"}, "customer.create")
    fields = _fields(world, args.get("fields"), None)
    if "name" not in fields:
        raise ChangeError("name is required")
    customer_id = args.get("id") or derive_uuid(world.seed, "created customer", world.seq + 1)
    try:
        customer_id = str(uuid.UUID(customer_id))
    except (TypeError, ValueError):
        raise ChangeError(f"id must be a UUID, got {customer_id!r}") from None
    if customer_id in world.customer_by_id:
        raise ChangeError(f"a customer with id {customer_id} exists already", "conflict")
    fields.setdefault("aliases", [])
    fields.setdefault("external_id", fields["aliases"][0] if fields["aliases"] else customer_id)
    fields.setdefault("currency", max(world.fixture.profile.currencies, key=lambda pair: pair[1])[0])
    return {"id": customer_id, "fields": fields}


def _apply_create(world: World, args: Args) -> Args:
    now, profile = world.now, world.fixture.profile
    blank = Customer(
        ordinal=len(world.customers),
        id=args["id"],
        name="",
        aliases=(),
        external_id="",
        email=None,
        phone=None,
        address=Address(),
        currency="",
        vat_number=None,
        custom_fields=(),
        created_at=now,
        updated_at=now,
        archived_at=None,
        tax_name="",
        tax_rate="0",
        billing_provider=profile.billing_provider,
        salesforce_account_id=None,
        profile=profile,
    )
    with world.changing(now) as change:
        change.customer(_with_fields(blank, args["fields"], now))
    ingest.attribute(world, blank.ordinal)
    return {"customer": args["id"]}


# customer.update, customer.archive, customer.unarchive


def _resolve_update(world: World, args: Args) -> Args:
    _only(args, {"customer", "fields"}, "customer.update")
    ordinal = _customer(world, args)
    return {"customer": world.customers[ordinal].id, "fields": _fields(world, args.get("fields"), ordinal)}


def _apply_update(world: World, args: Args) -> Args:
    ordinal = world.customer_by_id[args["customer"]]
    with world.changing(world.now) as change:
        change.customer(_with_fields(world.customers[ordinal], args["fields"], world.now))
    if "aliases" in args["fields"]:
        ingest.attribute(world, ordinal)
    return {"customer": args["customer"]}


# Why Meteroid refuses to archive a customer, in its server's words.
LIVE_SUBSCRIPTIONS = (
    "Invalid input: Cannot archive customer with active subscriptions. "
    "Cancel all active subscriptions before archiving."
)


def _running(world: World, customer: int) -> list[int]:
    """The customer's contracts that have not ended by now (started or not)."""
    now = world.now
    return [
        c.ordinal
        for c in world.contracts
        if c.customer == customer and (c.ends_at is None or c.ends_at > now)
    ]


def _resolve_archive(world: World, args: Args) -> Args:
    """`{"customer", "end_contracts"?}`: with `end_contracts` (Metronome) its contracts end and
    its drafts are voided; without (Meteroid), a customer with a live contract is refused."""
    _only(args, {"customer", "end_contracts"}, "customer.archive")
    customer = world.customers[_customer(world, args)]
    if customer.archived_at is not None:
        raise ChangeError(f"customer {customer.id} is archived", "conflict")
    ending = args.get("end_contracts", False)
    if not isinstance(ending, bool):
        raise ChangeError("customer.archive: end_contracts must be a boolean")
    live = [o for o in _running(world, customer.ordinal) if world.contracts[o].starts_at <= world.now]
    if live and not ending:
        raise ChangeError(LIVE_SUBSCRIPTIONS)
    return {"customer": customer.id, **({"end_contracts": True} if ending else {})}


def _apply_archive(world: World, args: Args) -> Args:
    """Archived now; with `end_contracts`, its contracts end now, its drafts are void and no
    period opens for it again."""
    now = world.now
    ordinal = world.customer_by_id[args["customer"]]
    cols, draft, void = world.cols, STATUS_CODE["draft"], STATUS_CODE["void"]
    with world.changing(now) as change:
        change.customer(dataclasses.replace(world.customers[ordinal], archived_at=now, updated_at=now))
        if args.get("end_contracts"):
            for contract in _running(world, ordinal):
                world.contracts[contract] = dataclasses.replace(world.contracts[contract], ends_at=now)
                world.periods.pop(contract, None)
            for invoice in world.by_customer[ordinal]:
                if cols.status[invoice] == draft:
                    change.set(invoice, status=void)
                    change.note(invoice, voided_at=now)
    return {"customer": args["customer"]}


def _resolve_unarchive(world: World, args: Args) -> Args:
    _only(args, {"customer"}, "customer.unarchive")
    customer = world.customers[_customer(world, args)]
    if customer.archived_at is None:
        raise ChangeError(f"customer {customer.id} is not archived", "conflict")
    return {"customer": customer.id}


def _apply_unarchive(world: World, args: Args) -> Args:
    now = world.now
    customer = world.customers[world.customer_by_id[args["customer"]]]
    with world.changing(now) as change:
        change.customer(dataclasses.replace(customer, archived_at=None, updated_at=now))
    return {"customer": args["customer"]}


# invoice.void, invoice.regenerate


def _invoice(world: World, args: Args, kind: str) -> int:
    _only(args, {"invoice"}, kind)
    text = args.get("invoice")
    ordinal = world.invoice_by_id.get(text) if isinstance(text, str) else None
    if ordinal is None:
        raise ChangeError(f"invoice {text} not found", "unknown")
    return ordinal


def _resolve_void(world: World, args: Args) -> Args:
    ordinal = _invoice(world, args, "invoice.void")
    status = world.cols.status[ordinal]
    if status == STATUS_CODE["void"]:
        raise ChangeError(f"invoice {args['invoice']} is void already", "conflict")
    if status == STATUS_CODE["draft"]:
        raise ChangeError(f"invoice {args['invoice']} is a draft: only a finalized invoice can be voided")
    return {"invoice": world.cols.ids[ordinal]}


def _apply_void(world: World, args: Args) -> Args:
    ordinal = world.invoice_by_id[args["invoice"]]
    values = {"status": STATUS_CODE["void"]}
    if world.cols.payment_status[ordinal] == PAYMENT_CODE["processing"]:
        values["payment_status"] = PAYMENT_CODE["unpaid"]  # its collection stops
    with world.changing(world.now) as change:
        change.set(ordinal, **values)
        change.note(ordinal, voided_at=world.now)
    return {"invoice": args["invoice"]}


def regenerated_id(world: World, invoice_id: str) -> str:
    return derive_uuid(world.seed, "regenerated", invoice_id)


def _resolve_regenerate(world: World, args: Args) -> Args:
    ordinal = _invoice(world, args, "invoice.regenerate")
    if world.cols.status[ordinal] != STATUS_CODE["void"]:
        raise ChangeError(f"invoice {args['invoice']} is not void: only a voided invoice can be regenerated")
    invoice_id = world.cols.ids[ordinal]
    if regenerated_id(world, invoice_id) in world.invoice_by_id:
        raise ChangeError(f"invoice {invoice_id} has been regenerated already", "conflict")
    return {"invoice": invoice_id}


def _apply_regenerate(world: World, args: Args) -> Args:
    """A finalized copy of the voided invoice, priced again, issued now and unpaid."""
    old = world.invoice_by_id[args["invoice"]]
    cols, now = world.cols, world.now
    columns = {name: column[old] for name, column in cols.__dict__.items() if name != "ids"}
    customer = cols.customer[old]
    columns.update(
        seq=len(world.by_customer[customer]),
        status=STATUS_CODE["finalized"],
        issued_at=now,
        created_at=now,
        paid=0,
        payment_status=PAYMENT_CODE["unpaid"],
    )
    new_id = regenerated_id(world, args["invoice"])
    with world.changing(now) as change:
        ordinal = change.add(new_id, **columns)
        change.note(ordinal, regenerated_from=args["invoice"])
        if old in world.usage:
            world.usage[ordinal] = copied(world.usage[old])
        if columns["coupon_pct"] >= 0 and old not in world.pinned:
            amounts = lifecycle.draft_amounts(world, ordinal, columns["period_end"])
            change.set(ordinal, **amounts._asdict())
    return {"invoice": new_id}


KINDS: dict[str, tuple[Callable[[World, Args], Args], Callable[[World, Args], Args]]] = {
    "customer.create": (_resolve_create, _apply_create),
    "customer.update": (_resolve_update, _apply_update),
    "customer.archive": (_resolve_archive, _apply_archive),
    "customer.unarchive": (_resolve_unarchive, _apply_unarchive),
    "invoice.void": (_resolve_void, _apply_void),
    "invoice.regenerate": (_resolve_regenerate, _apply_regenerate),
}
