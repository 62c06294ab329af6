"""Tokens kept fresh on a timer: warm-up within bounds, refresh ahead, recovery after outages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from spproxy.config import Account, LwaConfig, Secret
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    EmulatorState,
    make_emulator_app,
)
from spproxy.emulator.faults import LWA_PATH
from spproxy.keeper import TokenKeeper
from spproxy.lwa import LwaTokens
from spproxy.regions import REGIONS
from tests.harness import serve, serve_yaml

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


class FakeTime:
    """A clock that moves only when the test says; sleepers wake when their time has come."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, woken))
        await woken

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        for when, woken in [s for s in self._sleepers if s[0] <= self.now]:
            self._sleepers.remove((when, woken))
            if not woken.done():  # a sleep given up (the keeper was woken otherwise)
                woken.set_result(None)
        for _ in range(20):  # let the woken run until they wait again
            await asyncio.sleep(0)


@dataclass
class Kept:
    keeper: TokenKeeper
    tokens: LwaTokens
    amazon: EmulatorState
    time: FakeTime
    url: str


@pytest.fixture
async def kept(aiohttp_server: ServerFactory) -> AsyncIterator[Kept]:
    server = await aiohttp_server(make_emulator_app())
    url = str(server.make_url("")).rstrip("/")
    time = FakeTime()
    async with aiohttp.ClientSession() as session:
        lwa = LwaConfig(DEMO_CLIENT_ID, Secret(DEMO_CLIENT_SECRET), f"{url}/auth/o2/token")
        tokens = LwaTokens(session, lwa, timeout_s=10, clock=time.clock)
        keeper = TokenKeeper(
            tokens,
            concurrency=2,
            start_rate=2,
            clock=time.clock,
            sleep=time.sleep,
            jitter=lambda: 0,
        )
        yield Kept(keeper, tokens, server.app[STATE_KEY], time, url)
        await keeper.aclose()
        await tokens.aclose()


def accounts(url: str, n: int) -> list[Account]:
    aws_region = REGIONS["na"].aws_region
    return [Account(f"a{i}", Secret(DEMO_REFRESH_TOKEN), "na", url, aws_region) for i in range(n)]


async def _settle(kept: Kept) -> None:
    """Until the exchanges started have finished (real loopback I/O)."""
    async with asyncio.timeout(10):
        await kept.keeper.idle()


def _refreshes() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if "TokenKeeper._refresh" in repr(t.get_coro())]


async def test_warm_up_is_spread_and_bounded(kept: Kept) -> None:
    hold = kept.amazon.faults.hold(times=None, path=LWA_PATH)
    kept.keeper.start(accounts(kept.url, 6))
    await kept.time.advance(0)  # a0 starts at once; a1 half a second later (2 a second)
    async with asyncio.timeout(10):
        await hold.arrived(1)
    await kept.time.advance(10)  # every start is due, but two exchanges at a time
    async with asyncio.timeout(10):
        await hold.arrived(2)
    for _ in range(50):
        await asyncio.sleep(0)
    assert hold.waiting == 2
    # the four others wait in the schedule, not as tasks waiting for a slot
    assert len(_refreshes()) == 2
    hold.release()
    await _settle(kept)
    assert kept.amazon.lwa_exchanges["refresh_token"] == 6
    assert all(kept.tokens.expiry(a) for a in accounts(kept.url, 6))


async def test_tokens_are_refreshed_ahead_of_expiry_with_no_request(kept: Kept) -> None:
    (account,) = accounts(kept.url, 1)
    kept.keeper.start([account])
    await kept.time.advance(0)
    await _settle(kept)
    first = kept.tokens.expiry(account)
    assert first == kept.time.now + 3600  # the emulator's expires_in
    await kept.time.advance(3600 - 900 - 1)  # not yet due: 900 s ahead
    await _settle(kept)
    assert kept.amazon.lwa_exchanges["refresh_token"] == 1
    await kept.time.advance(1)
    await _settle(kept)
    assert kept.amazon.lwa_exchanges["refresh_token"] == 2
    assert kept.tokens.expiry(account) == kept.time.now + 3600


async def test_after_an_outage_it_retries_with_backoff_and_recovers(kept: Kept) -> None:
    (account,) = accounts(kept.url, 1)
    down = kept.amazon.faults.lwa_down(times=None)
    kept.keeper.start([account])
    attempts = []
    for step in (0, 0.5, 1, 2, 4):  # backoff 1, 2, 4, 8 s, halved by the (zero) jitter
        await kept.time.advance(step)
        await _settle(kept)
        attempts.append(down.applied)
    assert attempts == [1, 2, 3, 4, 5]
    assert kept.tokens.failures == {"a0": kept.tokens.failures["a0"]}
    down.clear()
    await kept.time.advance(8)
    await _settle(kept)
    assert kept.tokens.failures == {}
    assert (kept.tokens.expiry(account) or 0) > kept.time.now


async def test_a_real_proxy_becomes_ready_after_an_lwa_outage_without_traffic(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    server = await aiohttp_server(make_emulator_app())
    amazon = server.app[STATE_KEY]
    url = str(server.make_url("")).rstrip("/")
    amazon.faults.lwa_down(times=2)
    async with (
        serve(tmp_path, lambda port: serve_yaml(url, port)) as proxy,
        aiohttp.ClientSession(proxy.base) as session,
    ):
        statuses: list[int] = []
        async with asyncio.timeout(20):  # backoff: about 1 s, then 2 s
            while not statuses or statuses[-1] != 200:
                async with session.get("/_spproxy/ready") as ready:
                    statuses.append(ready.status)
                await asyncio.sleep(0.1)
    assert statuses[0] == 503 and statuses[-1] == 200
    assert amazon.requests == []  # no client traffic: the proxy recovered by itself
