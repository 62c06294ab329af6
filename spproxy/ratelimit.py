"""Pacing: a token bucket per (account, operation), so requests wait their turn, not draw 429s.

SP-API meters every operation with a usage plan per selling partner and application: a rate in
requests per second and a burst (SP-API docs, "Usage Plans and Rate Limits"). Quotas are tiny
(getOrders: one call a minute after a burst of 20) and shared by every client of a seller, so the
place to respect them is here, once. Each request reserves the next slot of its bucket and sleeps
until then; a request whose slot lies beyond `queue_timeout_s` gets a proxy-made 429 with
Retry-After at once instead. Amazon may grant a seller more than the default plan, and says so in
`x-amzn-RateLimit-Limit`: the bucket adopts that rate.

Reservations keep the order of arrival: the n-th waiter's slot is computed when it arrives, so a
burst of waiters is served one per 1/rate seconds, oldest first. A request that has to wait goes
`slot_margin_s` after its slot: Amazon's bucket refills on Amazon's clock, as requests arrive
after network delays that vary, so a request sent exactly on time can still find it a hair short.
The margin is an offset, not a slowdown: its surplus carries over in Amazon's bucket.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from spproxy.errors import RateLimited
from spproxy.operations import QualifiedName

# Operations whose model states no usage plan, and paths we cannot classify: cautious, and
# corrected by the first x-amzn-RateLimit-Limit Amazon sends.
DEFAULT_PLAN = (1.0, 1)


@dataclass(slots=True)
class Bucket:
    rate: float  # tokens per second
    burst: int
    tokens: float  # may go negative: reserved slots not yet due
    updated: float
    waiting: int = 0  # requests waiting for a slot now
    waits: int = 0  # requests that have had to wait
    waited_s: float = 0.0  # how long, in all

    def refill(self, now: float) -> None:
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now


BucketKey = tuple[str, QualifiedName]  # (account name, operation or UNKNOWN)


class RateLimiter:
    def __init__(
        self,
        *,
        queue_timeout_s: float,
        slot_margin_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.queue_timeout_s = queue_timeout_s
        self._slot_margin_s = slot_margin_s
        self._clock = clock
        self._sleep = sleep
        self.buckets: dict[BucketKey, Bucket] = {}

    async def acquire(self, key: BucketKey, rate: float | None, burst: int | None) -> float:
        """Wait for a slot in the key's bucket; the seconds waited. RateLimited past the timeout."""
        bucket = self._bucket(key, rate, burst)
        now = self._clock()
        bucket.refill(now)
        bucket.tokens -= 1
        wait = -bucket.tokens / bucket.rate + self._slot_margin_s if bucket.tokens < 0 else 0.0
        if wait > self.queue_timeout_s:
            bucket.tokens += 1  # give the slot back: this request will not use it
            raise RateLimited(
                f"The rate limit of {key[1]} for account '{key[0]}' ({bucket.rate:g}/s, burst "
                f"{bucket.burst}) has no free slot within upstream.queue_timeout_s "
                f"({self.queue_timeout_s:g} s).",
                "Retry after the time in Retry-After, or call less often.",
                retry_after_s=wait,
            )
        if wait > 0:
            bucket.waits += 1
            bucket.waited_s += wait
            bucket.waiting += 1
            try:
                await self._sleep(wait)
            except asyncio.CancelledError:
                bucket.tokens += 1  # the client went away: its slot is free again
                raise
            finally:
                bucket.waiting -= 1
        return wait

    def learn(self, key: BucketKey, header: str | None) -> None:
        """Adopt the rate Amazon says it applied (`x-amzn-RateLimit-Limit: 0.0167`)."""
        bucket = self.buckets.get(key)
        if bucket is None or not header:
            return
        try:
            rate = float(header)
        except ValueError:
            return
        if rate > 0 and rate != bucket.rate:
            bucket.refill(self._clock())
            bucket.rate = rate

    def _bucket(self, key: BucketKey, rate: float | None, burst: int | None) -> Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            default_rate, default_burst = DEFAULT_PLAN
            plan_rate, plan_burst = (
                (rate, burst) if rate and burst else (default_rate, default_burst)
            )
            bucket = Bucket(plan_rate, plan_burst, float(plan_burst), self._clock())
            self.buckets[key] = bucket
        return bucket
