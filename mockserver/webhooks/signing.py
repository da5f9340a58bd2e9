"""Each provider's signature headers, computed as the provider computes them, so that the
receivers' own libraries (the Metronome SDK's `webhooks.unwrap`, `standardwebhooks`, `svix`)
accept them. Times are the wall clock of the attempt: receivers refuse one 5 minutes off theirs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.utils import formatdate

from mockserver.world.endpoints import SECRET_PREFIX, Endpoint
from mockserver.world.hooks import Event


def metronome_signature(secret: str, date: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of `<date>\\n<body>`, keyed by the secret's UTF-8 bytes."""
    return hmac.new(secret.encode(), date.encode() + b"\n" + body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, event_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks (Svix): `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`,
    the key being the base64 after `whsec_`."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(endpoint: Endpoint, event: Event, now: float) -> dict[str, str]:
    """Every header of one attempt: Metronome's date twice (`X-Metronome-Date`, `Date`) and
    its signature; Meteroid's three `webhook-*` headers, and again as `svix-*`."""
    common = {"Content-Type": "application/json", "User-Agent": f"mockserver-webhooks ({endpoint.api})"}
    if endpoint.api == "metronome":
        date = formatdate(now, usegmt=True)
        signature = metronome_signature(endpoint.secret, date, event.body)
        return {**common, "Date": date, "X-Metronome-Date": date, "Metronome-Webhook-Signature": signature}
    timestamp = str(int(now))
    signed = {
        "id": event.id,
        "timestamp": timestamp,
        "signature": standard_signature(endpoint.secret, event.id, timestamp, event.body),
    }
    return common | {
        f"{prefix}-{name}": value for prefix in ("webhook", "svix") for name, value in signed.items()
    }
