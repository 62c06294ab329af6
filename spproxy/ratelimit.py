"""Pacing: a token bucket per (account, operation), so requests wait their turn, not draw 429s.

SP-API meters every operation with a usage plan per selling partner and application: a rate in
requests per second and a burst (SP-API docs, "Usage Plans and Rate Limits"). Quotas are tiny
(getOrders: one call a minute after a burst of 20) and shared by every client of a seller, so the
place to respect them is here, once. Each request reserves the next slot of its bucket and sleeps
until then; a request whose slot lies beyond `queue_timeout_s` gets a proxy-made 429 with
Retry-After at once instead. Amazon may grant a seller more (or less) than the default plan, and
says so in `x-amzn-RateLimit-Limit`: the bucket adopts that rate. Sandbox accounts have the
sandbox's plan for every operation instead (`operations.usage_plan`).

Reservations keep the order of arrival: the n-th waiter's slot is computed when it arrives, so a
burst of waiters is served one per 1/rate seconds, oldest first. A request that has to wait goes
`slot_margin_s` after its slot: Amazon's bucket refills on Amazon's clock, as requests arrive
after network delays that vary, so a request sent exactly on time can still find it a hair short.
The margin is an offset, not a slowdown: its surplus carries over in Amazon's bucket.

When the bucket learns a new rate, the slots already reserved are planned again at that rate, in
the same order. Left as they were, calls queued on a cold start at the model's plan (2/s) would go
out on top of the rate Amazon granted (100/s), into a bucket the newer calls keep empty, and draw
its 429s; where Amazon grants less than the model, they would go too early. A waiter whose new
slot lies beyond `queue_timeout_s` from its arrival gets the proxy-made 429 then.

Replicas share a seller's plan. Given the shared state (`shared`), a request reserves its slot in
the bucket all replicas share in Redis (`sharedlimit`: one round trip, Redis's clock), then
sleeps as above, margin included, counted as waiting in /status and the metrics; a refusal is the
same 429. While Redis is unavailable each replica paces alone, at `local_share` of each plan's
rate and burst (burst at least 1: N replicas with a share of 1/N stay within the plan together),
and the first reservation Redis answers again is shared. What does not carry over to replicas:

- A learned rate does not plan the shared bucket's reserved slots again: they belong to every
  replica, and moving them would take a round trip per waiter and each replica listening. A
  higher rate leaves them where they are and new calls go after them (calls queued on a cold
  start wait out the model's slots, bounded by the queue timeout; no 429); a lower one spreads
  the calls still owed at it, so new calls are not early, though calls already waiting go at
  their old slots (Amazon's 429, then the bounded retry). Local waiters are planned again.
- A cancelled waiter's shared slot is not given back: that would take a round trip from a
  cancelled task, and the bucket only loses one call's worth of its plan, never lets one too many
  through.
- The local and the shared bucket do not see each other's reservations: when Redis goes or
  comes back, calls reserved in the other may still be waiting, so for up to the queue timeout
  the replicas may together exceed the plan by what was waiting.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spproxy.errors import RateLimited
from spproxy.operations import QualifiedName
from spproxy.sharedlimit import SharedBuckets

if TYPE_CHECKING:
    from spproxy.sharedstate import SharedState

# Operations whose model states no usage plan, and paths we cannot classify: cautious, and
# corrected by the first x-amzn-RateLimit-Limit Amazon sends.
DEFAULT_PLAN = (1.0, 1)


@dataclass(slots=True, eq=False)
class Waiter:
    """A request waiting for its slot."""

    arrived: float
    wait: float  # from arrival to its slot (plus the margin)
    shared: bool = False  # its slot is in the bucket replicas share: not planned again here
    replanned: asyncio.Future[None] | None = None  # done: `wait` changed while it slept
    refusal: RateLimited | None = None  # re-planned beyond the queue timeout


@dataclass(slots=True)
class Bucket:
    rate: float  # tokens per second: the plan's, or the rate Amazon states
    burst: int
    tokens: float  # of the local bucket; may go negative: reserved slots not yet due
    updated: float
    share: float = 1.0  # of the plan the local bucket has (replicas, Redis unavailable)
    queue: dict[Waiter, None] = field(default_factory=dict)  # waiting now, oldest first
    waits: int = 0  # requests that have had to wait
    waited_s: float = 0.0  # how long, in all

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot now."""
        return len(self.queue)

    @property
    def local_rate(self) -> float:
        return self.rate * self.share

    @property
    def local_burst(self) -> int:
        return max(1, int(self.burst * self.share))

    def refill(self, now: float) -> None:
        self.tokens = min(
            float(self.local_burst), self.tokens + (now - self.updated) * self.local_rate
        )
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
        shared: SharedState | None = None,
        local_share: float = 1.0,  # of each plan, while `shared` Redis is unavailable
    ) -> None:
        self.queue_timeout_s = queue_timeout_s
        self._slot_margin_s = slot_margin_s
        self._clock = clock
        self._sleep = sleep
        self._shared = None if shared is None else SharedBuckets(shared)
        self._local_share = 1.0 if shared is None else local_share  # alone, a process has it all
        self.buckets: dict[BucketKey, Bucket] = {}

    async def acquire(self, key: BucketKey, rate: float | None, burst: int | None) -> float:
        """Wait for a slot in the key's bucket; the seconds waited. RateLimited past the timeout."""
        bucket = self._bucket(key, rate, burst)
        # No coroutine for the shared bucket unless there is one: this runs on every request.
        buckets = self._shared
        wait = await self._reserve_shared(buckets, key, bucket) if buckets is not None else None
        shared = wait is not None
        now = self._clock()
        if wait is None:
            wait = self._reserve_local(key, bucket, now)
        if wait == 0:
            return wait
        bucket.waits += 1
        bucket.waited_s += wait
        waiter = Waiter(now, wait, shared)
        bucket.queue[waiter] = None
        try:
            await self._wait(waiter)
        except asyncio.CancelledError:
            # A refused waiter's slot went back when it was refused; a shared one stays taken.
            if waiter.refusal is None and not waiter.shared:
                bucket.tokens += 1  # the client went away: its slot is free again
            raise
        finally:
            del bucket.queue[waiter]
        return waiter.wait

    def forget(self, account: str) -> None:
        """Drop the account's buckets: its plans changed (sandbox on or off). Requests waiting
        in them keep their slots; the next ones start a new bucket."""
        for key in [key for key in self.buckets if key[0] == account]:
            del self.buckets[key]

    def reconfigure(self, queue_timeout_s: float) -> None:
        """A reloaded config: the next requests wait at most this long."""
        self.queue_timeout_s = queue_timeout_s

    def snapshot(self, page: int) -> dict[str, Any]:
        """For /_spproxy/status: how many buckets, and the `page` busiest (most waiting)."""
        busiest = heapq.nlargest(page, self.buckets.items(), key=lambda item: item[1].waiting)
        return {
            "buckets_total": len(self.buckets),
            "buckets": [
                {
                    "account": account,
                    "operation": operation.name,
                    "api": operation.api,
                    "version": operation.version,
                    "rate": bucket.rate,
                    "burst": bucket.burst,
                    "tokens_left": round(max(bucket.tokens, 0.0), 3),
                    "waiting": bucket.waiting,
                }
                for (account, operation), bucket in busiest
            ],
        }

    async def learn(self, key: BucketKey, header: str | None) -> None:
        """Adopt the rate Amazon says it applied (`x-amzn-RateLimit-Limit: 0.0167`), here and
        for every replica, and plan the local slots already reserved again at that rate."""
        bucket = self.buckets.get(key)
        if bucket is None or not header:
            return
        try:
            rate = float(header)
        except ValueError:
            return
        if rate > 0 and math.isfinite(rate) and rate != bucket.rate:
            self._adopt(key, bucket, rate)
            if self._shared is not None:
                await self._shared.learn(*key, rate, bucket.burst)

    async def _reserve_shared(
        self, shared: SharedBuckets, key: BucketKey, bucket: Bucket
    ) -> float | None:
        """The wait for a slot in the bucket replicas share; None: Redis is unavailable.
        RateLimited past the timeout."""
        longest = max(0.0, self.queue_timeout_s - self._slot_margin_s)  # a wait gets the margin
        slot = await shared.reserve(*key, bucket.rate, bucket.burst, longest)
        if slot is None:
            return None
        self._adopt(key, bucket, slot.rate)  # a rate another replica learned
        wait = slot.wait_s + self._slot_margin_s if slot.wait_s > 0 else 0.0
        if not slot.granted:
            raise self._refused(key, bucket, wait)
        return wait

    def _reserve_local(self, key: BucketKey, bucket: Bucket, now: float) -> float:
        bucket.refill(now)
        wait = self._reserve(bucket)
        if wait > self.queue_timeout_s:
            bucket.tokens += 1  # give the slot back: this request will not use it
            raise self._refused(key, bucket, wait)
        return wait

    def _reserve(self, bucket: Bucket) -> float:
        """Take the local bucket's next slot; the seconds until it (plus the margin), 0 if free."""
        bucket.tokens -= 1
        if bucket.tokens >= 0:
            return 0.0
        return -bucket.tokens / bucket.local_rate + self._slot_margin_s

    def _adopt(self, key: BucketKey, bucket: Bucket, rate: float) -> None:
        if rate != bucket.rate:
            now = self._clock()
            bucket.refill(now)
            bucket.rate = rate
            self._replan(key, bucket, now)

    def _replan(self, key: BucketKey, bucket: Bucket, now: float) -> None:
        waiting = [w for w in bucket.queue if w.refusal is None and not w.shared]
        bucket.tokens += len(waiting)  # the bucket as it is without their reservations
        for waiter in waiting:
            wait = now - waiter.arrived + self._reserve(bucket)
            if wait > self.queue_timeout_s:
                bucket.tokens += 1
                waiter.refusal = self._refused(key, bucket, wait - (now - waiter.arrived))
                wait = now - waiter.arrived  # what it waited, in the end
            bucket.waited_s += wait - waiter.wait
            waiter.wait = wait
            if waiter.replanned is not None and not waiter.replanned.done():
                waiter.replanned.set_result(None)

    async def _wait(self, waiter: Waiter) -> None:
        """Sleep until the waiter's slot, however often it is planned again meanwhile."""
        loop = asyncio.get_running_loop()
        remaining = waiter.wait
        while True:
            replanned = waiter.replanned = loop.create_future()
            sleeping = asyncio.ensure_future(self._sleep(remaining))
            try:
                await asyncio.wait((sleeping, replanned), return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeping.cancel()
            if waiter.refusal is not None:
                raise waiter.refusal
            if not replanned.done():
                return
            remaining = max(0.0, waiter.arrived + waiter.wait - self._clock())

    def _refused(self, key: BucketKey, bucket: Bucket, retry_after_s: float) -> RateLimited:
        return RateLimited(
            f"The rate limit of {key[1]} for account '{key[0]}' ({bucket.rate:g}/s, burst "
            f"{bucket.burst}) has no free slot within upstream.queue_timeout_s "
            f"({self.queue_timeout_s:g} s).",
            "Retry after the time in Retry-After, or call less often.",
            retry_after_s=retry_after_s,
        )

    def _bucket(self, key: BucketKey, rate: float | None, burst: int | None) -> Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            default_rate, default_burst = DEFAULT_PLAN
            plan_rate, plan_burst = (
                (rate, burst) if rate and burst else (default_rate, default_burst)
            )
            bucket = Bucket(plan_rate, plan_burst, 0.0, self._clock(), self._local_share)
            bucket.tokens = float(bucket.local_burst)  # starts full
            self.buckets[key] = bucket
        return bucket
