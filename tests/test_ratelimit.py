"""The token buckets, on a fake clock: waits are computed, not slept; shared by replicas
through a real Redis; and in front of an emulated Amazon that enforces its plans."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from time import monotonic
from types import MappingProxyType
from typing import Any

import pytest
import redis.asyncio

from spproxy.config import UpstreamConfig
from spproxy.emulator import (
    DEMO_REFRESH_TOKEN,
    EmulatorConfig,
)
from spproxy.errors import RateLimited
from spproxy.operations import SANDBOX_PLAN, UNKNOWN, QualifiedName
from spproxy.proxy import PROXY
from spproxy.ratelimit import DEFAULT_PLAN, RateLimiter
from spproxy.sealing import Sealer
from spproxy.sharedstate import SharedState
from tests.harness import StartHarness, free_port

KEY = ("main", QualifiedName("getInventorySummaries", "FBA Inventory", "v1"))
GET_ORDER = QualifiedName("getOrder", "Orders", "v0")


class FakeTime:
    """A clock that sleeping advances: `slept` records every wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def limiter(
    time: FakeTime, queue_timeout_s: float = 30, margin: float = 0, **options: Any
) -> RateLimiter:
    return RateLimiter(
        queue_timeout_s=queue_timeout_s,
        slot_margin_s=margin,
        clock=time.clock,
        sleep=time.sleep,
        **options,
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
    await limits.learn(("main", UNKNOWN), "5.0")
    assert bucket.rate == 5.0
    assert await limits.acquire(("main", UNKNOWN), None, None) == pytest.approx(0.2)
    for garbage in ("", "fast", "-1", "inf", "nan", None):
        await limits.learn(("main", UNKNOWN), garbage)
    assert bucket.rate == 5.0
    await limits.learn(("other", KEY[1]), "9")  # no bucket yet: nothing to adjust
    assert ("other", KEY[1]) not in limits.buckets


async def test_sandbox_pacing_lets_15_go_and_then_5_a_second() -> None:
    time = FakeTime()
    limits = limiter(time)
    waits = [await limits.acquire(KEY, *SANDBOX_PLAN) for _ in range(17)]
    assert waits == [0] * 15 + [pytest.approx(0.2), pytest.approx(0.4)]


ORDER = "/orders/v0/orders/TEST_CASE_200"


async def test_a_sandbox_account_is_paced_to_the_sandboxs_plan(start: StartHarness) -> None:
    """getOrder's production plan (0.5/s, burst 30) would send 20 calls at once; Amazon's
    sandbox (the emulator's static sandbox mode, enforcing its 5/s burst 15) sees no 429."""
    harness = await start(
        EmulatorConfig(static_sandbox=True, rate_limits=True),
        sandbox=True,
        upstream=UpstreamConfig(pacing=True),
    )
    responses = await asyncio.gather(*(harness.proxy.get(ORDER) for _ in range(20)))
    assert [r.status for r in responses] == [200] * 20
    assert harness.amazon.quota_refusals == 0
    (bucket,) = (await (await harness.proxy.get("/_spproxy/status")).json())["buckets"]
    assert (bucket["operation"], bucket["api"], bucket["rate"], bucket["burst"]) == (
        "getOrder",
        "Orders",
        5.0,
        15,
    )


async def test_a_reload_that_turns_sandbox_on_or_removes_an_account_drops_its_buckets(
    start: StartHarness,
) -> None:
    harness = await start(accounts={"a": DEMO_REFRESH_TOKEN, "b": DEMO_REFRESH_TOKEN})
    proxy = harness.proxy.app[PROXY]
    limits = proxy.limiter
    for account in ("a", "b"):
        await limits.acquire((account, GET_ORDER), 0.5, 30)
    accounts = dict(proxy.config.accounts)
    accounts["a"] = replace(accounts["a"], sandbox=True)
    del accounts["b"]
    proxy.reconfigure(replace(proxy.config, accounts=MappingProxyType(accounts)))
    assert limits.buckets == {}
    await limits.acquire(("a", GET_ORDER), 0.5, 30)
    proxy.reconfigure(replace(proxy.config, upstream=UpstreamConfig(pacing=True)))
    assert list(limits.buckets) == [("a", GET_ORDER)]  # no plan changed: kept


class HeldTime(FakeTime):
    """A fake clock whose sleeps last until `release()`: waiters stay waiting while a test
    teaches the bucket a new rate."""

    def __init__(self) -> None:
        super().__init__()
        self.released = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await self.released.wait()

    def release(self) -> None:
        self.released.set()


async def test_a_learned_rate_plans_the_reserved_slots_again() -> None:
    """Cold: calls queued at the model's 2/s go at the 100/s Amazon says, in their order, and a
    later call queues behind them, not on top of them."""
    time = HeldTime()
    limits = limiter(time)
    calls = [asyncio.create_task(limits.acquire(KEY, 2.0, 2)) for _ in range(6)]
    await asyncio.sleep(0)  # each has reserved its slot: 2 at once, 4 at the model's 2/s
    bucket = limits.buckets[KEY]
    assert [waiter.wait for waiter in bucket.queue] == [0.5, 1.0, 1.5, 2.0]
    await limits.learn(KEY, "100")  # Amazon's first answer
    assert [waiter.wait for waiter in bucket.queue] == pytest.approx([0.01, 0.02, 0.03, 0.04])
    later = asyncio.create_task(limits.acquire(KEY, 2.0, 2))
    await asyncio.sleep(0)
    assert [waiter.wait for waiter in bucket.queue][-1] == pytest.approx(0.05)
    time.now += 0.05
    time.release()
    waits = await asyncio.gather(*calls, later)
    assert waits == pytest.approx([0, 0, 0.01, 0.02, 0.03, 0.04, 0.05])
    assert bucket.waited_s == pytest.approx(0.15)  # the time waited, not the model's 5 s
    assert bucket.waiting == 0


async def test_a_lower_learned_rate_refuses_the_waiters_it_pushes_past_the_queue_timeout() -> None:
    time = HeldTime()
    limits = limiter(time, queue_timeout_s=3)
    calls = [asyncio.create_task(limits.acquire(KEY, 2.0, 1)) for _ in range(4)]
    await asyncio.sleep(0)  # 1 at once, 3 waiting 0.5, 1.0 and 1.5 s
    await limits.learn(KEY, "0.5")  # Amazon grants this seller less than the model says
    await limits.learn(KEY, "0.4")  # and less again, before the refused ones have left the queue
    bucket = limits.buckets[KEY]
    time.release()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert outcomes[:2] == [0, 2.5]  # the first waiter goes at 0.4/s
    for refused in outcomes[2:]:  # 4 s each at 0.5/s, over the 3 s timeout: a proxy-made 429
        assert isinstance(refused, RateLimited) and refused.retry_after_s == 4.0
    assert bucket.tokens == -1  # only the waiter that went still holds a slot
    assert bucket.waiting == 0


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


# Replicas: each RateLimiter with its own SharedState (its own Redis client), one namespace.
# Slots are computed on Redis's clock, which runs on while a test does: at a call per 1,000 s,
# the milliseconds a test takes are negligible, so waits are asserted to within a second.
SLOW = 0.001
OpenState = Callable[..., SharedState]


@pytest.fixture
async def states(redis_url: str) -> AsyncIterator[OpenState]:
    """open_state(url=the test's Redis, clock=...): a SharedState, closed after the test."""
    opened: list[SharedState] = []

    def open_state(url: str = redis_url, clock: Callable[[], float] = monotonic) -> SharedState:
        client = redis.asyncio.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        opened.append(SharedState(client, "test-app", Sealer(os.urandom(32)), clock=clock))
        return opened[-1]

    yield open_state
    for state in opened:
        await state.aclose()


def unreachable() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


async def test_replicas_sharing_redis_get_distinct_slots_in_order_within_one_plan(
    states: OpenState,
) -> None:
    time = FakeTime()
    replicas = [limiter(time, 1e4, margin=0.1, shared=states()) for _ in range(3)]
    rounds = [
        sorted(await asyncio.gather(*(replica.acquire(KEY, SLOW, 3) for replica in replicas)))
        for _ in range(3)
    ]
    # The burst of 3 at once, then one call per 1,000 s (plus the margin), each round after the
    # one before: together, the plan of one process.
    assert rounds[0] == [0, 0, 0]
    slots = [pytest.approx(n * 1000 + 0.1, abs=1) for n in range(1, 7)]
    assert rounds[1:] == [slots[:3], slots[3:]]
    assert sorted(time.slept) == rounds[1] + rounds[2]  # slept, not only computed
    assert [replica.buckets[KEY].waiting for replica in replicas] == [0, 0, 0]
    assert sum(replica.buckets[KEY].waits for replica in replicas) == 6


async def test_a_rate_one_replica_learns_paces_every_replica(states: OpenState) -> None:
    time = FakeTime()
    first, second = (limiter(time, 1e4, shared=states()) for _ in range(2))
    assert await first.acquire(KEY, SLOW, 1) == 0
    await first.learn(KEY, "0.002")  # Amazon says this seller may call twice as often
    assert await second.acquire(KEY, SLOW, 1) == pytest.approx(500, abs=1)  # not 1,000
    assert second.buckets[KEY].rate == 0.002  # shown in its /status too


async def test_beyond_the_queue_timeout_a_replica_refuses_and_reserves_nothing(
    states: OpenState,
) -> None:
    time = FakeTime()
    patient, hasty = limiter(time, 1e4, shared=states()), limiter(time, 1500, shared=states())
    assert await patient.acquire(KEY, SLOW, 1) == 0
    assert await hasty.acquire(KEY, SLOW, 1) == pytest.approx(1000, abs=1)
    with pytest.raises(RateLimited) as refused:
        await hasty.acquire(KEY, SLOW, 1)
    assert refused.value.retry_after_s == pytest.approx(2000, abs=1)
    assert await patient.acquire(KEY, SLOW, 1) == pytest.approx(2000, abs=1)  # the same slot
    assert hasty.buckets[KEY].waiting == 0
    # No wait at all allowed: the burst still goes, the margin no reason to refuse it.
    impatient = limiter(time, 0, margin=0.1, shared=states())
    assert await impatient.acquire(("main", GET_ORDER), SLOW, 1) == 0
    with pytest.raises(RateLimited):
        await impatient.acquire(("main", GET_ORDER), SLOW, 1)


async def test_a_shared_slot_is_kept_when_its_waiter_leaves_or_the_rate_changes(
    states: OpenState,
) -> None:
    """Unlike the local bucket's: see the module's docstring."""
    time = FakeTime()
    released = asyncio.Event()
    asleep: asyncio.Queue[float] = asyncio.Queue()

    async def held(seconds: float) -> None:
        asleep.put_nowait(seconds)
        await released.wait()

    limits = RateLimiter(
        queue_timeout_s=1e4, slot_margin_s=0, clock=time.clock, sleep=held, shared=states()
    )
    await limits.acquire(KEY, SLOW, 1)
    waiters = [asyncio.create_task(limits.acquire(KEY, SLOW, 1)) for _ in range(2)]
    for _ in waiters:  # each has reserved its slot (a round trip to Redis) and sleeps
        await asyncio.wait_for(asleep.get(), timeout=5)
    await limits.learn(KEY, "0.002")
    assert sorted(waiter.wait for waiter in limits.buckets[KEY].queue) == [
        pytest.approx(1000, abs=1),
        pytest.approx(2000, abs=1),
    ]
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    released.set()
    assert await limits.acquire(KEY, SLOW, 1) == pytest.approx(2500, abs=1)  # after both


async def test_while_redis_is_unavailable_a_replica_paces_alone_at_its_share(
    states: OpenState,
) -> None:
    time = FakeTime()
    limits = limiter(time, shared=states(unreachable()), local_share=0.5)
    assert [await limits.acquire(KEY, 2.0, 4) for _ in range(4)] == [0, 0, 1.0, 2.0]  # 1/s, 2
    assert [await limits.acquire(("main", GET_ORDER), 0.5, 1) for _ in range(2)] == [0, 4.0]
    assert limits.buckets[KEY].rate == 2.0  # the plan, as /status shows it


async def test_a_replica_goes_back_to_the_shared_bucket_when_redis_answers(
    redis_url: str, states: OpenState
) -> None:
    time = FakeTime()
    state = states(unreachable(), clock=time.clock)
    limits = limiter(time, 1e4, shared=state, local_share=0.5)
    assert [await limits.acquire(KEY, SLOW, 2) for _ in range(2)] == [0, 2000]  # local: half
    unanswered, state.client = state.client, redis.asyncio.Redis.from_url(redis_url)
    await unanswered.aclose()
    time.now += 6  # past the shared state's retry_s
    assert await limits.acquire(KEY, SLOW, 2) == 0  # shared: the whole plan's burst
    assert state.up and await limits.acquire(KEY, SLOW, 2) == 0
    assert await limits.acquire(KEY, SLOW, 2) == pytest.approx(1000, abs=1)
