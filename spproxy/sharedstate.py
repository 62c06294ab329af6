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

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import redis.asyncio
import redis.asyncio.sentinel
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from spproxy.config import StateConfig
from spproxy.redispipe import Pipe
from spproxy.sealing import Sealer, parse_key

log = logging.getLogger("spproxy.state")

T = TypeVar("T")
MAX_CONNECTIONS = 64  # to Redis, per process
# Whatever Redis answers instead of a result: unreachable, failing over (a read-only replica),
# full, refusing this user (ACL), a key of the wrong type someone else wrote. Each means "go
# local", never "fail the request"; the error's type is logged and shown, so a bug stays visible.
UNAVAILABLE = (redis.exceptions.RedisError, OSError)


class SharedState:
    def __init__(
        self,
        client: redis.asyncio.Redis,
        namespace: str,
        sealer: Sealer,
        *,
        retry_s: float = 5.0,
        lock_timeout_s: float = 10.0,  # how long a token fetch may hold its key's lock
        clock: Callable[[], float] = time.monotonic,
        sentinels: Sequence[redis.asyncio.Redis] = (),  # that found `client`: closed with it
        pipe: Pipe | None = None,  # to `client`'s Redis, for the commands of every request
    ) -> None:
        self.client = client
        self.pipe = pipe
        self._sentinels = sentinels
        self.namespace = namespace
        self.sealer = sealer
        self._prefix = f"spproxy:{{{namespace}}}:"
        self._retry_s = retry_s
        self.lock_timeout_s = lock_timeout_s
        self._clock = clock
        self.down_since: float | None = None  # the clock's time Redis stopped answering
        self._retry_at = 0.0
        self.failures = 0  # calls that found Redis unavailable
        self.last_error: str | None = None  # the type of what the last of them raised

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
            "last_error": self.last_error,
        }

    async def aclose(self) -> None:
        if self.pipe is not None:
            await self.pipe.aclose()
        await self.client.aclose()
        for sentinel in self._sentinels:
            await sentinel.aclose()

    def _failed(self, error: Exception) -> None:
        self.failures += 1
        self.last_error = type(error).__name__
        now = self._clock()
        self._retry_at = now + self._retry_s
        if self.down_since is None:
            self.down_since = now
            log.warning(
                "shared state: Redis unavailable (%s); serving with local state and a share of "
                "each plan until it answers again",
                type(error).__name__,
            )


def connect(config: StateConfig, client_id: str) -> SharedState:
    """The shared state `config` names; no connection is made until the first call."""
    options: dict[str, Any] = {
        "username": config.username,
        "password": config.password.reveal() if config.password else None,
        # Each call waits at most timeout_s, once: SharedState decides when to try again.
        "socket_timeout": config.timeout_s,
        "socket_connect_timeout": config.timeout_s,
        "retry": Retry(NoBackoff(), 0),
    }
    if config.url.startswith("rediss://") and config.tls_ca_file:
        options["ssl_ca_certs"] = config.tls_ca_file
    sentinels: Sequence[redis.asyncio.Redis] = ()
    pipe = None
    if config.sentinel_service:
        client, sentinels = _through_sentinel(config.url, config.sentinel_service, options)
    elif config.cluster:
        # Every key of the namespace hashes to one slot (the {braces}), so the scripts run on
        # one node; RedisCluster answers every command spproxy sends as Redis does.
        cluster = redis.asyncio.RedisCluster.from_url(
            config.url, max_connections=MAX_CONNECTIONS, **options
        )
        client = cast(redis.asyncio.Redis, cluster)
    else:
        # Bounded: a burst of requests waits (timeout_s) for one of MAX_CONNECTIONS, rather
        # than opening a connection each.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            config.url, max_connections=MAX_CONNECTIONS, timeout=config.timeout_s, **options
        )
        client = redis.asyncio.Redis.from_pool(pool)
    if not config.cluster:  # a cluster's node depends on the key: RedisCluster routes each call
        pipe = Pipe(client.connection_pool, config.timeout_s)
    # One namespace per app: replicas of the same app share it, other apps never meet it.
    namespace = config.namespace or hashlib.sha256(client_id.encode()).hexdigest()[:16]
    sealer = Sealer(parse_key(config.key.reveal()))
    return SharedState(
        client,
        namespace,
        sealer,
        retry_s=config.retry_s,
        lock_timeout_s=config.lock_timeout_s,
        sentinels=sentinels,
        pipe=pipe,
    )


def _through_sentinel(
    url: str, service: str, options: dict[str, Any]
) -> tuple[redis.asyncio.Redis, Sequence[redis.asyncio.Redis]]:
    """The master a Sentinel at `url` names for `service`, and the Sentinel's connections."""
    where = urlsplit(url)
    sentinel = redis.asyncio.sentinel.Sentinel(  # type: ignore[no-untyped-call]  # redis-py
        [(where.hostname or "localhost", where.port or 26379)],
        sentinel_kwargs={k: options[k] for k in ("socket_timeout", "socket_connect_timeout")},
        **options,
    )
    return sentinel.master_for(service), sentinel.sentinels
