"""One fetch per key among replicas, against a real Redis: the others take the holder's token;
a holder that fails or dies delays them boundedly; Redis down means fetching as one process
would; what Redis holds is sealed, and what does not open is fetched again."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
import redis.asyncio

from spproxy.sharedtokens import SharedTokens, fingerprint
from tests.replicas import Waiting, redis_snapshot, shared_state, shared_states, unreachable_url


@dataclass(frozen=True)
class Tok:
    value: str
    expires_at: float


Operation = Callable[[redis.asyncio.Redis], Awaitable[object]]


def fresh(token: Tok) -> bool:
    return token.expires_at - 600 > time.time()


class Fetches:
    """A fetch that counts its calls; each call can be held until the test releases it."""

    def __init__(self, *, held: bool = False, failing: int = 0) -> None:
        self.calls = 0
        self.failing = failing  # the first this many calls fail
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        if not held:
            self.release.set()

    async def __call__(self) -> Tok:
        self.calls += 1
        call = self.calls
        self.holding.set()
        await self.release.wait()
        if call <= self.failing:
            raise RuntimeError("LWA said no")
        return Tok(f"token-{call}", time.time() + 3600)


def obtaining(tokens: SharedTokens, key: str, fetch: Fetches) -> asyncio.Task[Tok]:
    return asyncio.create_task(tokens.obtain(key, fetch, build=Tok, usable=fresh))


async def test_one_replica_fetches_and_the_others_take_its_token(redis_url: str) -> None:
    fetch = Fetches(held=True)
    async with shared_states(redis_url, 3) as states:
        waiting = Waiting(len(states))
        replicas = [SharedTokens(s, sleep=waiting.sleep(n)) for n, s in enumerate(states)]
        key = states[0].key("lwa", "account", "main")
        tasks = [obtaining(tokens, key, fetch) for tokens in replicas]
        await asyncio.wait_for(waiting.all_wait.wait(), 5)  # the holder fetches, 2 wait
        fetch.release.set()
        assert {(await task).value for task in tasks} == {"token-1"}
        assert fetch.calls == 1
        assert await states[0].client.exists(f"{key}:lock") == 0  # released


async def test_a_holder_that_fails_lets_one_waiting_replica_fetch(redis_url: str) -> None:
    fetch = Fetches(held=True, failing=1)
    async with shared_states(redis_url, 3) as states:
        waiting = Waiting(len(states))
        replicas = [SharedTokens(s, sleep=waiting.sleep(n)) for n, s in enumerate(states)]
        key = states[0].key("lwa", "account", "main")
        tasks = [obtaining(tokens, key, fetch) for tokens in replicas]
        await asyncio.wait_for(waiting.all_wait.wait(), 5)
        fetch.release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [str(r) for r in results if isinstance(r, RuntimeError)] == ["LWA said no"]
    assert [r.value for r in results if isinstance(r, Tok)] == ["token-2", "token-2"]
    assert fetch.calls == 2  # the holder's, then one of the others'


async def test_a_token_stored_between_reading_and_locking_is_not_fetched_again(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetch = Fetches()
    async with shared_states(redis_url, 2) as (late, quick):
        key = late.key("lwa", "account", "main")
        calls, call = 0, late.call

        async def interleaved(operation: Operation) -> object:
            nonlocal calls
            calls += 1
            if calls == 2:  # after the late replica's read, before it takes the lock
                assert (await obtaining(SharedTokens(quick), key, fetch)).value == "token-1"
            return await call(operation)

        monkeypatch.setattr(late, "call", interleaved)
        assert (await obtaining(SharedTokens(late), key, fetch)).value == "token-1"
        assert fetch.calls == 1
        assert await quick.client.exists(f"{key}:lock") == 0  # the lock it took, released


async def test_when_every_fetch_fails_each_replica_tries_once(redis_url: str) -> None:
    fetch = Fetches(failing=99)
    async with shared_states(redis_url, 3) as states:
        key = states[0].key("lwa", "account", "main")
        tasks = [obtaining(SharedTokens(state), key, fetch) for state in states]
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [type(result) for result in results] == [RuntimeError] * 3
    assert fetch.calls == 3  # no replica retries its own failure, none gives up untried


async def test_a_dead_holders_lock_delays_the_others_until_it_expires(redis_url: str) -> None:
    fetch = Fetches()
    async with shared_states(redis_url, 2) as states:
        key = states[0].key("lwa", "account", "main")
        await states[0].client.set(f"{key}:lock", "a replica that died", px=300)
        tasks = [obtaining(SharedTokens(state), key, fetch) for state in states]
        assert {(await task).value for task in tasks} == {"token-1"}
        assert fetch.calls == 1


async def test_a_lock_held_past_lock_timeout_is_waited_for_no_longer(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1_000.0]

    async def sleep(seconds: float) -> None:  # the fake clock moves as the replica waits
        now[0] += seconds
        await asyncio.sleep(0)

    fetch = Fetches()
    async with shared_states(redis_url, 2) as (state, other):
        tokens = SharedTokens(state, lock_timeout_s=1, clock=lambda: now[0], sleep=sleep)
        key = state.key("lwa", "account", "main")
        await state.client.set(f"{key}:lock", "a stuck holder", px=60_000)
        with caplog.at_level(logging.WARNING, "spproxy.sharedtokens"):
            token = await tokens.obtain(key, fetch, build=Tok, usable=lambda _: True)
        assert (token.value, fetch.calls) == ("token-1", 1)
        assert 1 <= now[0] - 1_000 < 1.3  # waited its lock_timeout_s, on the fake clock
        assert "held longer than 1 s" in caplog.text
        assert await state.client.get(f"{key}:lock") == b"a stuck holder"  # not its own: kept
        # What it fetched is shared all the same.
        assert (await obtaining(SharedTokens(other), key, fetch)).value == "token-1"
        assert fetch.calls == 1


async def test_a_cancelled_holder_releases_its_lock_at_once(redis_url: str) -> None:
    fetch = Fetches(held=True)
    async with shared_states(redis_url, 2) as (state, other):
        key = state.key("lwa", "account", "main")
        holder = obtaining(SharedTokens(state), key, fetch)
        await fetch.holding.wait()
        assert await state.client.exists(f"{key}:lock") == 1
        holder.cancel()
        with pytest.raises(asyncio.CancelledError):
            await holder
        assert await state.client.exists(f"{key}:lock") == 0
        fetch.release.set()
        assert (await obtaining(SharedTokens(other), key, fetch)).value == "token-2"


async def test_redis_down_means_fetching_as_a_process_alone_would() -> None:
    state = shared_state(unreachable_url())
    try:
        tokens, fetch = SharedTokens(state), Fetches()
        key = state.key("lwa", "account", "main")
        assert (await obtaining(tokens, key, fetch)).value == "token-1"
        assert (await obtaining(tokens, key, fetch)).value == "token-2"  # nothing was shared
        await tokens.discard([key], "token-1")  # nothing to drop, and no error
        assert not state.up
    finally:
        await state.aclose()


async def test_redis_holds_no_token_in_clear_and_keeps_it_until_it_expires(redis_url: str) -> None:
    secret = "Atza|a-token-nobody-may-read-from-a-snapshot"

    async def fetch() -> Tok:
        return Tok(secret, time.time() + 3600)

    async with shared_states(redis_url, 1) as (state,):
        key = state.key("lwa", "account", "main")
        await SharedTokens(state).obtain(key, fetch, build=Tok, usable=fresh)
        snapshot = await redis_snapshot(redis_url)
        assert list(snapshot) == [key.encode()]
        assert all(secret.encode() not in k + v for k, v in snapshot.items())
        assert b"Atza" not in snapshot[key.encode()]
        assert 3590_000 < await state.client.pttl(key) <= 3600_000


async def test_a_value_sealed_with_another_key_or_moved_is_fetched_again(redis_url: str) -> None:
    fetch = Fetches()
    other_key = shared_state(redis_url, key=bytes(32))
    async with shared_states(redis_url, 1) as (state,):
        try:
            key = state.key("lwa", "account", "main")
            assert (await obtaining(SharedTokens(state), key, fetch)).value == "token-1"
            assert (await obtaining(SharedTokens(other_key), key, fetch)).value == "token-2"
            moved = state.key("lwa", "account", "other")
            await state.client.set(moved, await state.client.get(key) or b"")
            assert (await obtaining(SharedTokens(state), moved, fetch)).value == "token-3"
            await state.client.set(key, b"garbage")
            assert (await obtaining(SharedTokens(state), key, fetch)).value == "token-4"
        finally:
            await other_key.aclose()


async def test_a_stored_token_the_caller_finds_unusable_is_fetched_again(redis_url: str) -> None:
    fetch = Fetches()
    async with shared_states(redis_url, 2) as (state, other):
        key = state.key("lwa", "account", "main")

        async def expiring() -> Tok:
            return Tok("token-expiring", time.time() + 300)  # inside refresh_ahead: renew

        assert (await SharedTokens(state).obtain(key, expiring, build=Tok, usable=fresh)).value
        assert (await obtaining(SharedTokens(other), key, fetch)).value == "token-1"
        assert (await obtaining(SharedTokens(state), key, fetch)).value == "token-1"  # stored
        assert fetch.calls == 1


async def test_a_token_is_stored_under_every_key_it_serves(redis_url: str) -> None:
    fetch = Fetches()
    async with shared_states(redis_url, 2) as (state, other):
        keys = [state.key("rdt", "main", name) for name in ("orders", "address")]
        bundle = await SharedTokens(state).obtain(
            keys[0], fetch, build=Tok, usable=fresh, served=lambda _: keys
        )
        assert (await obtaining(SharedTokens(other), keys[1], fetch)) == bundle
        assert fetch.calls == 1


async def test_a_refused_token_is_dropped_only_while_it_is_still_stored(redis_url: str) -> None:
    fetch = Fetches()
    async with shared_states(redis_url, 2) as (state, other):
        key = state.key("lwa", "account", "main")
        replica, replaced = SharedTokens(state), SharedTokens(other)
        assert (await obtaining(replica, key, fetch)).value == "token-1"
        await replica.discard([key], "token-0")  # not what is stored: kept
        assert (await obtaining(replaced, key, fetch)).value == "token-1"
        await replica.discard([key], "token-1")
        assert await state.client.exists(key) == 0
        assert (await obtaining(replaced, key, fetch)).value == "token-2"
        await replica.discard([key], "token-1")  # a late replica refused the old one too
        assert (await obtaining(replica, key, fetch)).value == "token-2"
        assert fetch.calls == 2


def test_fingerprints_tell_secrets_apart_in_bounded_keys() -> None:
    assert fingerprint("Atzr|one") != fingerprint("Atzr|two")
    assert len(fingerprint("x" * 10_000)) == 16
    assert len(fingerprint("GET", "/reports/doc", hex_digits=32)) == 32
    assert fingerprint("a", "bc") != fingerprint("ab", "c")  # parts stay apart
