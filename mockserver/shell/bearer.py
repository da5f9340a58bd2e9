"""The bearer token of an Authorization header: the one reading of it that auth, the journal,
the fault rules and token isolation share."""

from __future__ import annotations


def readable(header: str) -> bool:
    """Whether the header's bytes were UTF-8 (aiohttp keeps other bytes as lone surrogates,
    which nothing can encode again: a digest of them would fail after the route had run)."""
    if header.isascii():
        return True
    try:
        header.encode()
    except UnicodeEncodeError:
        return False
    return True


def bearer_token(header: str) -> str:
    """The token of `Bearer <token>` (any case of the scheme), stripped; "" when there is none
    or the header is not readable."""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and readable(header) else ""
