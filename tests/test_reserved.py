"""spproxy's own endpoints: status, reload and the LWA stand-in (health and ready: test_app,
test_lwa)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from spproxy.app import make_app
from spproxy.config import Client, Config, ConfigError, Secret, UpstreamConfig
from spproxy.emulator import DEMO_REFRESH_TOKEN, EmulatorConfig, make_emulator_app
from tests.harness import proxy_config

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"


class Loader:
    """What the config file says now: tests change it, then ask for a reload."""

    def __init__(self, config: Config) -> None:
        self.config: Config | ConfigError = config

    def __call__(self) -> Config:
        if isinstance(self.config, ConfigError):
            raise self.config
        return self.config


@pytest.fixture
async def emulator_url(aiohttp_server: ServerFactory) -> str:
    emulator = EmulatorConfig(refresh_tokens={DEMO_REFRESH_TOKEN: "A1", "Atzr|two": "A2"})
    server = await aiohttp_server(make_emulator_app(emulator))
    return str(server.make_url("")).rstrip("/")


async def test_reload_applies_a_new_config_and_refuses_a_broken_one(
    aiohttp_client: ClientFactory, emulator_url: str
) -> None:
    config = proxy_config(emulator_url)
    loader = Loader(config)
    proxy = await aiohttp_client(make_app(config, loader=loader))
    two = {"x-spproxy-account": "two"}
    assert (await proxy.get(PARTICIPATIONS, headers=two)).status == 400

    loader.config = proxy_config(
        emulator_url, accounts={"main": DEMO_REFRESH_TOKEN, "two": "Atzr|two"}
    )
    response = await proxy.post("/_spproxy/reload")
    assert response.status == 200
    assert await response.json() == {"status": "reloaded", "accounts": ["main", "two"]}
    assert (await proxy.get(PARTICIPATIONS, headers=two)).status == 200

    loader.config = ConfigError(["lwa.client_secret: environment variable X is not set"])
    response = await proxy.post("/_spproxy/reload")
    assert response.status == 400
    error = (await response.json())["errors"][0]
    assert "the running one stays" in error["message"]
    assert error["details"] == "lwa.client_secret: environment variable X is not set"
    assert (await proxy.get(PARTICIPATIONS, headers=two)).status == 200  # still the good config


async def test_a_placeholder_stands_for_its_client_in_the_process_that_signed_it(
    aiohttp_client: ClientFactory, emulator_url: str
) -> None:
    key = "analytics-team-key-0123456789"
    config = proxy_config(emulator_url, clients={"analytics": Client("analytics", Secret(key))})
    signer, restarted = (
        await aiohttp_client(make_app(config)),
        await aiohttp_client(make_app(config)),
    )
    exchanged = await signer.post(
        "/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": key}
    )
    answer = await exchanged.json()
    assert (answer["token_type"], answer["expires_in"]) == ("bearer", 3600)
    placeholder = {"x-amz-access-token": answer["access_token"]}
    assert (await signer.get(PARTICIPATIONS, headers=placeholder)).status == 200
    # Without shared state each process signs with a key of its own: a restart (or another
    # replica) refuses it, and the SDK exchanges again.
    assert (await restarted.get(PARTICIPATIONS, headers=placeholder)).status == 401


async def test_reload_without_a_config_source_is_refused(
    aiohttp_client: ClientFactory, emulator_url: str
) -> None:
    proxy = await aiohttp_client(make_app(proxy_config(emulator_url)))
    response = await proxy.post("/_spproxy/reload")
    assert response.status == 400
    assert "no config file" in (await response.json())["errors"][0]["details"]
    assert (await proxy.get("/_spproxy/reload")).status == 404  # POST only


async def test_status_shows_buckets_accounts_and_no_secret(
    aiohttp_client: ClientFactory, emulator_url: str
) -> None:
    config = replace(proxy_config(emulator_url), upstream=UpstreamConfig(pacing=True))
    proxy = await aiohttp_client(make_app(config))
    for _ in range(3):
        assert (await proxy.get(PARTICIPATIONS)).status == 200
    status = await (await proxy.get("/_spproxy/status")).json()
    (bucket,) = status["buckets"]
    assert bucket == {
        "account": "main",
        "operation": "getMarketplaceParticipations",
        "api": "Sellers",
        "version": "v1",
        "rate": 0.016,
        "burst": 15,
        "tokens_left": pytest.approx(12, abs=0.01),
        "waiting": 0,
    }
    assert status["pacing"] is True and status["signing"] is False
    assert status["accounts"]["main"]["endpoint"] == emulator_url
    assert DEMO_REFRESH_TOKEN not in str(status)
