"""The emulator's own endpoints: echo, blob and /_emulator/stats."""

from __future__ import annotations

import io
import json
import os

import pytest
from pytest_aiohttp import AiohttpClient

from spproxy.emulator import (
    EmulatorConfig,
    make_emulator_app,
)
from spproxy.emulator.apis.emulator_helpers import blob_bytes
from tests.emulator.conftest import Client, faults_of, lwa, seller_token, state_of

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
TOKENS = "/tokens/2021-03-01/restrictedDataToken"
RDT_BODY = {"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders/{orderId}"}]}


def seller(client: Client) -> dict[str, str]:
    token = state_of(client).issue_token("lwa", selling_partner_id="A1SELLER")
    return {"x-amz-access-token": token}


async def test_echo_returns_the_body_byte_for_byte(amazon: Client) -> None:
    body = os.urandom(3 * 1024 * 1024 + 7)
    headers = {**seller_token(amazon), "Content-Type": "application/x-test; charset=latin-1"}
    response = await amazon.put("/_emulator/echo/any/path", data=io.BytesIO(body), headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/x-test; charset=latin-1"
    assert await response.read() == body
    assert "x-amzn-RateLimit-Limit" not in response.headers


async def test_echo_without_content_type_answers_octet_stream(amazon: Client) -> None:
    response = await amazon.get("/_emulator/echo/", headers=seller_token(amazon))
    assert response.status == 200
    assert response.content_type == "application/octet-stream"
    assert await response.read() == b""


async def test_echo_needs_a_seller_token(amazon: Client) -> None:
    response = await amazon.post("/_emulator/echo/x", data=b"body")
    assert response.status == 403


@pytest.mark.parametrize("size", [0, 1, 65_537, 5 * 1024 * 1024])
async def test_blob_answers_deterministic_bytes(amazon: Client, size: int) -> None:
    response = await amazon.get(f"/_emulator/blob/{size}", headers=seller_token(amazon))
    assert response.status == 200
    assert response.content_type == "application/octet-stream"
    body = await response.read()
    assert len(body) == size
    assert body == blob_bytes(size)
    assert body == blob_bytes(size + 10)[:size]


async def test_blob_refusals(amazon: Client) -> None:
    too_big = await amazon.get("/_emulator/blob/999999999999", headers=seller_token(amazon))
    assert too_big.status == 400
    not_a_size = await amazon.get("/_emulator/blob/ten", headers=seller_token(amazon))
    assert not_a_size.status == 404


async def test_stats_count_without_a_token_and_show_no_secret(
    aiohttp_client: AiohttpClient,
) -> None:
    config = EmulatorConfig(
        rate_limits=True, clock=lambda: 0.0, usage_plans={"getMarketplaceParticipations": (1, 1)}
    )
    amazon = await aiohttp_client(make_emulator_app(config))
    token = (await (await lwa(amazon)).json())["access_token"]
    headers = {"x-amz-access-token": token}
    faults_of(amazon).fail(503, path="/_emulator")  # never hits the stats route
    for _ in range(2):
        await amazon.get(PARTICIPATIONS, headers=headers)
    await amazon.post(TOKENS, json=RDT_BODY, headers=headers)
    response = await amazon.get("/_emulator/stats")
    assert response.status == 200
    stats = await response.json()
    assert stats == {
        "requests": 3,
        "by_status": {"200": 2, "429": 1},
        "quota_refusals": 1,
        "quota_refusals_by_operation": {"getMarketplaceParticipations": 1},
        "lwa_exchanges": {"refresh_token": 1},
        "rdt_mints": 1,
        "sts_calls": 0,
    }
    text = json.dumps(stats)
    assert not any(secret in text for secret in state_of(amazon).issued_secrets())
    assert len(state_of(amazon).requests) == 3  # the stats call is not one of them


async def test_stats_survive_a_cleared_request_list(amazon: Client) -> None:
    await amazon.get(PARTICIPATIONS, headers=seller(amazon))
    state_of(amazon).requests.clear()
    stats = await (await amazon.get("/_emulator/stats")).json()
    assert (stats["requests"], stats["by_status"]) == (1, {"200": 1})
