"""Webhook endpoints as values, and the check of one as registered: by the control plane (a
change of the world) or by a fixture's `webhooks` section, alike. Ids and secrets not given
are derived from the seed and a key (the change's sequence number, or the place in the
fixture), so the same registrations give the same endpoints anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import orjson

from mockserver.world.errors import Args, ChangeError
from mockserver.world.ids import derive_uuid

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
# The shape every type of either API has (dotted lowercase words), as the documents state it.
TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
MAX_ENDPOINTS = 100
TIMEOUT_MS = 15_000  # per attempt, as Svix waits
SECRET_PREFIX = "whsec_"
_GROUP = "[A-Za-z0-9+/]{4}"
_PADDED = "(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)"
# A Meteroid secret as a pattern: whsec_ and the base64 of 24 to 64 bytes (8 to 21 whole groups
# of four, or a padded group after 8 to 20, or 64 bytes: 21 groups and `xx==`).
_LAST = f"(?:(?:{_GROUP}){{8,20}}{_PADDED}|(?:{_GROUP}){{21}}[A-Za-z0-9+/]{{2}}==)"
METEROID_SECRET = f"^{SECRET_PREFIX}(?:(?:{_GROUP}){{8,21}}|{_LAST})$"
# An endpoint's URL: http or https, a host (labels of 1 to 63 letters, digits and hyphens between
# dots: an IDN host in punycode, which is what a client can resolve), a port from 1 to 65535,
# then any printable ASCII. The served document states the same pattern.
_PORT = "([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
URL_PATTERN = rf"^https?://[A-Za-z0-9-]{{1,63}}(\.[A-Za-z0-9-]{{1,63}})*\.?(:{_PORT})?([/?#][!-~]*)?$"
FIELDS = frozenset({"id", "url", "api", "secret", "types", "retry_scale", "timeout_ms"})
ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
_ID = re.compile(ID_PATTERN)


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

    def wants(self, api: str, event_type: str) -> bool:
        """Whether it receives an event of this API and type: its API's, of a type it subscribed to."""
        return api == self.api and (self.types is None or event_type in self.types)

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

    @classmethod
    def of(cls, args: Args) -> Endpoint:
        """From its checked form (`check`'s answer)."""
        types = args["types"]
        return cls(
            args["id"],
            args["api"],
            args["url"],
            args["secret"],
            None if types is None else tuple(types),
            args["retry_scale"],
            args["timeout_ms"],
        )


def check(args: Any, seed: int, key: object, taken: Collection[str]) -> Args:
    """An endpoint's fields checked, with an id and a secret derived from `seed` and `key`
    where none is given; ChangeError naming the first field that is wrong."""
    if not isinstance(args, dict):
        raise ChangeError("an endpoint is an object of url, api and options")
    unknown = sorted(set(args) - FIELDS)
    if unknown:
        raise ChangeError(f"{unknown[0]}: unknown field; an endpoint takes {', '.join(sorted(FIELDS))}")
    url, api = _url(args.get("url")), api_of(args.get("api"))
    timeout = _number("timeout_ms", args.get("timeout_ms"), TIMEOUT_MS, 1, 60_000)
    if timeout != int(timeout):
        raise ChangeError("timeout_ms: must be a whole number of milliseconds")
    return {
        "id": _id(args.get("id"), seed, key, taken),
        "url": url,
        "api": api,
        "secret": _secret(api, args.get("secret"), seed, key),
        "types": _types(api, args.get("types")),
        "retry_scale": _number("retry_scale", args.get("retry_scale"), 1, 0, 1),
        "timeout_ms": int(timeout),
    }


def _id(value: Any, seed: int, key: object, taken: Collection[str]) -> str:
    if value is None:
        return derive_uuid(seed, "webhook endpoint", key)
    if not isinstance(value, str) or not _ID.match(value):
        raise ChangeError("id: must be 1 to 64 letters, digits, - or _")
    if value in taken:
        raise ChangeError(f"id: an endpoint {value!r} exists already", "conflict")
    return value


def _url(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 2048:
        raise ChangeError("url: must be an http or https URL (at most 2048 characters)")
    if not re.fullmatch(URL_PATTERN, value):
        raise ChangeError(
            "url: must be an http or https URL: a host of dot-separated labels of 1 to 63 letters,"
            f" digits or hyphens (IDN hosts in punycode), a port from 1 to 65535, got {value!r}"
        )
    return value


def api_of(value: Any) -> str:
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


def _secret(api: str, value: Any, seed: int, key: object) -> str:
    if value is None:
        made = hashlib.blake2b(f"{seed}/webhook secret/{key}".encode(), digest_size=24)
        if api == "meteroid":
            return SECRET_PREFIX + base64.b64encode(made.digest()).decode()
        return made.hexdigest()
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
