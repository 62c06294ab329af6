"""The faults a test injects (`EmulatorState.faults`): which calls they hit and when, where they
act in the pipeline, LWA or the Tokens API down, expired tokens, a rotated secret."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientResponse
from pytest_aiohttp import AiohttpClient

from spproxy.emulator import (
    DEMO_CLIENT_SECRET,
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    make_emulator_app,
)
from spproxy.emulator.access import EXPIRED
from tests.emulator.conftest import Client, faults_of, lwa, state_of

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
ORDER = "/orders/v0/orders/902-1845936-5435065"
TOKENS = "/tokens/2021-03-01/restrictedDataToken"
RDT_BODY = {"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders/{orderId}"}]}
WAIT = 5  # seconds a test may wait for an event before it fails (never slept)


def seller(client: Client) -> dict[str, str]:
    token = state_of(client).issue_token("lwa", selling_partner_id="A1SELLER")
    return {"x-amz-access-token": token}


async def error_of(response: ClientResponse) -> dict[str, str]:
    body = await response.json()
    (error,) = body["errors"]
    assert set(error) == {"code", "message", "details"}
    return dict(error)


async def test_a_failed_post_reached_amazon_with_its_body(amazon: Client) -> None:
    faults_of(amazon).fail(503)
    response = await amazon.post(TOKENS, json=RDT_BODY, headers=seller(amazon))
    assert response.status == 503
    (received,) = state_of(amazon).requests
    assert (received.method, received.raw_path, received.status) == ("POST", TOKENS, 503)
    assert json.loads(received.body) == RDT_BODY
    assert state_of(amazon).rdt_mints == []


async def test_a_path_narrows_the_calls_a_fault_hits(amazon: Client) -> None:
    faults_of(amazon).fail(500, path="/orders/")
    headers = seller(amazon)
    assert (await amazon.get(PARTICIPATIONS, headers=headers)).status == 200
    assert (await amazon.get(ORDER, headers=headers)).status == 500
    assert (await amazon.get(ORDER, headers=headers)).status == 200


async def test_a_fault_without_times_lasts_until_cleared(amazon: Client) -> None:
    faults = faults_of(amazon)
    fault = faults.fail(503, times=None)
    headers = seller(amazon)
    for _ in range(4):
        assert (await amazon.get(PARTICIPATIONS, headers=headers)).status == 503
    assert fault.applied == 4 and fault.remaining is None
    faults.clear()
    assert (await amazon.get(PARTICIPATIONS, headers=headers)).status == 200
    assert faults.pending == []


async def test_faults_are_used_in_the_order_given(amazon: Client) -> None:
    faults = faults_of(amazon)
    faults.fail(500)
    faults.fail(503)
    headers = seller(amazon)
    codes = [(await amazon.get(PARTICIPATIONS, headers=headers)).status for _ in range(3)]
    assert codes == [500, 503, 200]


async def test_a_fault_comes_before_the_token_check(amazon: Client) -> None:
    faults_of(amazon).fail(503)
    response = await amazon.get(PARTICIPATIONS)  # no token at all
    assert response.status == 503
    assert state_of(amazon).requests[-1].token_kind is None


async def test_an_injected_failure_takes_no_quota(aiohttp_client: AiohttpClient) -> None:
    config = EmulatorConfig(
        rate_limits=True, clock=lambda: 0.0, usage_plans={"getMarketplaceParticipations": (1, 1)}
    )
    amazon = await aiohttp_client(make_emulator_app(config))
    faults_of(amazon).fail(503, times=3)
    headers = seller(amazon)
    codes = [(await amazon.get(PARTICIPATIONS, headers=headers)).status for _ in range(5)]
    assert codes == [503, 503, 503, 200, 429]


def test_nonsense_faults_are_refused() -> None:
    faults = EmulatorState(EmulatorConfig()).faults
    with pytest.raises(ValueError, match="4xx or 5xx"):
        faults.fail(200)
    with pytest.raises(ValueError, match="times"):
        faults.drop(times=0)
    with pytest.raises(ValueError, match="empty"):
        faults.rotate_client_secret("")


async def test_a_held_call_is_checked_when_it_goes_on(amazon: Client) -> None:
    hold = faults_of(amazon).hold()
    call = asyncio.create_task(amazon.get(PARTICIPATIONS, headers=seller(amazon)))
    async with asyncio.timeout(WAIT):
        await hold.arrived()
    faults_of(amazon).expire_tokens()
    hold.release()
    async with asyncio.timeout(WAIT):
        response = await call
    assert response.status == 403
    assert (await error_of(response))["details"] == EXPIRED
    assert state_of(amazon).requests[0].token_kind == "lwa"  # as it arrived


async def test_clearing_releases_held_calls(amazon: Client) -> None:
    faults = faults_of(amazon)
    hold = faults.hold(times=1)
    call = asyncio.create_task(amazon.get(PARTICIPATIONS, headers=seller(amazon)))
    async with asyncio.timeout(WAIT):
        await hold.arrived()
    assert hold.remaining == 0  # used up, still holding its call
    faults.release_all()
    async with asyncio.timeout(WAIT):
        assert (await call).status == 200


async def test_shutting_down_releases_held_calls(aiohttp_server: Any) -> None:
    server = await aiohttp_server(make_emulator_app())
    state = server.app[STATE_KEY]
    hold = state.faults.hold()
    token = state.issue_token("lwa", selling_partner_id="A1SELLER")
    async with aiohttp.ClientSession() as session:
        call = asyncio.create_task(
            session.get(server.make_url(PARTICIPATIONS), headers={"x-amz-access-token": token})
        )
        async with asyncio.timeout(WAIT):
            await hold.arrived()
            await server.close()
            response = await call
        assert response.status == 200
    assert hold.released


async def test_expired_tokens_are_refused_as_expired(amazon: Client) -> None:
    response = await lwa(amazon)
    token = (await response.json())["access_token"]
    headers = {"x-amz-access-token": token}
    assert (await amazon.get(PARTICIPATIONS, headers=headers)).status == 200
    assert faults_of(amazon).expire_tokens() == 1
    response = await amazon.get(PARTICIPATIONS, headers=headers)
    assert response.status == 403
    assert await error_of(response) == {
        "code": "Unauthorized",
        "message": "Access to requested resource is denied.",
        "details": EXPIRED,
    }
    fresh = (await (await lwa(amazon)).json())["access_token"]
    assert (await amazon.get(PARTICIPATIONS, headers={"x-amz-access-token": fresh})).status == 200


async def test_expiring_by_kind_or_one_token(amazon: Client) -> None:
    state = state_of(amazon)
    seller_token = state.issue_token("lwa", selling_partner_id="A1SELLER")
    other = state.issue_token("lwa", selling_partner_id="A1SELLER")
    rdt = state.issue_token("rdt", selling_partner_id="A1SELLER")
    assert state.faults.expire_tokens("rdt") == 1
    assert state.valid_token(rdt) is None and state.valid_token(seller_token) is not None
    state.faults.expire(seller_token)
    assert state.valid_token(seller_token) is None and state.valid_token(other) is not None
    with pytest.raises(KeyError):
        state.faults.expire("Atza|never-issued")


async def test_lwa_down_answers_503_until_cleared_and_spapi_keeps_serving(amazon: Client) -> None:
    headers = seller(amazon)
    down = faults_of(amazon).lwa_down()
    for _ in range(3):
        response = await lwa(amazon)
        assert response.status == 503
        assert (await response.json())["error"] == "temporarily_unavailable"
    assert (await amazon.get(PARTICIPATIONS, headers=headers)).status == 200
    assert state_of(amazon).lwa_exchanges == {}
    down.clear()
    assert (await lwa(amazon)).status == 200
    assert down.applied == 3


async def test_lwa_down_may_drop_connections(amazon: Client) -> None:
    faults_of(amazon).lwa_down(times=1, drop=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await lwa(amazon)
    assert (await lwa(amazon)).status == 200
    assert state_of(amazon).requests == []  # LWA calls are no SP-API calls


async def test_a_fault_without_path_leaves_lwa_alone(amazon: Client) -> None:
    faults_of(amazon).fail(503)
    assert (await lwa(amazon)).status == 200
    assert (await amazon.get(PARTICIPATIONS, headers=seller(amazon))).status == 503


async def test_tokens_api_down_refuses_mints_only(amazon: Client) -> None:
    headers = seller(amazon)
    down = faults_of(amazon).tokens_api_down()
    response = await amazon.post(TOKENS, json=RDT_BODY, headers=headers)
    assert response.status == 503
    assert (await error_of(response))["code"] == "ServiceUnavailable"
    assert (await amazon.get(ORDER, headers=headers)).status == 200
    down.clear()
    assert (await amazon.post(TOKENS, json=RDT_BODY, headers=headers)).status == 200
    assert len(state_of(amazon).rdt_mints) == 1


async def test_a_rotated_client_secret_replaces_the_old_one(amazon: Client) -> None:
    state = state_of(amazon)
    assert (await lwa(amazon)).status == 200
    state.faults.rotate_client_secret("amzn1.oa2-cs.v1.rotated")
    response = await lwa(amazon)
    assert response.status == 401
    assert (await response.json())["error"] == "invalid_client"
    assert (await lwa(amazon, "amzn1.oa2-cs.v1.rotated")).status == 200
    assert state.lwa_client_secrets_used == [DEMO_CLIENT_SECRET, "amzn1.oa2-cs.v1.rotated"]
    assert {DEMO_CLIENT_SECRET, "amzn1.oa2-cs.v1.rotated"} <= set(state.issued_secrets())
