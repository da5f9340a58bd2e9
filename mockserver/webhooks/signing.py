"""Each provider's signature headers, computed as the provider computes them, so that the
receivers' own libraries (the Metronome SDK's `webhooks.unwrap`, `standardwebhooks`, `svix`)
accept them. Times are the wall clock of the attempt: receivers refuse one 5 minutes off theirs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.utils import formatdate

from mockserver.world.webhooks import SECRET_PREFIX, Endpoint, Event


def metronome(secret: str, body: bytes, now: float) -> dict[str, str]:
    """Hex HMAC-SHA256 of `<date>\\n<body>`, the date sent as `X-Metronome-Date` and `Date`."""
    date = formatdate(now, usegmt=True)
    signature = hmac.new(secret.encode(), date.encode() + b"\n" + body, hashlib.sha256).hexdigest()
    return {"Date": date, "X-Metronome-Date": date, "Metronome-Webhook-Signature": signature}


def standard(secret: str, event_id: str, body: bytes, now: float) -> dict[str, str]:
    """Standard Webhooks (Svix): `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`,
    the key being the base64 after `whsec_`; sent as `webhook-*` and again as `svix-*`."""
    timestamp = str(int(now))
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    values = {"id": event_id, "timestamp": timestamp, "signature": "v1," + base64.b64encode(digest).decode()}
    return {f"{prefix}-{name}": value for prefix in ("webhook", "svix") for name, value in values.items()}


def headers(endpoint: Endpoint, event: Event, now: float) -> dict[str, str]:
    """Every header of one attempt."""
    signed = (
        metronome(endpoint.secret, event.body, now)
        if endpoint.api == "metronome"
        else standard(endpoint.secret, event.id, event.body, now)
    )
    return {
        "Content-Type": "application/json",
        "User-Agent": f"mockserver-webhooks ({endpoint.api})",
        **signed,
    }
