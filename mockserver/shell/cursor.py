"""Self-contained pagination cursors: where the next page starts, bound to the filters, signed.

Any process serving the same fixture derives the same key, so a walk may continue on another
process or after a restart; there is no server-side cursor table to lose. A cursor holds two
integers (the next page's first entity, and its place in the walk) and a checksum of the
filters: 36 bytes, 48 characters with no padding, so that the only spelling of a cursor is the
one issued and checking one costs a few microseconds.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import struct
from collections.abc import Iterable

_MAC_BYTES = 12
_FILTER_BYTES = 8
_PAIR = struct.Struct("<qq")
_TOKEN_LENGTH = (_FILTER_BYTES + _PAIR.size + _MAC_BYTES) * 4 // 3  # a multiple of 3 bytes: no padding
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# Back to the standard alphabet; the standard alphabet's own "+" and "/" become a character
# strict decoding refuses, so that the only spelling of a cursor is the one issued.
_FROM_URLSAFE = bytes.maketrans(b"-_+/", b"+/!!")


class CursorError(ValueError):
    """A cursor this server did not issue, or one issued for other filters."""


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

    def encode(self, entity: int, place: int, filters: bytes) -> str:
        payload = filters + _PAIR.pack(entity, place)
        state = self._keyed.copy()
        state.update(payload)
        raw = payload + state.digest()
        return binascii.b2a_base64(raw, newline=False).translate(_TO_URLSAFE).decode()

    def decode(self, token: str, filters: bytes) -> tuple[int, int]:
        """(entity, place) of a cursor this codec issued for `filters`; CursorError otherwise."""
        if len(token) != _TOKEN_LENGTH:
            raise CursorError("is not a cursor this server issued")
        try:
            raw = binascii.a2b_base64(token.encode().translate(_FROM_URLSAFE), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError):
            raise CursorError("is not a cursor this server issued") from None
        state = self._keyed.copy()
        state.update(raw[:-_MAC_BYTES])
        if not hmac.compare_digest(raw[-_MAC_BYTES:], state.digest()):
            raise CursorError("is not a cursor this server issued")
        if raw[:_FILTER_BYTES] != filters:
            raise CursorError("was issued for different filters; start again without it")
        return _PAIR.unpack_from(raw, _FILTER_BYTES)
