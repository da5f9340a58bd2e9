"""Identifiers derived from the fixture seed, and the Meteroid base62 rendering of them."""

import hashlib
import uuid
from functools import lru_cache

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE62_INDEX = {c: i for i, c in enumerate(_BASE62)}
_MASK128 = (1 << 128) - 1
_ROTATION = 67


def derive_int(seed: int, *parts: object) -> int:
    """A stable 64-bit integer from the seed and a path, independent of Python's hash salt."""
    text = "/".join([str(seed), *map(str, parts)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def derive_uuid(seed: int, *parts: object) -> str:
    """A version-4 UUID string that depends only on the seed and the path to the entity.

    The text of `uuid.UUID(bytes=digest, version=4)`, spelt out without building the object:
    worlds derive several ids per invoice.
    """
    text = "/".join([str(seed), *map(str, parts)])
    raw = bytearray(hashlib.blake2b(text.encode(), digest_size=16).digest())
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (128 - bits))) & _MASK128


def _rotr(value: int, bits: int) -> int:
    return ((value >> bits) | (value << (128 - bits))) & _MASK128


@lru_cache(maxsize=16_384)
def to_base62_id(prefix: str, uuid_text: str) -> str:
    """Meteroid's public id: prefix + base62 of the UUID's 128 bits rotated left by 67 (kept for
    the ids spelt most recently: a move of years writes each customer's in thousands of events)."""
    value = _rotl(uuid.UUID(uuid_text).int, _ROTATION)
    digits = []
    while value:
        value, rem = divmod(value, 62)
        digits.append(_BASE62[rem])
    return prefix + ("".join(reversed(digits)) or "0")


def from_base62_id(prefix: str, text: str) -> str | None:
    """The UUID behind a Meteroid id, or None when the text is not one with this prefix."""
    if not text.startswith(prefix):
        return None
    body = text[len(prefix) :]
    if not 0 < len(body) <= 22:
        return None
    value = 0
    for char in body:
        digit = _BASE62_INDEX.get(char)
        if digit is None:
            return None
        value = value * 62 + digit
    if value > _MASK128:
        return None
    return str(uuid.UUID(int=_rotr(value, _ROTATION)))
