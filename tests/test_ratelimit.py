"""The token buckets, on a fake clock: waits are computed, not slept."""

from __future__ import annotations

import asyncio

import pytest

from spproxy.config import UpstreamConfig
from spproxy.emulator import EmulatorConfig
from spproxy.errors import RateLimited
from spproxy.operations import UNKNOWN, QualifiedName
from spproxy.ratelimit import DEFAULT_PLAN, RateLimiter
from tests.harness import StartHarness

KEY = ("main", QualifiedName("getInventorySummaries", "FBA Inventory", "v1"))


class FakeTime:
    """A clock that sleeping advances: `slept` records every wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def limiter(time: FakeTime, queue_timeout_s: float = 30, margin: float = 0) -> RateLimiter:
    return RateLimiter(
        queue_timeout_s=queue_timeout_s, slot_margin_s=margin, clock=time.clock, sleep=time.sleep
    )


async def test_a_burst_goes_at_once_and_the_rest_wait_their_turn_in_order() -> None:
    time = FakeTime()
    limits = limiter(time)
    waits = [await limits.acquire(KEY, 2.0, 2) for _ in range(6)]  # 2 rps, burst 2
    assert waits == [0, 0, 0.5, 1.0, 1.5, 2.0]
    time.now += 10  # refilled, but never above the burst
    assert [await limits.acquire(KEY, 2.0, 2) for _ in range(3)] == [0, 0, 0.5]


async def test_waiters_go_a_margin_after_their_slot() -> None:
    time = FakeTime()
    limits = limiter(time, margin=0.1)
    assert [await limits.acquire(KEY, 2.0, 1) for _ in range(3)] == [0, 0.6, 1.1]


async def test_concurrent_waiters_get_successive_slots() -> None:
    time = FakeTime()
    limits = limiter(time)
    waits = await asyncio.gather(*(limits.acquire(KEY, 1.0, 1) for _ in range(4)))
    assert sorted(waits) == [0, 1.0, 2.0, 3.0]
    assert limits.buckets[KEY].waiting == 0


async def test_beyond_the_queue_timeout_a_429_with_retry_after_and_no_slot_taken() -> None:
    time = FakeTime()
    limits = limiter(time, queue_timeout_s=1.0)
    await limits.acquire(KEY, 0.0167, 1)  # getOrders-like: a minute per call after the burst
    with pytest.raises(RateLimited) as refused:
        await limits.acquire(KEY, 0.0167, 1)
    assert refused.value.status == 429
    assert refused.value.retry_after_s == pytest.approx(1 / 0.0167)
    response = refused.value.to_response()
    assert response.headers["Retry-After"] == "60"
    assert response.headers["x-spproxy-origin"] == "proxy"
    time.now += 1 / 0.0167
    assert await limits.acquire(KEY, 0.0167, 1) == 0  # the refused call did not eat the slot


async def test_a_cancelled_waiter_gives_its_slot_back() -> None:
    time = FakeTime()
    gate = asyncio.Event()

    async def sleep_until_released(seconds: float) -> None:
        await gate.wait()

    limits = RateLimiter(
        queue_timeout_s=30, slot_margin_s=0, clock=time.clock, sleep=sleep_until_released
    )
    await limits.acquire(KEY, 1.0, 1)
    waiter = asyncio.create_task(limits.acquire(KEY, 1.0, 1))
    await asyncio.sleep(0)
    assert limits.buckets[KEY].waiting == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limits.buckets[KEY].waiting == 0
    assert limits.buckets[KEY].tokens == 0  # the cancelled reservation was returned


async def test_amazons_header_sets_the_rate_and_unknown_plans_are_cautious() -> None:
    time = FakeTime()
    limits = limiter(time)
    await limits.acquire(("main", UNKNOWN), None, None)
    bucket = limits.buckets[("main", UNKNOWN)]
    assert (bucket.rate, bucket.burst) == DEFAULT_PLAN
    limits.learn(("main", UNKNOWN), "5.0")
    assert bucket.rate == 5.0
    assert await limits.acquire(("main", UNKNOWN), None, None) == pytest.approx(0.2)
    for garbage in ("", "fast", "-1", None):
        limits.learn(("main", UNKNOWN), garbage)
    assert bucket.rate == 5.0
    limits.learn(("other", KEY[1]), "9")  # no bucket yet: nothing to adjust
    assert ("other", KEY[1]) not in limits.buckets


INVENTORY = (
    "/fba/inventory/v1/summaries?granularityType=Marketplace&granularityId=ATVPDKIKX0DER"
    "&marketplaceIds=ATVPDKIKX0DER"
)


async def test_twelve_concurrent_calls_at_two_per_second_all_succeed(start: StartHarness) -> None:
    """getInventorySummaries: 2 requests/s, burst 2. Amazon (enforcing it) sees no 429."""
    harness = await start(EmulatorConfig(rate_limits=True), upstream=UpstreamConfig(pacing=True))
    responses = await asyncio.gather(*(harness.proxy.get(INVENTORY) for _ in range(12)))
    assert [r.status for r in responses] == [200] * 12
    assert harness.amazon.quota_refusals == 0
    (bucket,) = (await (await harness.proxy.get("/_spproxy/status")).json())["buckets"]
    assert (bucket["operation"], bucket["api"], bucket["version"]) == tuple(KEY[1])
    assert (bucket["rate"], bucket["burst"]) == (2.0, 2)


async def test_without_pacing_amazon_answers_429(start: StartHarness) -> None:
    """The control: the same calls unpaced draw Amazon's 429s (relayed after bounded retries)."""
    harness = await start(
        EmulatorConfig(rate_limits=True), upstream=UpstreamConfig(pacing=False, retries=0)
    )
    responses = await asyncio.gather(*(harness.proxy.get(INVENTORY) for _ in range(12)))
    assert sorted(r.status for r in responses) == [200, 200] + [429] * 10
    assert harness.amazon.quota_refusals == 10


async def test_a_call_with_no_slot_within_the_queue_timeout_is_a_proxy_made_429(
    start: StartHarness,
) -> None:
    harness = await start(upstream=UpstreamConfig(pacing=True, queue_timeout_s=0.2))
    first = [await harness.proxy.get(INVENTORY) for _ in range(2)]  # the burst
    response = await harness.proxy.get(INVENTORY)  # next slot in 0.5 s > 0.2 s
    assert [r.status for r in first] == [200, 200]
    assert response.status == 429
    assert response.headers["x-spproxy-origin"] == "proxy"
    assert response.headers["Retry-After"] == "1"
    assert len(harness.amazon.requests) == 2  # Amazon never saw the third
