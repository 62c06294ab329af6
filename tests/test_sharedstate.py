"""Shared state: calls go to a real Redis while it answers; when it does not, None at once, one
log line, and Redis tried again after retry_s."""

from __future__ import annotations

import logging
import os

import pytest
import redis.asyncio

from spproxy.sealing import Sealer
from spproxy.sharedstate import SharedState
from tests.harness import free_port


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state_at(url: str, clock: FakeClock) -> SharedState:
    client = redis.asyncio.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return SharedState(client, "test-app", Sealer(os.urandom(32)), retry_s=5, clock=clock)


async def test_keys_are_namespaced_in_one_cluster_slot(redis_url: str) -> None:
    state = state_at(redis_url, FakeClock())
    try:
        assert state.key("lwa", "main") == "spproxy:{test-app}:lwa:main"
        assert await state.call(lambda r: r.set(state.key("x"), b"1")) is True
        assert await state.call(lambda r: r.get(state.key("x"))) == b"1"
        assert state.up and state.snapshot()["up"] is True
    finally:
        await state.aclose()


async def test_an_unreachable_redis_is_skipped_until_retry_s_then_tried_again(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    down = state_at(f"redis://127.0.0.1:{free_port()}/0", clock)  # nothing listens there
    try:
        with caplog.at_level(logging.WARNING, "spproxy.state"):
            assert await down.call(lambda r: r.ping()) is None
            assert await down.call(lambda r: r.ping()) is None  # skipped: not tried again yet
        assert (down.up, down.failures) == (False, 1)
        assert [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()] == [
            "shared state: Redis unavailable (ConnectionError); serving with local state and a "
            "share of each plan until it answers again"
        ]
        clock.now += 3
        assert down.snapshot()["down_for_s"] == 3
        clock.now += 3  # past retry_s: tried again, still down, counted, not logged again
        assert await down.call(lambda r: r.ping()) is None
        assert down.failures == 2 and len(caplog.records) == 1
        # The same state pointed at a Redis that answers: back by itself at the next try.
        unreachable, down.client = down.client, redis.asyncio.Redis.from_url(redis_url)
        await unreachable.aclose()
        clock.now += 6
        with caplog.at_level(logging.WARNING, "spproxy.state"):
            assert await down.call(lambda r: r.ping()) is True
        assert down.up and "answers again after 12 s" in caplog.records[-1].getMessage()
    finally:
        await down.aclose()
