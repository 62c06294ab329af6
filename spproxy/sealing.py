"""Tokens at rest in shared state, sealed so that a Redis snapshot holds no usable token.

AES-256-GCM (the `cryptography` package), a random 96-bit nonce per value, and the value's Redis
key as associated data: a value copied under another key, or altered, does not open. The key is
32 random bytes, configured base64-encoded (`state.key` or `state.key_file`); a key for another
use (signing the placeholders spproxy hands to clients) is derived from it with HKDF, so one
secret serves both and neither use can be turned into the other.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12


def parse_key(text: str) -> bytes:
    """The 32-byte key from its base64 text; ValueError saying what is wrong (never the key)."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64 (make one with: openssl rand -base64 32)") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a sealing key is {KEY_BYTES} bytes")
        self._key = key
        self._aead = AESGCM(self._sub_key(b"seal"))

    def seal(self, value: bytes, context: str) -> bytes:
        """`value` encrypted and authenticated, bound to `context` (the Redis key it goes under)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, value, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes | None:
        """The value sealed under `context`; None if it was altered, moved or sealed with
        another key (a replica with another key, or a rotated one: fetched again, not trusted)."""
        if len(sealed) <= NONCE_BYTES:
            return None
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode())
        except InvalidTag:
            return None

    def derive(self, purpose: str) -> bytes:
        """A key for another use, which reveals nothing of this one."""
        return self._sub_key(purpose.encode())

    def _sub_key(self, info: bytes) -> bytes:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"spproxy " + info)
        return hkdf.derive(self._key)
