"""What a process learns from Amazon's answers, shared with the other replicas: a report
document's type (does it need an RDT?), a resource the Tokens API refused lately.

Each fact is kept locally, bounded and expiring, as before. With shared state it is also written
to Redis (sealed like tokens, bound to its key, expiring with the same `ttl_s`), and a local miss
is read from Redis and kept locally; while Redis is down, a process knows what it learned itself.
A fact is shared before the answer it was learned from goes out (a report type: observers are
awaited; a refusal: before its 502), so a client's next call finds it on any replica.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Generic, TypeVar

from cachetools import TTLCache

if TYPE_CHECKING:
    import redis.asyncio

    from spproxy.sharedstate import SharedState

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LearnedFacts(Generic[K, V]):
    def __init__(
        self,
        *,
        maxsize: int,
        ttl_s: float,
        kind: str,  # their Redis keys: kind:name
        name: Callable[[K], str],  # a key's name in Redis: bounded, nothing secret
        encode: Callable[[V], bytes],
        decode: Callable[[bytes], V | None],  # None: not a fact of this kind
        shared: SharedState | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._local: TTLCache[K, V] = TTLCache(maxsize=maxsize, ttl=ttl_s, timer=clock)
        self._ttl_ms = max(int(ttl_s * 1000), 1)
        self._shared = shared
        self._kind = kind
        self._name = name
        self._encode = encode
        self._decode = decode

    def __len__(self) -> int:
        return len(self._local)

    def __contains__(self, key: K) -> bool:
        return key in self._local

    def get(self, key: K) -> V | None:
        """What this process knows (learned here, or recalled from Redis)."""
        return self._local.get(key)

    async def recall(self, key: K) -> V | None:
        """What this process knows, else what another replica learned (then kept here)."""
        known = self._local.get(key)
        if known is not None or self._shared is None:
            return known
        redis_key = self._key(self._shared, key)
        sealed = await self._shared.call(lambda r: r.get(redis_key))
        plain = self._shared.sealer.open(sealed, redis_key) if isinstance(sealed, bytes) else None
        recalled = self._decode(plain) if plain is not None else None
        if recalled is not None:
            self._local[key] = recalled
        return recalled

    async def learn(self, facts: Iterable[tuple[K, V]]) -> None:
        """Know `facts` (key, value) here, and share them: written through, in one round trip."""
        learned = dict(facts)
        self._local.update(learned)
        if learned:
            await self._share(learned)

    def _key(self, shared: SharedState, key: K) -> str:
        return shared.key(self._kind, self._name(key))

    async def _share(self, facts: dict[K, V]) -> None:
        shared = self._shared
        if shared is None:
            return

        async def store(client: redis.asyncio.Redis) -> None:
            async with client.pipeline(transaction=False) as pipe:
                for key, value in facts.items():
                    redis_key = self._key(shared, key)
                    sealed = shared.sealer.seal(self._encode(value), redis_key)
                    pipe.set(redis_key, sealed, px=self._ttl_ms)
                await pipe.execute()

        await shared.call(store)
