"""Authorizations in progress: single-use, short-lived, bound to a browser, shared by replicas."""

from __future__ import annotations

import os

import redis.asyncio

from spproxy.authorizations import Authorization, Authorizations, browser_hash, new_secret
from spproxy.sealing import Sealer
from spproxy.sharedstate import SharedState
from tests.harness import free_port

US = Authorization("ATVPDKIKX0DER", "na", "acme", vendor=False, started_by="admin")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def shared(url: str, key: bytes) -> SharedState:
    return SharedState(redis.asyncio.Redis.from_url(url), "test-app", Sealer(key))


async def test_an_authorization_is_taken_once_and_expires() -> None:
    clock = FakeClock()
    pending = Authorizations(clock=clock)
    state = new_secret()
    assert len(state) >= 43 and state != new_secret()  # 256 random bits, urlsafe
    await pending.put("state", state, US)
    assert await pending.take("state", state) == US
    assert await pending.take("state", state) is None  # replayed
    await pending.put("state", state, US)
    clock.now += 601
    assert await pending.take("state", state) is None  # expired
    assert await pending.take("ticket", state) is None  # another kind: another namespace


def test_only_the_browser_that_started_it_completes_it() -> None:
    cookie = new_secret()
    started = Authorization(
        None, "eu", None, vendor=False, started_by="-", browser=browser_hash(cookie)
    )
    assert Authorizations.same_browser(started, cookie)
    assert not Authorizations.same_browser(started, new_secret())
    assert not Authorizations.same_browser(started, None)
    assert not Authorizations.same_browser(US, cookie)  # no browser bound yet: no callback


async def test_replicas_share_them_sealed_and_single_use(redis_url: str) -> None:
    key = os.urandom(32)
    one, two = shared(redis_url, key), shared(redis_url, key)
    try:
        started, elsewhere = Authorizations(one), Authorizations(two)
        state = new_secret()
        await started.put("state", state, US)
        raw = redis.asyncio.Redis.from_url(redis_url)
        (stored,) = [await raw.get(k) for k in await raw.keys("*")]
        assert stored is not None and b"acme" not in stored and state.encode() not in stored
        await raw.aclose()
        assert await elsewhere.take("state", state) == US  # the callback on another replica
        assert await started.take("state", state) is None  # and never again, anywhere
    finally:
        await one.aclose()
        await two.aclose()


async def test_without_redis_a_replica_knows_what_it_started() -> None:
    down = SharedState(
        redis.asyncio.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0"),
        "test-app",
        Sealer(os.urandom(32)),
    )
    try:
        pending = Authorizations(down)
        state = new_secret()
        await pending.put("state", state, US)
        assert await pending.take("state", state) == US and not down.up
    finally:
        await down.aclose()
