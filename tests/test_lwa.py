"""LWA tokens as the user sees them: one exchange serves the hour; refusals are clear 502s."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler

from spproxy.config import Account, LwaConfig, Secret
from spproxy.emulator import (
    DEMO_AUTHORIZATION_CODE,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DEMO_SELLER_ID,
    STATE_KEY,
    EmulatorConfig,
    make_emulator_app,
)
from spproxy.errors import TokenExchangeError
from spproxy.lwa import LwaTokens
from tests.harness import StartHarness
from tests.replicas import redis_snapshot, shared_state, shared_states, unreachable_url

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
NOTIFICATIONS = "sellingpartnerapi::notifications"


async def test_refused_refresh_token_is_a_502_naming_invalid_grant(start: StartHarness) -> None:
    harness = await start(accounts={"main": "Atzr|revoked"})
    response = await harness.proxy.get(PARTICIPATIONS)
    assert response.status == 502
    assert response.headers["x-spproxy-origin"] == "proxy"
    error = (await response.json())["errors"][0]
    assert error["code"] == "TokenExchangeFailed"
    assert "invalid_grant" in error["message"] and "account 'main'" in error["message"]
    assert "authorise the app again" in error["details"]
    assert "Atzr|revoked" not in await response.text()
    assert harness.amazon.requests == []  # nothing went to SP-API without a token

    ready = await harness.proxy.get("/_spproxy/ready")
    assert ready.status == 503
    reasons = (await ready.json())["accounts"]
    assert "invalid_grant" in reasons["main"]
    assert (await harness.proxy.get("/_spproxy/health")).status == 200


async def test_refused_client_secret_names_invalid_client_and_rotation(start: StartHarness) -> None:
    harness = await start(client_secret="an-expired-secret")
    response = await harness.proxy.get(PARTICIPATIONS)
    assert response.status == 502
    text = await response.text()
    error = (await response.json())["errors"][0]
    assert "invalid_client" in error["message"]
    assert "rotate" in error["details"] and "lwa.client_secret" in error["details"]
    assert "an-expired-secret" not in text


async def test_grantless_refusal_is_reported_for_its_scope(start: StartHarness) -> None:
    harness = await start(client_secret="wrong")
    response = await harness.proxy.get("/notifications/v1/destinations")
    assert response.status == 502
    assert (
        "scope sellingpartnerapi::notifications" in (await response.json())["errors"][0]["message"]
    )


async def test_lwa_unreachable_is_a_502_and_the_proxy_recovers(start: StartHarness) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/auth/o2/token"
    harness = await start(lwa_endpoint=dead)
    response = await harness.proxy.get(PARTICIPATIONS)
    assert response.status == 502
    error = (await response.json())["errors"][0]
    assert "LWA could not be reached" in error["message"] and "lwa.endpoint" in error["details"]


async def test_a_ready_proxy_reports_ready(start: StartHarness) -> None:
    harness = await start()
    assert (await harness.proxy.get(PARTICIPATIONS)).status == 200
    ready = await harness.proxy.get("/_spproxy/ready")
    assert ready.status == 200
    assert await ready.json() == {
        "status": "ready",
        "rule": "default",
        "accounts_total": 1,
        "accounts_holding_a_token": 1,
        "accounts_failing": 0,
        "accounts": {},
    }


ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


def _tokens(session: aiohttp.ClientSession, emulator: TestServer, **options: Any) -> LwaTokens:
    endpoint = str(emulator.make_url("/auth/o2/token"))
    config = LwaConfig(DEMO_CLIENT_ID, Secret(DEMO_CLIENT_SECRET), endpoint)
    return LwaTokens(session, config, timeout_s=5, **options)


def _account(refresh_token: str = DEMO_REFRESH_TOKEN) -> Account:
    return Account("main", Secret(refresh_token), "na", "http://unused", "us-east-1")


async def test_a_fixed_account_recovers_readiness(aiohttp_server: ServerFactory) -> None:
    """A failed exchange marks the account not ready; the next success clears it."""
    server = await aiohttp_server(make_emulator_app())
    async with aiohttp.ClientSession() as session:
        tokens = _tokens(session, server)
        with pytest.raises(TokenExchangeError, match="invalid_grant"):
            await tokens.seller_token(_account("Atzr|wrong"))
        assert "main" in tokens.failures
        await tokens.seller_token(_account())
        assert tokens.failures == {}


async def test_tokens_are_reused_until_the_safety_margin(aiohttp_server: ServerFactory) -> None:
    server = await aiohttp_server(make_emulator_app(EmulatorConfig(token_ttl_s=3600)))
    amazon = server.app[STATE_KEY]
    now = [1_000_000.0]
    async with aiohttp.ClientSession() as session:
        tokens = _tokens(session, server, margin_s=120, clock=lambda: now[0])
        first = await tokens.seller_token(_account())
        now[0] += 3600 - 121  # one second before the margin: still the same token
        assert await tokens.seller_token(_account()) == first
        assert amazon.lwa_exchanges["refresh_token"] == 1
        now[0] += 2  # inside the margin: exchanged again
        assert await tokens.seller_token(_account()) != first
        assert amazon.lwa_exchanges["refresh_token"] == 2


async def test_one_waiter_giving_up_does_not_cancel_the_exchange_for_others(
    aiohttp_server: ServerFactory,
) -> None:
    release = asyncio.Event()
    emulator = make_emulator_app()

    @web.middleware
    async def hold_lwa(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/auth/o2/token":
            await release.wait()
        return await handler(request)

    emulator.middlewares.insert(0, hold_lwa)
    server = await aiohttp_server(emulator)
    async with aiohttp.ClientSession() as session:
        tokens = _tokens(session, server)
        impatient = asyncio.create_task(tokens.seller_token(_account()))
        patient = asyncio.create_task(tokens.seller_token(_account()))
        await asyncio.sleep(0)  # both now wait on the one exchange
        impatient.cancel()
        release.set()
        assert (await patient).startswith("Atza|")
        assert server.app[STATE_KEY].lwa_exchanges["refresh_token"] == 1


async def test_refresh_ahead_happens_in_the_background(aiohttp_server: ServerFactory) -> None:
    server = await aiohttp_server(make_emulator_app())
    amazon = server.app[STATE_KEY]
    now = [1_000_000.0]
    async with aiohttp.ClientSession() as session:
        tokens = _tokens(session, server, margin_s=120, refresh_ahead_s=600, clock=lambda: now[0])
        first = await tokens.seller_token(_account())
        hold = amazon.faults.hold(path="/auth/o2/token")  # LWA is slow from now on
        now[0] += 3600 - 500  # in the refresh-ahead window
        assert await tokens.seller_token(_account()) == first  # served at once, not held
        await hold.arrived(1)  # while the exchange runs in the background
        hold.release()
        for _ in range(100):  # bounded: let the background exchange finish
            if amazon.lwa_exchanges["refresh_token"] == 2:
                break
            await asyncio.sleep(0.01)
        second = await tokens.seller_token(_account())
        assert second != first and amazon.lwa_exchanges["refresh_token"] == 2


async def test_lwa_down_keeps_serving_the_still_valid_token(aiohttp_server: ServerFactory) -> None:
    server = await aiohttp_server(make_emulator_app())
    amazon = server.app[STATE_KEY]
    now = [1_000_000.0]
    async with aiohttp.ClientSession() as session:
        tokens = _tokens(session, server, margin_s=120, refresh_ahead_s=600, clock=lambda: now[0])
        first = await tokens.seller_token(_account())
        amazon.faults.lwa_down()
        now[0] += 3600 - 60  # inside the margin: an exchange is due, and fails
        assert await tokens.seller_token(_account()) == first
        assert "main" in tokens.failures  # /ready says so
        now[0] += 61  # expired: nothing left to serve with
        with pytest.raises(TokenExchangeError):
            await tokens.seller_token(_account())
        amazon.faults.clear()
        assert await tokens.seller_token(_account()) != first
        assert tokens.failures == {}


@asynccontextmanager
async def lwa_replicas(
    session: aiohttp.ClientSession, emulator: TestServer, redis_url: str, count: int, **options: Any
) -> AsyncIterator[list[LwaTokens]]:
    """`count` replicas' LwaTokens, each with its own shared state on one Redis namespace."""
    async with shared_states(redis_url, count) as states:
        yield [_tokens(session, emulator, shared=state, **options) for state in states]


async def test_replicas_exchange_once_per_account_and_per_scope(
    aiohttp_server: ServerFactory, redis_url: str
) -> None:
    server = await aiohttp_server(make_emulator_app())
    amazon = server.app[STATE_KEY]
    async with (
        aiohttp.ClientSession() as session,
        lwa_replicas(session, server, redis_url, 3) as replicas,
    ):
        sellers = [tokens.seller_token(_account()) for tokens in replicas]
        scopes = [tokens.grantless_token(NOTIFICATIONS) for tokens in replicas]
        *seller_tokens, grantless_1, grantless_2, grantless_3 = await asyncio.gather(
            *sellers, *scopes
        )
        assert len(set(seller_tokens)) == 1 and grantless_1 == grantless_2 == grantless_3
        assert amazon.lwa_exchanges == {"refresh_token": 1, "client_credentials": 1}
        assert sum(tokens.exchanges for tokens in replicas) == 2  # each counts its own
        snapshot = await redis_snapshot(redis_url)
    assert len(snapshot) == 2  # one token each; the locks are released
    for secret in [*amazon.tokens, DEMO_REFRESH_TOKEN, DEMO_CLIENT_SECRET]:
        assert all(secret.encode() not in key + value for key, value in snapshot.items())


async def test_whichever_replica_renews_first_serves_the_others(
    aiohttp_server: ServerFactory, redis_url: str
) -> None:
    server = await aiohttp_server(make_emulator_app())
    amazon = server.app[STATE_KEY]
    now = [1_000_000.0]
    async with (
        aiohttp.ClientSession() as session,
        lwa_replicas(session, server, redis_url, 3, refresh_ahead_s=600, clock=lambda: now[0]) as (
            keeping,
            renewing,
            requesting,
        ),
    ):
        first = await keeping.seller_token(_account())
        assert await renewing.seller_token(_account()) == first
        assert await requesting.seller_token(_account()) == first
        assert amazon.lwa_exchanges["refresh_token"] == 1
        now[0] += 3600 - 900  # the keeper's time: a new token, though the old one is fresh
        await keeping.refresh(_account())
        second = await keeping.seller_token(_account())
        assert second != first and amazon.lwa_exchanges["refresh_token"] == 2
        await renewing.refresh(_account())  # another replica's keeper: the newer token, shared
        assert await renewing.seller_token(_account()) == second
        now[0] += 400  # a request in the refresh-ahead window: the current token, and a renewal
        assert await requesting.seller_token(_account()) == first
        for _ in range(100):  # bounded: the renewal in the background takes the shared token
            if requesting.expiry(_account()) != keeping.expiry(_account()):
                await asyncio.sleep(0.01)
        assert await requesting.seller_token(_account()) == second
        assert amazon.lwa_exchanges["refresh_token"] == 2
        assert [tokens.exchanges for tokens in (keeping, renewing, requesting)] == [2, 0, 0]


async def test_a_changed_refresh_token_never_takes_the_old_token(
    aiohttp_server: ServerFactory, redis_url: str
) -> None:
    sellers = {DEMO_REFRESH_TOKEN: "A1SELLER", "Atzr|reauthorised": "A2SELLER"}
    server = await aiohttp_server(make_emulator_app(EmulatorConfig(refresh_tokens=sellers)))
    amazon = server.app[STATE_KEY]
    async with (
        aiohttp.ClientSession() as session,
        lwa_replicas(session, server, redis_url, 2) as (old, new),
    ):
        before = await old.seller_token(_account())
        after = await new.seller_token(_account("Atzr|reauthorised"))
        assert after != before and amazon.lwa_exchanges["refresh_token"] == 2
        assert amazon.tokens[after].selling_partner_id == "A2SELLER"
        new.forget("main")  # as a reload does when the account's refresh token changed
        with pytest.raises(TokenExchangeError, match="invalid_grant"):
            await new.seller_token(_account("Atzr|revoked"))  # exchanged, and refused


async def test_a_token_amazon_refused_is_dropped_for_every_replica(
    aiohttp_server: ServerFactory, redis_url: str
) -> None:
    server = await aiohttp_server(make_emulator_app())
    amazon = server.app[STATE_KEY]
    async with (
        aiohttp.ClientSession() as session,
        lwa_replicas(session, server, redis_url, 2) as (first, late),
    ):
        refused = await first.seller_token(_account())
        assert await late.seller_token(_account()) == refused
        await first.invalidate_seller_token(_account(), refused)
        renewed = await first.seller_token(_account())  # not the refused one, from Redis
        assert renewed != refused and amazon.lwa_exchanges["refresh_token"] == 2
        assert await late.seller_token(_account()) == refused  # what it holds, until refused
        await late.invalidate_seller_token(_account(), refused)  # leaves the renewed one
        assert await late.seller_token(_account()) == renewed
        assert amazon.lwa_exchanges["refresh_token"] == 2


async def test_redis_down_leaves_each_replica_exchanging_alone(
    aiohttp_server: ServerFactory,
) -> None:
    server = await aiohttp_server(make_emulator_app())
    amazon = server.app[STATE_KEY]
    state = shared_state(unreachable_url())
    try:
        async with aiohttp.ClientSession() as session:
            tokens = _tokens(session, server, shared=state)
            token = await tokens.seller_token(_account())
            assert await tokens.seller_token(_account()) == token  # cached here
            await tokens.invalidate_seller_token(_account(), token)
            assert await tokens.seller_token(_account()) != token
        assert amazon.lwa_exchanges["refresh_token"] == tokens.exchanges == 2
        assert not state.up
    finally:
        await state.aclose()


async def test_an_authorization_code_is_redeemed_once_for_a_refresh_token_that_works(
    aiohttp_server: ServerFactory,
) -> None:
    server = await aiohttp_server(make_emulator_app())
    async with aiohttp.ClientSession() as session:
        tokens = _tokens(session, server)
        redirect = "https://app.example.com/_spproxy/onboarding/callback"
        refresh_token = await tokens.redeem(DEMO_AUTHORIZATION_CODE, redirect)
        assert refresh_token.startswith("Atzr|") and refresh_token != DEMO_REFRESH_TOKEN
        assert await tokens.seller_token(_account(refresh_token))  # the seller's, from now on
        with pytest.raises(TokenExchangeError, match="invalid_grant") as again:
            await tokens.redeem(DEMO_AUTHORIZATION_CODE, redirect)  # a code works once
        assert again.value.refused and refresh_token not in str(again.value)
    assert server.app[STATE_KEY].granted_refresh_tokens == {refresh_token: DEMO_SELLER_ID}
