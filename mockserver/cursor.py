"""Self-contained pagination cursors: a position plus a checksum of the filters, signed.

Any process serving the same fixture derives the same key, so a walk may continue on another
process or after a restart; there is no server-side cursor table to lose. A position is a few
integers (ordinals in the world, which the same fixture and seed always number alike), so a
cursor is short and costs a few microseconds to check.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import struct
from collections.abc import Iterable
from functools import cache

_MAC_BYTES = 12
_FILTER_BYTES = 8
_NUMBER_BYTES = 8
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


class CursorError(ValueError):
    """A cursor this server did not issue, or one issued for other filters."""


@cache
def _numbers(count: int) -> struct.Struct:
    return struct.Struct(f"<{count}q")


def _urlsafe(raw: bytes) -> str:
    """Unpadded URL-safe base64: the one spelling of `raw` a cursor may take."""
    return binascii.b2a_base64(raw, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode()


class CursorCodec:
    def __init__(self, secret: str) -> None:
        key = hashlib.blake2b(secret.encode(), digest_size=32).digest()
        # Keyed BLAKE2 is a MAC in one call, a fraction of HMAC's cost on the request path;
        # copying a keyed state skips hashing the key again for every cursor. The personal
        # string names the cursor layout, so cursors of another layout are refused outright.
        self._keyed = hashlib.blake2b(key=key, digest_size=_MAC_BYTES, person=b"mockserver-cur/2")

    @staticmethod
    def filters_digest(pairs: Iterable[tuple[str, str]]) -> bytes:
        """Order-insensitive checksum of the query parameters a cursor is bound to."""
        canonical = "&".join(f"{k}={v}" for k, v in sorted(pairs))
        return hashlib.blake2b(canonical.encode(), digest_size=_FILTER_BYTES).digest()

    def _mac(self, payload: bytes) -> bytes:
        state = self._keyed.copy()
        state.update(payload)
        return state.digest()

    def encode(self, position: tuple[int, ...], filters: bytes) -> str:
        payload = filters + _numbers(len(position)).pack(*position)
        return _urlsafe(payload + self._mac(payload))

    def decode(self, token: str, filters: bytes) -> tuple[int, ...]:
        try:
            raw = binascii.a2b_base64(token.encode().translate(_FROM_URLSAFE) + b"=" * (-len(token) % 4))
        except (binascii.Error, UnicodeEncodeError):
            raise CursorError("is not a cursor this server issued") from None
        numbers = len(raw) - _MAC_BYTES - _FILTER_BYTES
        if numbers <= 0 or numbers % _NUMBER_BYTES or _urlsafe(raw) != token:
            raise CursorError("is not a cursor this server issued")  # stray or non-canonical characters
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise CursorError("is not a cursor this server issued")
        if payload[:_FILTER_BYTES] != filters:
            raise CursorError("was issued for different filters; start again without it")
        return _numbers(numbers // _NUMBER_BYTES).unpack_from(payload, _FILTER_BYTES)
