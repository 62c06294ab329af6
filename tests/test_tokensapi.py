"""createRestrictedDataToken against the emulator: what is sent, what a 200, a refusal, a
failure and an expired LWA token become."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from spproxy.config import Account, LwaConfig, Secret, UpstreamConfig
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    make_emulator_app,
)
from spproxy.errors import RdtRefused, TokensApiUnavailable
from spproxy.http1pool import Http1Client
from spproxy.lwa import LwaTokens
from spproxy.ratelimit import RateLimiter
from spproxy.regions import REGIONS
from spproxy.tokensapi import REFUSAL_HINT, Resource, TokensApi
from spproxy.upstream import Upstream

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
ADDRESS = Resource("GET", "/orders/v0/orders/{orderId}/address")
BUYER = Resource("GET", "/orders/v0/orders/{orderId}", ("buyerInfo",))
NOW = 1_000_000.0


@dataclass
class Minting:
    tokens_api: TokensApi
    lwa: LwaTokens
    account: Account
    amazon: EmulatorState


@asynccontextmanager
async def minting(
    aiohttp_server: ServerFactory, config: EmulatorConfig | None = None
) -> AsyncIterator[Minting]:
    server = await aiohttp_server(make_emulator_app(config or EmulatorConfig()))
    url = str(server.make_url("")).rstrip("/")
    account = Account("main", Secret(DEMO_REFRESH_TOKEN), "na", url, REGIONS["na"].aws_region)
    async with aiohttp.ClientSession() as session:
        client = Http1Client(proxy=None, trust_env=False)
        lwa = LwaTokens(
            session,
            LwaConfig(DEMO_CLIENT_ID, Secret(DEMO_CLIENT_SECRET), f"{url}/auth/o2/token"),
            timeout_s=5,
        )
        upstream = Upstream(
            client,
            config=UpstreamConfig(pacing=False),
            user_agent="t/1 (Language=Python/3)",
            signers={},
            limiter=RateLimiter(queue_timeout_s=1),
        )
        tokens_api = TokensApi(upstream, lwa, operation=None, clock=lambda: NOW)
        try:
            yield Minting(tokens_api, lwa, account, server.app[STATE_KEY])
        finally:
            await upstream.aclose()


async def test_a_mint_names_every_resource_and_expires_when_amazon_says(
    aiohttp_server: ServerFactory,
) -> None:
    async with minting(aiohttp_server) as m:
        rdt = await m.tokens_api.mint(m.account, [ADDRESS, BUYER])
        assert rdt.value.startswith("Atz.sprdt") and rdt.resources == (ADDRESS, BUYER)
        assert rdt.expires_at == NOW + 3600  # the emulator's expiresIn, from the call's start
        (mint,) = m.amazon.rdt_mints
        sent = [(r.method, r.path, sorted(r.data_elements)) for r in mint.restricted_resources]
        assert sent == [
            ("GET", ADDRESS.path, []),
            ("GET", BUYER.path, ["buyerInfo"]),
        ]


async def test_a_refusal_says_whether_it_was_a_bundle(aiohttp_server: ServerFactory) -> None:
    denied = EmulatorConfig(denied_paths=frozenset({ADDRESS.path}))
    async with minting(aiohttp_server, denied) as m:
        with pytest.raises(RdtRefused) as bundle:
            await m.tokens_api.mint(m.account, [BUYER, ADDRESS])
        with pytest.raises(RdtRefused) as alone:
            await m.tokens_api.mint(m.account, [ADDRESS])
        assert (bundle.value.bundled, alone.value.bundled) == (True, False)
        assert "account 'main'" in str(alone.value) and alone.value.details == REFUSAL_HINT
        assert len(m.amazon.refused_mints) == 2


async def test_a_failing_tokens_api_is_unavailable_not_a_refusal(
    aiohttp_server: ServerFactory,
) -> None:
    async with minting(aiohttp_server) as m:
        m.amazon.faults.tokens_api_down(status=503)
        with pytest.raises(TokensApiUnavailable) as failure:
            await m.tokens_api.mint(m.account, [ADDRESS])
        assert "HTTP 503" in str(failure.value)
        assert m.amazon.rdt_mints == []


async def test_an_expired_lwa_token_is_renewed_once_and_the_mint_resent(
    aiohttp_server: ServerFactory,
) -> None:
    async with minting(aiohttp_server) as m:
        stale = await m.lwa.seller_token(m.account)
        m.amazon.faults.expire(stale)
        rdt = await m.tokens_api.mint(m.account, [ADDRESS])
        assert rdt.value and len(m.amazon.rdt_mints) == 1
        assert m.amazon.lwa_exchanges["refresh_token"] == 2  # the first token, its renewal
        assert await m.lwa.seller_token(m.account) != stale
