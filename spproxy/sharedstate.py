"""Shared state: the Redis (or Valkey) that replicas of one app share, and whether it answers.

Every call to Redis goes through `SharedState.call`. While Redis answers, that is its result;
when it does not (refused, reset, timed out, a failover), it is None: logged once, shown in
/ready, /status and the metrics, and the caller carries on with what this process holds itself,
until `retry_s` has passed and the next call tries Redis again. So no request fails because
Redis is down, and none waits on it longer than the client's socket timeout.

Every key lives under `spproxy:{NAMESPACE}:` (the braces are a Redis Cluster hash tag: one
app's keys share a slot, so a script may touch several of them). Tokens are sealed
(`sealing.Sealer`) before they are stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio
import redis.exceptions

from spproxy.sealing import Sealer

log = logging.getLogger("spproxy.state")

T = TypeVar("T")
# What an unreachable or failing-over Redis raises; anything else is a bug, and raised.
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class SharedState:
    def __init__(
        self,
        client: redis.asyncio.Redis,
        namespace: str,
        sealer: Sealer,
        *,
        retry_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.sealer = sealer
        self._prefix = f"spproxy:{{{namespace}}}:"
        self._retry_s = retry_s
        self._clock = clock
        self.down_since: float | None = None  # the clock's time Redis stopped answering
        self._retry_at = 0.0
        self.failures = 0  # calls that found Redis unavailable

    @property
    def up(self) -> bool:
        return self.down_since is None

    def key(self, *parts: str) -> str:
        """The Redis key of `parts`, in this app's namespace."""
        return self._prefix + ":".join(parts)

    async def call(self, operation: Callable[[redis.asyncio.Redis], Awaitable[T]]) -> T | None:
        """`operation`'s result; None when Redis is unavailable (then the caller goes local)."""
        if self.down_since is not None and self._clock() < self._retry_at:
            return None
        try:
            result = await operation(self.client)
        except UNAVAILABLE as error:
            self._failed(error)
            return None
        if self.down_since is not None:
            log.warning(
                "shared state: Redis answers again after %.0f s; shared state resumes",
                self._clock() - self.down_since,
            )
            self.down_since = None
        return result

    def snapshot(self) -> dict[str, Any]:
        """For /_spproxy/status and /_spproxy/ready: never the URL's password or a key."""
        return {
            "backend": "redis",
            "namespace": self.namespace,
            "up": self.up,
            "down_for_s": None if self.down_since is None else self._clock() - self.down_since,
            "unavailable_calls": self.failures,
        }

    async def aclose(self) -> None:
        await self.client.aclose()

    def _failed(self, error: Exception) -> None:
        self.failures += 1
        now = self._clock()
        self._retry_at = now + self._retry_s
        if self.down_since is None:
            self.down_since = now
            log.warning(
                "shared state: Redis unavailable (%s); serving with local state and a share of "
                "each plan until it answers again",
                type(error).__name__,
            )
