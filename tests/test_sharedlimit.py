"""The shared buckets' script against a real Redis. Slots are computed on Redis's clock, which
runs on while a test does: plans of one call per 1,000 s make the few milliseconds a test takes
negligible, so waits are asserted to within a second of what the plan computes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from spproxy.operations import QualifiedName
from spproxy.redispipe import Pipe
from spproxy.sealing import Sealer
from spproxy.sharedlimit import KEEP_LEARNED_S, SharedBuckets, Slot
from spproxy.sharedstate import SharedState
from tests.harness import free_port

OPERATION = QualifiedName("getOrders", "Orders", "v0")
SLOW = 0.001  # a call per 1,000 s


def shared_state(url: str, *, piped: bool = True) -> SharedState:
    """As `sharedstate.connect` makes it: reservations through a pipe (a cluster's without)."""
    client = redis.asyncio.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    pipe = Pipe(client.connection_pool, 0.5) if piped else None
    return SharedState(client, "test-app", Sealer(os.urandom(32)), pipe=pipe)


@pytest.fixture(params=["piped", "pooled"])
async def state(redis_url: str, request: pytest.FixtureRequest) -> AsyncIterator[SharedState]:
    state = shared_state(redis_url, piped=request.param == "piped")
    yield state
    await state.aclose()


def waits(slots: list[Slot | None]) -> list[float]:
    assert all(slot is not None and slot.granted for slot in slots)
    return [slot.wait_s for slot in slots if slot is not None]


async def test_a_burst_goes_at_once_then_one_call_per_interval(state: SharedState) -> None:
    buckets = SharedBuckets(state)
    slots = [await buckets.reserve("main", OPERATION, SLOW, 2, 1e6) for _ in range(4)]
    assert waits(slots) == [0, 0, pytest.approx(1000, abs=1), pytest.approx(2000, abs=1)]
    key = buckets.key("main", OPERATION)
    assert key == "spproxy:{test-app}:bucket:main:getOrders (Orders v0)"
    # Gone when full again: in 4,000 s, when the four calls' intervals have passed.
    assert await state.client.pttl(key) == pytest.approx(4_000_000, abs=1000)
    other = await buckets.reserve("other", OPERATION, SLOW, 2, 1e6)  # another account's bucket
    assert other == Slot(True, 0, SLOW)


async def test_a_call_beyond_the_longest_wait_is_refused_and_reserves_nothing(
    state: SharedState,
) -> None:
    buckets = SharedBuckets(state)
    for _ in range(2):
        await buckets.reserve("main", OPERATION, SLOW, 1, 1e6)  # at once, then 1,000 s
    before = await state.client.hgetall(buckets.key("main", OPERATION))
    refused = await buckets.reserve("main", OPERATION, SLOW, 1, 1500)
    assert refused is not None and not refused.granted
    assert refused.wait_s == pytest.approx(2000, abs=1)  # the wait it would have needed
    assert await state.client.hgetall(buckets.key("main", OPERATION)) == before
    later = await buckets.reserve("main", OPERATION, SLOW, 1, 1e6)
    assert later is not None and later.wait_s == pytest.approx(2000, abs=1)  # the same slot


async def test_a_learned_rate_is_every_replicas_and_outlives_an_idle_bucket(
    redis_url: str,
) -> None:
    first, second = shared_state(redis_url), shared_state(redis_url)
    try:
        learner, other = SharedBuckets(first), SharedBuckets(second)
        assert await learner.learn("main", OPERATION, 0.002, 1) is True
        # The other replica passes the model's plan; the bucket's learned rate wins.
        slots = [await other.reserve("main", OPERATION, SLOW, 1, 1e6) for _ in range(2)]
        assert [slot.rate for slot in slots if slot is not None] == [0.002, 0.002]
        assert waits(slots) == [0, pytest.approx(500, abs=1)]
        assert await first.client.pttl(learner.key("main", OPERATION)) == pytest.approx(
            KEEP_LEARNED_S * 1000, abs=1000
        )
        # A plan passed by a replica does not change a stored rate, learned or not.
        await other.reserve("fresh", OPERATION, SLOW, 1, 1e6)
        fresh = await learner.reserve("fresh", OPERATION, 0.5, 1, 1e6)
        assert fresh is not None and fresh.rate == SLOW
        assert fresh.wait_s == pytest.approx(1000, abs=1)
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_lower_learned_rate_spreads_the_calls_owed_and_a_higher_one_queues_behind(
    state: SharedState,
) -> None:
    buckets = SharedBuckets(state)
    for account in ("lower", "higher"):
        for _ in range(2):  # one at once, one owed 500 s on
            await buckets.reserve(account, OPERATION, 0.002, 1, 1e6)
    await buckets.learn("lower", OPERATION, SLOW, 1)
    await buckets.learn("higher", OPERATION, 0.004, 1)
    lower = await buckets.reserve("lower", OPERATION, SLOW, 1, 1e6)
    higher = await buckets.reserve("higher", OPERATION, 0.002, 1, 1e6)
    # Lower: two calls owed, at 1,000 s each. Higher: two owed at 250 s each would be 500 s,
    # before the slot already given at 500 s; so after it, one new interval on.
    assert waits([lower]) == [pytest.approx(2000, abs=1)]
    assert waits([higher]) == [pytest.approx(750, abs=1)]


async def test_the_script_is_loaded_again_when_redis_has_lost_it(state: SharedState) -> None:
    buckets = SharedBuckets(state)
    await buckets.reserve("main", OPERATION, SLOW, 1, 1e6)
    await state.client.script_flush()
    again = await buckets.reserve("main", OPERATION, SLOW, 1, 1e6)
    assert waits([again]) == [pytest.approx(1000, abs=1)]


async def test_an_unavailable_redis_answers_none() -> None:
    state = shared_state(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        buckets = SharedBuckets(state)
        assert await buckets.reserve("main", OPERATION, SLOW, 1, 1e6) is None
        assert await buckets.learn("main", OPERATION, SLOW, 1) is False
        assert not state.up
    finally:
        await state.aclose()


@pytest.mark.parametrize("stored_rate", ["0", "-5", "inf", "nan", "garbage"])
async def test_a_rate_someone_else_wrote_is_ignored_for_the_plans(
    state: SharedState, stored_rate: str
) -> None:
    buckets = SharedBuckets(state)
    await state.client.hset(buckets.key("main", OPERATION), mapping={"rate": stored_rate})
    slots = [await buckets.reserve("main", OPERATION, SLOW, 1, 1e6) for _ in range(2)]
    assert waits(slots) == [0, pytest.approx(1000, abs=1)]  # the plan's rate, not the stored
    assert slots[1] is not None and slots[1].rate == SLOW


async def test_a_key_of_the_wrong_type_is_redis_unusable_not_a_failed_call(
    state: SharedState,
) -> None:
    buckets = SharedBuckets(state)
    await state.client.set(buckets.key("main", OPERATION), b"not a hash")
    assert await buckets.reserve("main", OPERATION, SLOW, 1, 1e6) is None  # WRONGTYPE: local
    assert state.snapshot()["last_error"] == "ResponseError" and not state.up
