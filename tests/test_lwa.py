"""LWA tokens as the user sees them: one exchange serves the hour; refusals are clear 502s."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler

from spproxy.config import Account, LwaConfig, Secret
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    EmulatorConfig,
    make_emulator_app,
)
from spproxy.errors import TokenExchangeError
from spproxy.lwa import LwaTokens
from tests.harness import StartHarness

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"


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
