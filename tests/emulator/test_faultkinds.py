"""What each kind of fault does to the call it hits: a failure's answer, a dropped connection,
a hold or a delay."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.emulator.conftest import Client, faults_of, state_of
from tests.emulator.test_faults import ORDER, PARTICIPATIONS, WAIT, error_of, seller


async def test_failures_answer_the_next_calls_in_spapi_shape(amazon: Client) -> None:
    fault = faults_of(amazon).fail(503, times=2, retry_after="3")
    headers = seller(amazon)
    for _ in range(2):
        response = await amazon.get(PARTICIPATIONS, headers=headers)
        assert response.status == 503
        assert response.headers["Retry-After"] == "3"
        assert response.headers["x-amzn-RequestId"]
        assert (await error_of(response))["code"] == "ServiceUnavailable"
    assert (await amazon.get(PARTICIPATIONS, headers=headers)).status == 200
    assert (fault.applied, fault.remaining, fault.active) == (2, 0, False)
    received = state_of(amazon).requests
    assert [(r.status, r.fault) for r in received] == [(503, "fail"), (503, "fail"), (200, None)]
    assert received[0].request_id is not None


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "InternalFailure"),
        (502, "BadGateway"),
        (503, "ServiceUnavailable"),
        (504, "GatewayTimeout"),
        (429, "QuotaExceeded"),
    ],
)
async def test_each_status_has_amazons_error_code(amazon: Client, status: int, code: str) -> None:
    faults_of(amazon).fail(status)
    response = await amazon.get(PARTICIPATIONS, headers=seller(amazon))
    assert response.status == status
    assert (await error_of(response))["code"] == code
    assert "Retry-After" not in response.headers


async def test_an_injected_429_carries_the_rate_and_is_no_quota_refusal(amazon: Client) -> None:
    faults_of(amazon).fail(429)
    response = await amazon.get(PARTICIPATIONS, headers=seller(amazon))
    assert response.status == 429
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.016"
    assert state_of(amazon).quota_refusals == 0


async def test_a_dropped_call_gets_no_answer_and_is_recorded(amazon: Client) -> None:
    fault = faults_of(amazon).drop()
    headers = seller(amazon)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await amazon.post("/_emulator/echo/x", data=b"payload", headers=headers)
    assert fault.applied == 1
    assert (await amazon.get(PARTICIPATIONS, headers=headers)).status == 200
    dropped, answered = state_of(amazon).requests
    assert (dropped.fault, dropped.status, dropped.body) == ("drop", None, b"payload")
    assert (answered.fault, answered.status) == (None, 200)
    assert state_of(amazon).answers_by_status == {200: 1}


async def test_held_calls_wait_until_released(amazon: Client) -> None:
    hold = faults_of(amazon).hold(times=2)
    headers = seller(amazon)
    calls = [asyncio.create_task(amazon.get(PARTICIPATIONS, headers=headers)) for _ in range(2)]
    async with asyncio.timeout(WAIT):
        await hold.arrived(2)
    assert hold.waiting == 2 and not any(call.done() for call in calls)
    assert [r.status for r in state_of(amazon).requests] == [None, None]
    # Calls beyond `times` are not held.
    assert (await amazon.get(PARTICIPATIONS, headers=headers)).status == 200
    hold.release()
    async with asyncio.timeout(WAIT):
        responses = await asyncio.gather(*calls)
    assert [response.status for response in responses] == [200, 200]
    assert [r.fault for r in state_of(amazon).requests] == ["hold", "hold", None]
    assert [r.status for r in state_of(amazon).requests] == [200, 200, 200]


async def test_a_hold_can_be_released_like_an_event(amazon: Client) -> None:
    hold = faults_of(amazon).hold(path="/orders/")
    call = asyncio.create_task(amazon.get(ORDER, headers=seller(amazon)))
    async with asyncio.timeout(WAIT):
        await hold.arrived()
    hold.set()
    async with asyncio.timeout(WAIT):
        assert (await call).status == 200
    assert hold.released and hold.waiting == 0


async def test_a_delay_lets_the_call_go_on_by_itself(amazon: Client) -> None:
    faults_of(amazon).delay(0.0)
    response = await amazon.get(PARTICIPATIONS, headers=seller(amazon))
    assert response.status == 200
    assert state_of(amazon).requests[0].fault == "hold"


async def test_a_long_delay_outlasts_a_client_timeout(amazon: Client) -> None:
    delay = faults_of(amazon).delay(3600)
    with pytest.raises(asyncio.TimeoutError):
        await amazon.get(
            PARTICIPATIONS, headers=seller(amazon), timeout=aiohttp.ClientTimeout(total=0.05)
        )
    assert delay.held == 1
    faults_of(amazon).clear()  # let the abandoned call finish
