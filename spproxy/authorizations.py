"""Authorizations in progress: what an onboarding started, until its callback comes back.

An authorization is known by its `state` (the OAuth parameter Amazon hands back): unguessable
(256 random bits), single-use (taken, not read), short-lived (`ttl_s`, ten minutes: Amazon's code
itself lives five) and bound to the browser that started it (a hash of a random cookie set with
the redirect to Amazon), so a callback cannot be replayed, forged from another browser (CSRF), or
completed by someone who merely learned the state. Tickets (the single-use links an application
hands to a seller) are kept the same way.

Kept in this process, bounded; with shared state also in Redis, sealed, so the callback may land
on any replica. While Redis is down, a replica knows the authorizations it started itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from cachetools import TTLCache

if TYPE_CHECKING:
    from spproxy.sharedstate import SharedState

TTL_S = 600.0
MAX_PENDING = 10_000  # authorizations and tickets in flight, each: a bound against floods


@dataclass(frozen=True, slots=True)
class Authorization:
    """What the seller is authorizing: where it goes, and under which name it is stored."""

    marketplace_id: str | None  # None: the Appstore workflow (the central's region decides)
    region: str
    name: str | None  # the account's name; None: derived from the selling partner id
    vendor: bool  # Vendor Central rather than Seller Central
    started_by: str  # the client that started it ("-": none configured), for the audit log
    browser: str = ""  # the hash of the browser's cookie, once a browser has started it


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def browser_hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8", "surrogateescape")).hexdigest()


class Authorizations:
    def __init__(
        self,
        shared: SharedState | None = None,
        *,
        ttl_s: float = TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self.ttl_s = ttl_s
        # secret -> (authorization, whether Redis holds it too: then Redis decides who takes it)
        self._local: TTLCache[str, tuple[Authorization, bool]] = TTLCache(
            MAX_PENDING, ttl_s, timer=clock
        )

    async def put(self, kind: str, secret: str, authorization: Authorization) -> None:
        """Keep `authorization` under `secret` (a ticket or a state) until taken or expired."""
        shared, in_redis = self._shared, False
        if shared is not None:
            key = _key(shared, kind, secret)
            sealed = shared.sealer.seal(json.dumps(asdict(authorization)).encode(), key)
            ttl_ms = int(self.ttl_s * 1000)
            in_redis = await shared.call(lambda redis: redis.set(key, sealed, px=ttl_ms)) is True
        self._local[f"{kind}:{secret}"] = (authorization, in_redis)

    async def take(self, kind: str, secret: str) -> Authorization | None:
        """The authorization under `secret`, which no one can take again; None if there is none
        (never issued, expired, or taken already)."""
        local = self._local.pop(f"{kind}:{secret}", None)
        found, in_redis = local if local is not None else (None, False)
        shared = self._shared
        if shared is None or (found is not None and not in_redis):
            return found  # no Redis, or it was down when this replica started it
        key = _key(shared, kind, secret)
        sealed = await shared.call(lambda redis: redis.getdel(key))
        if not shared.up:
            return found  # Redis down: what this replica started, it knows
        if not isinstance(sealed, bytes):
            return None  # taken on another replica (or never put): Redis decides, not the copy
        opened = shared.sealer.open(sealed, key)
        if opened is None:
            return None
        try:
            return Authorization(**json.loads(opened))
        except (ValueError, TypeError):
            return None

    @staticmethod
    def same_browser(authorization: Authorization, cookie: str | None) -> bool:
        """Whether the callback comes from the browser that started the authorization."""
        if not cookie or not authorization.browser:
            return False
        return hmac.compare_digest(browser_hash(cookie), authorization.browser)


def _key(shared: SharedState, kind: str, secret: str) -> str:
    """Its Redis key: the secret hashed, so a key listing reveals no live state or ticket."""
    return shared.key("authorization", kind, hashlib.sha256(secret.encode()).hexdigest())
