"""The receivers' checks: `standardwebhooks` for Meteroid's, and a transcription of the
official Metronome SDK's `webhooks.verifySignature` (TypeScript) for Metronome's."""

from __future__ import annotations

import hashlib
import hmac
import time
from email.utils import parsedate_to_datetime

from standardwebhooks.webhooks import Webhook

TOLERANCE_MS = 5 * 60 * 1000


def metronome(body: str, headers: dict[str, str], secret: str) -> None:
    """Raises ValueError as the SDK throws: a missing header, a date 5 minutes off, a mismatch."""
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_date, msg_signature = lowered.get("x-metronome-date"), lowered.get("metronome-webhook-signature")
    if msg_date is None or msg_signature is None:
        raise ValueError("missing a required header")
    now = time.time() * 1000
    timestamp_ms = parsedate_to_datetime(msg_date).timestamp() * 1000
    if now - timestamp_ms > TOLERANCE_MS:
        raise ValueError("Webhook timestamp is too old")
    if timestamp_ms > now + TOLERANCE_MS:
        raise ValueError("Webhook timestamp is too new")
    expected = hmac.new(secret.encode(), f"{msg_date}\n{body}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(msg_signature.encode(), expected.encode()):
        raise ValueError("The given webhook signature does not match the expected signature")


def meteroid(body: bytes, headers: dict[str, str], secret: str) -> dict:
    """What `standardwebhooks` makes of it (it raises WebhookVerificationError if it refuses)."""
    return Webhook(secret).verify(body, headers)


def svix_copies(headers: dict[str, str]) -> dict[str, str]:
    """The `svix-*` headers under the `webhook-*` names, to verify them alike."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return {f"webhook-{name}": lowered[f"svix-{name}"] for name in ("id", "timestamp", "signature")}
