"""The application's own answers: reserved paths, and the error shape of everything it makes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from spproxy.config import Client, Secret, UpstreamConfig
from spproxy.emulator import make_emulator_app
from tests.harness import Harness, StartHarness, serve, serve_yaml

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
INVENTORY = (
    "/fba/inventory/v1/summaries?granularityType=Marketplace&granularityId=ATVPDKIKX0DER"
    "&marketplaceIds=ATVPDKIKX0DER"
)


async def test_health_and_ready(harness: Harness) -> None:
    health = await harness.proxy.get("/_spproxy/health")
    assert health.status == 200 and await health.json() == {"status": "ok"}
    await harness.proxy.get("/sellers/v1/marketplaceParticipations")  # a token is in, surely
    ready = await harness.proxy.get("/_spproxy/ready")
    assert ready.status == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_spproxy/"),
        ("GET", "/_spproxy/secrets"),
        ("POST", "/_spproxy/health"),
        ("DELETE", "/_spproxy/ready"),
    ],
)
async def test_reserved_paths_are_never_forwarded(harness: Harness, method: str, path: str) -> None:
    response = await harness.proxy.request(method, path)
    assert response.status == 404
    assert response.headers["x-spproxy-origin"] == "proxy"
    error = (await response.json())["errors"][0]
    assert error["code"] == "NotFound" and path in error["message"]
    assert set(error) == {"code", "message", "details"}
    assert harness.amazon.requests == []


async def test_reserved_paths_stay_out_of_the_access_log(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="spproxy.access")
    await harness.proxy.get("/_spproxy/health")
    await harness.proxy.get("/sellers/v1/marketplaceParticipations")
    lines = [r.getMessage() for r in caplog.records if r.name == "spproxy.access"]
    assert len(lines) == 1 and "getMarketplaceParticipations" in lines[0]


def debug_headers(response: aiohttp.ClientResponse) -> dict[str, str]:
    """The answer's x-spproxy-operation and x-spproxy-credential, those it has."""
    names = ("x-spproxy-operation", "x-spproxy-credential")
    return {name: response.headers[name] for name in names if name in response.headers}


async def test_spproxys_own_answers_name_the_operation_and_credential_once_known(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]], tmp_path: Path
) -> None:
    """A real `spproxy serve`: a 429 from the queue (operation and credential known), a 502
    for a refused refresh token (the operation only), a 400 before classification (neither)."""
    amazon = await aiohttp_server(make_emulator_app())
    url = str(amazon.make_url("")).rstrip("/")
    revoked = f'  revoked: {{refresh_token: "Atzr|revoked", region: na, endpoint: "{url}"}}'

    def config(port: int) -> str:
        return serve_yaml(
            url, port, accounts=revoked, upstream="  queue_timeout_s: 0.2", pacing=True
        )

    async with serve(tmp_path, config) as proxy, aiohttp.ClientSession(proxy.base) as session:
        for _ in range(2):  # getInventorySummaries: 2/s, burst 2
            async with session.get(INVENTORY) as answer:
                assert answer.status == 200
        async with session.get(INVENTORY) as queued:  # its slot is 0.5 s away: over 0.2 s
            assert queued.status == 429 and queued.headers["x-spproxy-origin"] == "proxy"
            assert debug_headers(queued) == {
                "x-spproxy-operation": "getInventorySummaries",
                "x-spproxy-credential": "lwa",
            }
        async with session.get(PARTICIPATIONS, headers={"x-spproxy-account": "revoked"}) as failed:
            assert failed.status == 502 and failed.headers["x-spproxy-origin"] == "proxy"
            assert debug_headers(failed) == {"x-spproxy-operation": "getMarketplaceParticipations"}
        async with session.get(PARTICIPATIONS, headers={"x-spproxy-account": "nobody"}) as bad:
            assert bad.status == 400 and debug_headers(bad) == {}


async def test_a_refusal_by_grants_names_the_operation(start: StartHarness) -> None:
    key = "analytics-team-key-0123456789"
    harness = await start(clients={"analytics": Client("analytics", Secret(key))})  # no PII
    refused = await harness.proxy.get("/mfn/v0/shipments/abc", headers={"x-spproxy-key": key})
    assert refused.status == 403 and refused.headers["x-spproxy-origin"] == "proxy"
    assert debug_headers(refused) == {"x-spproxy-operation": "getShipment"}
    unknown = await harness.proxy.get(PARTICIPATIONS)  # no key: refused before classification
    assert unknown.status == 401 and debug_headers(unknown) == {}


async def test_an_unreachable_amazon_is_a_502_naming_operation_and_credential(
    start: StartHarness,
) -> None:
    harness = await start(upstream=UpstreamConfig(pacing=False, retries=0))
    harness.amazon.faults.drop()
    failed = await harness.proxy.post("/feeds/2021-06-30/documents", json={"contentType": "x"})
    assert failed.status == 502 and failed.headers["x-spproxy-origin"] == "proxy"
    assert debug_headers(failed) == {
        "x-spproxy-operation": "createFeedDocument",
        "x-spproxy-credential": "lwa",
    }
