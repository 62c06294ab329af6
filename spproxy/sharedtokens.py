"""Tokens that replicas share through Redis: one LWA exchange and one RDT mint per key,
however many replicas want it.

    stored      a sealed token that opens under its key and is usable by the caller's rule: it
                serves, nothing is fetched
    unlocked    take the key's lock (SET NX PX lock_timeout_s, and the token read in the same
                script: one a holder stored meanwhile serves); the replica that took it fetches,
                then stores the sealed token (PX: until it expires) under every key it serves
                and releases its own lock, in one script; a failed fetch releases it at once
    locked      wait for the holder's token: the lock and the token read together (one MGET),
                every 20 ms doubling to 200 ms; when the lock goes without a usable token (the
                holder failed, or died and its lock expired), take it. A replica waits at most
                lock_timeout_s, then fetches without the lock (and stores what it fetched)
    unavailable Redis down at any step: fetch, as a process alone would

Keys carry a fingerprint of what the token was fetched with (the client id, the refresh token,
the endpoint), so a changed account never finds the old token. Values are sealed
(`sealing.Sealer`) with their Redis key as context: a snapshot holds no usable token, and a value
sealed under another key or with another sealing key is fetched again, not trusted. The client
must return bytes (no `decode_responses`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from spproxy.sharedstate import SharedState

log = logging.getLogger("spproxy.sharedtokens")

# KEYS[1] the lock, KEYS[2] the token's key; ARGV[1] the lock value, ARGV[2] its time to live
# (ms). Whether the lock was taken, and the token as it is then: one a holder stored between
# this replica's read and now is used, not fetched again.
_TAKE = """
local taken = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
return {taken, redis.call('GET', KEYS[2])}
"""
# KEYS[1] the lock, KEYS[2..] the token's keys; ARGV[1] the holder's lock value, ARGV[2] the
# time to live (ms), ARGV[3..] the sealed token under each key (sealed per key: its context).
_STORE_AND_RELEASE = """
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[2])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""
# Deletes each KEYS[i] only while it still holds ARGV[i]: a lock only its holder releases, a
# refused token only while no replica has stored a newer one.
_DELETE_IF_UNCHANGED = """
local deleted = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then deleted = deleted + redis.call('DEL', KEYS[i]) end
end
return deleted
"""


class Token(Protocol):
    @property
    def value(self) -> str: ...

    @property
    def expires_at(self) -> float: ...  # the clock's time


T = TypeVar("T", bound=Token)


def fingerprint(*parts: str, hex_digits: int = 16) -> str:
    """A short digest of `parts` for a Redis key: tells secrets apart without revealing them,
    and bounds the length of what clients choose (report document paths)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:hex_digits]


class SharedTokens:
    def __init__(
        self,
        state: SharedState,
        *,
        lock_timeout_s: float | None = None,  # default: the state's (state.lock_timeout_s)
        first_poll_s: float = 0.02,
        max_poll_s: float = 0.2,
        clock: Callable[[], float] = time.time,  # the clock the tokens' expiry is on
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.state = state
        # Longer than a fetch takes (an LWA exchange, a mint with its retries): a holder that
        # outlives its lock costs one more fetch, never a wrong token; one that dies delays the
        # others this long at most.
        self._lock_timeout_s = lock_timeout_s or state.lock_timeout_s
        self._first_poll_s = first_poll_s
        self._max_poll_s = max_poll_s
        self._clock = clock
        self._sleep = sleep
        self._take = state.client.register_script(_TAKE)
        self._store_and_release = state.client.register_script(_STORE_AND_RELEASE)
        self._delete_if_unchanged = state.client.register_script(_DELETE_IF_UNCHANGED)

    async def obtain(
        self,
        key: str,
        fetch: Callable[[], Awaitable[T]],
        *,
        build: Callable[[str, float], T],
        usable: Callable[[T], bool],
        served: Callable[[T], Sequence[str]] | None = None,
    ) -> T:
        """The token under `key` if `usable`, else the one fetch among the replicas (see the
        module's docstring). `build` makes a token of a stored value and expiry; `served`: the
        keys a fetched token is stored under (an RDT bundle's), `key` alone by default."""
        # Only one caller per key and process gets here (the process's TokenCache joins the
        # others to its fetch), so one replica polls Redis once per interval, however many wait.
        lock_key, mine = f"{key}:lock", secrets.token_hex(16)
        lock_ms = max(int(self._lock_timeout_s * 1000), 1)
        deadline = self._clock() + self._lock_timeout_s
        poll_s = self._first_poll_s

        def usable_stored(sealed: object) -> T | None:
            stored = self._opened(key, sealed, build)
            return stored if stored is not None and usable(stored) else None

        while True:
            read = await self.state.call(lambda r: r.mget([lock_key, key]))
            if read is None:
                return await fetch()
            if (stored := usable_stored(read[1])) is not None:
                return stored
            if read[0] is None:  # no holder: take the lock
                taken = await self.state.call(
                    lambda r: self._take(keys=[lock_key, key], args=[mine, lock_ms], client=r)
                )
                if taken is None:
                    return await fetch()
                if (stored := usable_stored(taken[1])) is not None:  # stored since the read
                    if taken[0]:
                        await self._delete_unchanged([lock_key], [mine])
                    return stored
                if taken[0]:
                    return await self._fetch_and_store(key, lock_key, mine, fetch, served)
            if self._clock() >= deadline:
                log.warning(
                    "shared state: a token's lock was held longer than %.0f s; fetching it "
                    "without waiting for its holder",
                    self._lock_timeout_s,
                )
                return await self._fetch_and_store(key, lock_key, mine, fetch, served)
            await self._sleep(poll_s)
            poll_s = min(poll_s * 2, self._max_poll_s)

    async def discard(self, keys: Sequence[str], value: str) -> None:
        """Amazon refused `value`: drop it from `keys` where it is still stored (a replica may
        have stored a newer token since)."""
        read = await self.state.call(lambda r: r.mget(keys)) if keys else None
        if read is None:
            return
        refused = [
            (key, sealed)
            for key, sealed in zip(keys, read, strict=True)
            if isinstance(sealed, bytes)
            and (stored := self._opened(key, sealed, _Stored)) is not None
            and stored.value == value
        ]
        if refused:
            await self._delete_unchanged([key for key, _ in refused], [s for _, s in refused])

    async def _fetch_and_store(
        self,
        key: str,
        lock_key: str,
        mine: str,
        fetch: Callable[[], Awaitable[T]],
        served: Callable[[T], Sequence[str]] | None,
    ) -> T:
        try:
            token = await fetch()
        except BaseException:
            await self._delete_unchanged([lock_key], [mine])  # the others try at once
            raise
        keys = served(token) if served is not None else [key]
        ttl_ms = int((token.expires_at - self._clock()) * 1000)
        if ttl_ms <= 0:
            keys = []  # nothing worth sharing: only the lock is released
        sealed = [self._seal(k, token) for k in keys]
        await self.state.call(
            lambda r: self._store_and_release(
                keys=[lock_key, *keys], args=[mine, max(ttl_ms, 1), *sealed], client=r
            )
        )
        return token

    async def _delete_unchanged(self, keys: Sequence[str], values: Sequence[str | bytes]) -> None:
        await self.state.call(lambda r: self._delete_if_unchanged(keys=keys, args=values, client=r))

    def _seal(self, key: str, token: Token) -> bytes:
        plain = json.dumps({"value": token.value, "expires_at": token.expires_at}).encode()
        return self.state.sealer.seal(plain, key)

    def _opened(self, key: str, sealed: object, build: Callable[[str, float], T]) -> T | None:
        """The token stored under `key`; None if there is none, or it does not open."""
        plain = self.state.sealer.open(sealed, key) if isinstance(sealed, bytes) else None
        if plain is None:
            return None
        try:
            stored = json.loads(plain)
            value, expires_at = stored["value"], float(stored["expires_at"])
        except (ValueError, TypeError, KeyError):
            return None
        return build(value, expires_at) if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class _Stored:
    """A stored token, to compare with a refused one."""

    value: str
    expires_at: float
