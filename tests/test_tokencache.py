"""The one token cache: single flight, refresh ahead, stale served while fetching fails."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from spproxy.tokencache import TokenCache


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float


class Down(Exception):
    pass


class Source:
    """Fetches on a fake clock; `gate` holds a fetch until the test opens it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.fetches = 0
        self.failing = False
        self.gate = asyncio.Event()
        self.gate.set()

    def clock(self) -> float:
        return self.now

    async def fetch(self) -> Token:
        self.fetches += 1
        await self.gate.wait()
        if self.failing:
            raise Down
        return Token(f"t{self.fetches}", self.now + 3600)


def cache(source: Source, **options: object) -> TokenCache[str, Token]:
    return TokenCache(
        margin_s=60,
        refresh_ahead_s=300,
        clock=source.clock,
        stale_on=(Down,),
        **options,  # type: ignore[arg-type]
    )


async def get(tokens: TokenCache[str, Token], source: Source) -> tuple[Token, bool]:
    return await tokens.get(
        "k",
        wait=lambda: tokens.fetch("k", source.fetch),
        renew=lambda: tokens.start(["k"], source.fetch),
    )


async def test_one_fetch_serves_every_waiter_and_a_waiter_giving_up_cancels_nothing() -> None:
    source = Source()
    tokens = cache(source)
    source.gate.clear()
    waiters = [asyncio.create_task(get(tokens, source)) for _ in range(20)]
    await asyncio.sleep(0)
    waiters[0].cancel()
    source.gate.set()
    results = await asyncio.gather(*waiters[1:])
    assert source.fetches == 1 and {token.value for token, _ in results} == {"t1"}
    assert all(fetched for _, fetched in results)


async def test_fresh_then_renewed_in_the_background_then_waited_for() -> None:
    source = Source()
    tokens = cache(source)
    first, _ = await get(tokens, source)
    source.now += 3600 - 300 - 1  # fresh
    assert await get(tokens, source) == (first, False) and source.fetches == 1
    source.now += 2  # inside refresh_ahead_s: served, renewed behind
    assert await get(tokens, source) == (first, False)
    renewal = tokens.fetching("k")
    assert renewal is not None
    await renewal
    await asyncio.sleep(0)  # the done callback stores it
    assert source.fetches == 2 and tokens.store["k"].value == "t2"
    source.now += 3600  # past every margin: waits
    token, fetched = await get(tokens, source)
    assert (token.value, fetched, source.fetches) == ("t3", True, 3)


async def test_a_failing_fetch_serves_what_has_not_expired_and_then_fails() -> None:
    source = Source()
    tokens = cache(source)
    first, _ = await get(tokens, source)
    source.failing = True
    source.now += 3600 - 30  # inside the margin: a fetch is due, and fails
    assert await get(tokens, source) == (first, False)
    source.now += 31  # expired
    with pytest.raises(Down):
        await get(tokens, source)


async def test_a_fetch_for_several_keys_is_stored_under_each_and_drop_forgets() -> None:
    source = Source()
    tokens = cache(source)
    source.gate.clear()
    task = tokens.start(["a", "b"], source.fetch)
    assert tokens.fetching("a") is task and tokens.fetching("a", alone=True) is None
    source.gate.set()
    await task
    assert tokens.store["a"] is tokens.store["b"]
    tokens.drop(lambda key, _: key == "a")
    assert list(tokens.store) == ["b"]
    await tokens.aclose()


async def test_a_fetch_is_stored_only_under_the_keys_it_serves() -> None:
    source = Source()
    tokens = cache(source, serves=lambda key, _: key != "b")
    await tokens.start(["a", "b"], source.fetch)
    assert list(tokens.store) == ["a"]  # "b" is fetched again when asked for


def test_another_replicas_token_renews_only_when_fresh_and_newer() -> None:
    source = Source()
    tokens = cache(source)
    assert tokens.renews("k", Token("shared", 1000 + 301))  # nothing held, fresh
    assert not tokens.renews("k", Token("shared", 1000 + 300))  # due for renewal itself
    tokens.store["k"] = Token("held", 1000 + 900)  # fresh, but the keeper renews it
    assert not tokens.renews("k", Token("same", 1000 + 900))
    assert tokens.renews("k", Token("newer", 1000 + 901))
