"""Tokens spproxy handed to clients, and whom each stands for, on every replica.

Placeholders (the LWA stand-in's access tokens, /auth/o2/token) are signed, not stored:

    spproxy-placeholder.BASE64URL(expiry | key fingerprint | client name | HMAC-SHA256)

Any replica holding the signing key verifies any other's, with no lookup and nothing to bound:
an attacker can make spproxy store nothing by asking for placeholders, and a placeholder names
only what its MAC covers. The key is derived from the shared-state key (`state:`), so every
replica has it; without shared state it is random per process, and placeholders do not outlive
the process (refused until the SDK exchanges again).

RDTs a client minted through spproxy's Tokens API are Amazon's strings, which spproxy cannot
sign: they are remembered (by their SHA-256, never the token) here, and with shared state also
in Redis, sealed and bound to their key, so a replica that does not know one asks Redis once.

Either way spproxy knows a fingerprint of the client's key as it was (an HMAC of it, which
reveals nothing of the key): a rotated or removed key revokes what was issued under it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cachetools import TLRUCache

from spproxy.config import Client, Secret

if TYPE_CHECKING:
    from spproxy.sharedstate import SharedState

PLACEHOLDER_PREFIX = "spproxy-placeholder."
PLACEHOLDER_TTL_S = 3600  # expires_in, as the SDK is told
# Honoured a little longer than the SDK is told (it refreshes late; replicas' clocks differ);
# an RDT lives an hour too (expiresIn).
ISSUED_TTL_S = PLACEHOLDER_TTL_S + 300
FINGERPRINT_BYTES = 16
MAC_BYTES = 32
EXPIRY_BYTES = 8
NO_FINGERPRINT = bytes(FINGERPRINT_BYTES)  # issued while no clients were configured


@dataclass(frozen=True, slots=True)
class Issued:
    """Whom a token spproxy handed out stands for: a client, while its key is the one it had."""

    client: str | None  # None: issued while no clients were configured
    fingerprint: bytes  # of the client's key when it was issued
    expires_at: float  # wall-clock time
    rdt: bool  # minted through spproxy's Tokens API, rather than a placeholder


class IssuedTokens:
    def __init__(
        self,
        state: SharedState | None,
        *,
        rdt_limit: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._state = state
        # Shared: every replica derives the same key. Alone: this process's own.
        self._secret = state.sealer.derive("placeholders") if state else secrets.token_bytes(32)
        self._clock = clock
        # SHA-256 of a client-minted RDT -> whom it stands for, until it expires
        self._rdts: TLRUCache[str, Issued, float] = TLRUCache(
            maxsize=rdt_limit, ttu=lambda _, issued, now: issued.expires_at, timer=clock
        )

    def __len__(self) -> int:
        """The client-minted RDTs this process remembers (placeholders take no room)."""
        return len(self._rdts)

    def fingerprint(self, key: Secret) -> bytes:
        """The key's fingerprint, the same on every replica; reveals nothing of the key."""
        return self._mac(b"client key", key.reveal().encode())[:FINGERPRINT_BYTES]

    def placeholder(self, client: Client | None) -> str:
        """A signed access token standing for `client` until it expires or its key changes."""
        expiry = int(self._clock()) + ISSUED_TTL_S
        body = (
            expiry.to_bytes(EXPIRY_BYTES, "big")
            + (self.fingerprint(client.key) if client else NO_FINGERPRINT)
            + (client.name.encode() if client else b"")
        )
        return PLACEHOLDER_PREFIX + _encode(body + self._mac(b"placeholder", body))

    async def remember(self, token: str, client: Client | None) -> None:
        """An RDT the client minted through spproxy: it stands for the client from now on, on
        every replica (stored before the client has the token, so no replica can miss it)."""
        issued = Issued(
            client.name if client else None,
            self.fingerprint(client.key) if client else NO_FINGERPRINT,
            self._clock() + ISSUED_TTL_S,
            rdt=True,
        )
        digest = _digest(token)
        self._rdts[digest] = issued
        if self._state is not None:
            key = self._state.key("issued", digest)
            sealed = self._state.sealer.seal(_record(issued), key)
            await self._state.call(lambda redis: redis.set(key, sealed, ex=ISSUED_TTL_S))

    async def recall(self, token: str, *, shared: bool) -> Issued | None:
        """Whom `token` stands for, if spproxy issued it and it has not expired; None for
        anything else, whatever its bytes. Redis is asked (once, and only if `shared`) about a
        client-minted RDT this process does not know; never about a placeholder."""
        if token.startswith(PLACEHOLDER_PREFIX):
            return self._verified(token.removeprefix(PLACEHOLDER_PREFIX))
        digest = _digest(token)
        issued = self._rdts.get(digest)
        if issued is None and shared and self._state is not None:
            issued = await self._fetch(self._state, digest)
        return issued

    def _verified(self, text: str) -> Issued | None:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except ValueError:  # not base64, or not even ASCII
            return None
        if _encode(raw) != text or len(raw) < EXPIRY_BYTES + FINGERPRINT_BYTES + MAC_BYTES:
            return None  # only the exact text spproxy issued
        body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(b"placeholder", body)):
            return None
        expires_at = int.from_bytes(body[:EXPIRY_BYTES], "big")
        if expires_at <= self._clock():
            return None
        fingerprint = body[EXPIRY_BYTES : EXPIRY_BYTES + FINGERPRINT_BYTES]
        name = body[EXPIRY_BYTES + FINGERPRINT_BYTES :].decode()  # signed: as spproxy wrote it
        return Issued(name or None, fingerprint, expires_at, rdt=False)

    async def _fetch(self, state: SharedState, digest: str) -> Issued | None:
        """The record another replica stored; kept here until it expires, so asked once."""
        key = state.key("issued", digest)
        sealed = await state.call(lambda redis: redis.get(key))
        opened = state.sealer.open(sealed, key) if isinstance(sealed, bytes) else None
        issued = _parse_record(opened) if opened is not None else None
        if issued is None or issued.expires_at <= self._clock():
            return None
        self._rdts[digest] = issued
        return issued

    def _mac(self, purpose: bytes, data: bytes) -> bytes:
        # The purpose keeps a key's fingerprint from ever passing for a placeholder's MAC.
        return hmac.digest(self._secret, purpose + b"\0" + data, "sha256")


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _digest(token: str) -> str:
    # surrogatepass: any str encodes, whatever bytes a header or a JSON escape carried
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _record(issued: Issued) -> bytes:
    """What Redis holds for a client-minted RDT: never the token, never the key."""
    return json.dumps(
        {
            "client": issued.client,
            "fingerprint": issued.fingerprint.hex(),
            "expires_at": issued.expires_at,
        }
    ).encode()


def _parse_record(opened: bytes) -> Issued | None:
    try:
        fields = json.loads(opened)
        client, expires_at = fields["client"], float(fields["expires_at"])
        fingerprint = bytes.fromhex(fields["fingerprint"])
    except (ValueError, KeyError, TypeError):  # written by another version of spproxy
        return None
    if client is not None and not isinstance(client, str):
        return None
    return Issued(client, fingerprint, expires_at, rdt=True)
