"""The bearer token of an Authorization header: the one reading of it that auth, the journal,
the fault rules and token isolation share."""

from __future__ import annotations


def bearer_token(header: str) -> str:
    """The token of `Bearer <token>` (any case of the scheme), stripped; "" when there is none."""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
