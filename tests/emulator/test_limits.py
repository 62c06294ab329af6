"""SP-API's usage plans: a token bucket per selling partner and operation, from Amazon's models."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse
from pytest_aiohttp import AiohttpClient

from spproxy.emulator import (
    EmulatorConfig,
    RestrictedResource,
    make_emulator_app,
)
from spproxy.emulator.apis import OPERATIONS
from spproxy.emulator.limits import QUOTA_EXCEEDED_MESSAGE, model_usage_plans, plan_for
from tests.emulator.conftest import Client, FakeClock, state_of

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
CATALOG_ITEM = "/catalog/2022-04-01/items/B07N4M94X4?marketplaceIds=ATVPDKIKX0DER"
ORDERS = "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&CreatedAfter=2020-01-01T00:00:00Z"
DESTINATIONS = "/notifications/v1/destinations"
VENDOR_ORDERS = "/vendor/directFulfillment/orders/v1/purchaseOrders"
TOKENS = "/tokens/2021-03-01/restrictedDataToken"
NOTIFICATIONS = "sellingpartnerapi::notifications"
RDT_BODY = {"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders/{orderId}"}]}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def emulator(aiohttp_client: AiohttpClient, clock: FakeClock, **config: Any) -> Client:
    settings: dict[str, Any] = {"rate_limits": True, "clock": clock, **config}
    return await aiohttp_client(make_emulator_app(EmulatorConfig(**settings)))


def seller(client: Client, seller_id: str = "A1SELLER") -> dict[str, str]:
    token = state_of(client).issue_token("lwa", selling_partner_id=seller_id)
    return {"x-amz-access-token": token}


def grantless(client: Client) -> dict[str, str]:
    return {"x-amz-access-token": state_of(client).issue_token("grantless", scope=NOTIFICATIONS)}


async def statuses(client: Client, path: str, headers: dict[str, str], calls: int) -> list[int]:
    found = []
    for _ in range(calls):
        response = await client.get(path, headers=headers)
        await response.read()
        found.append(response.status)
    return found


async def assert_quota_exceeded(response: ClientResponse, rate: str) -> None:
    assert response.status == 429
    assert response.headers["x-amzn-RateLimit-Limit"] == rate
    assert response.headers["x-amzn-RequestId"]
    assert await response.json() == {
        "errors": [{"code": "QuotaExceeded", "message": QUOTA_EXCEEDED_MESSAGE, "details": ""}]
    }


async def test_a_full_bucket_serves_the_burst_then_answers_429(
    aiohttp_client: AiohttpClient, clock: FakeClock
) -> None:
    amazon = await emulator(
        aiohttp_client, clock, usage_plans={"getMarketplaceParticipations": (1, 3)}
    )
    headers = seller(amazon)
    for _ in range(3):
        response = await amazon.get(PARTICIPATIONS, headers=headers)
        assert response.status == 200
        assert response.headers["x-amzn-RateLimit-Limit"] == "1"
    await assert_quota_exceeded(await amazon.get(PARTICIPATIONS, headers=headers), "1")
    state = state_of(amazon)
    assert state.quota_refusals == 1
    assert state.quota_refusals_by_operation == {"getMarketplaceParticipations": 1}
    # Refused calls reached Amazon and are recorded with what it answered.
    assert [r.status for r in state.requests] == [200, 200, 200, 429]
    assert state.requests[-1].operation == "getMarketplaceParticipations"
    assert state.requests[-1].fault is None


async def test_the_plans_come_from_amazons_models(
    aiohttp_client: AiohttpClient, clock: FakeClock
) -> None:
    amazon = await emulator(aiohttp_client, clock)
    # getCatalogItem: rate 2, burst 2 in the Catalog Items 2022-04-01 model.
    assert await statuses(amazon, CATALOG_ITEM, seller(amazon), 3) == [200, 200, 429]
    clock.advance(0.5)  # one token back at 2 per second
    assert await statuses(amazon, CATALOG_ITEM, seller(amazon), 2) == [200, 429]
    response = await amazon.get(CATALOG_ITEM, headers=seller(amazon))
    await assert_quota_exceeded(response, "2")


async def test_the_bucket_refills_continuously_up_to_the_burst(
    aiohttp_client: AiohttpClient, clock: FakeClock
) -> None:
    amazon = await emulator(
        aiohttp_client, clock, usage_plans={"getMarketplaceParticipations": (0.5, 2)}
    )
    headers = seller(amazon)
    assert await statuses(amazon, PARTICIPATIONS, headers, 3) == [200, 200, 429]
    clock.advance(1.0)  # half a token
    assert await statuses(amazon, PARTICIPATIONS, headers, 1) == [429]
    clock.advance(1.0)  # a whole one
    assert await statuses(amazon, PARTICIPATIONS, headers, 2) == [200, 429]
    clock.advance(3600)  # refilled, but never past the burst
    assert await statuses(amazon, PARTICIPATIONS, headers, 3) == [200, 200, 429]


async def test_refused_calls_take_nothing_from_the_bucket(
    aiohttp_client: AiohttpClient, clock: FakeClock
) -> None:
    amazon = await emulator(
        aiohttp_client, clock, usage_plans={"getMarketplaceParticipations": (1, 1)}
    )
    headers = seller(amazon)
    assert await statuses(amazon, PARTICIPATIONS, headers, 1) == [200]
    clock.advance(0.5)
    assert await statuses(amazon, PARTICIPATIONS, headers, 5) == [429] * 5
    clock.advance(0.5)  # had the refusals taken tokens, the bucket would still be in debt
    assert await statuses(amazon, PARTICIPATIONS, headers, 2) == [200, 429]


async def test_each_selling_partner_has_its_own_buckets(
    aiohttp_client: AiohttpClient, clock: FakeClock
) -> None:
    amazon = await emulator(
        aiohttp_client, clock, usage_plans={"getMarketplaceParticipations": (1, 2)}
    )
    one, two = seller(amazon, "A1ONE"), seller(amazon, "A2TWO")
    assert await statuses(amazon, PARTICIPATIONS, one, 3) == [200, 200, 429]
    assert await statuses(amazon, PARTICIPATIONS, two, 3) == [200, 200, 429]
    # Another access token of the same selling partner draws from the same bucket.
    assert await statuses(amazon, PARTICIPATIONS, seller(amazon, "A1ONE"), 1) == [429]


async def test_each_operation_has_its_own_bucket(
    aiohttp_client: AiohttpClient, clock: FakeClock
) -> None:
    amazon = await emulator(
        aiohttp_client,
        clock,
        usage_plans={"getMarketplaceParticipations": (1, 1), "getOrders": (1, 1)},
    )
    headers = seller(amazon)
    assert await statuses(amazon, PARTICIPATIONS, headers, 2) == [200, 429]
    assert await statuses(amazon, ORDERS, headers, 2) == [200, 429]
    # Vendor Direct Fulfillment's getOrders shares the name, not the bucket (nor the token kind:
    # an RDT of the same selling partner).
    resource = RestrictedResource("GET", VENDOR_ORDERS)
    rdt = state_of(amazon).issue_token(
        "rdt", selling_partner_id="A1SELLER", restricted_resources=(resource,)
    )
    window = "?createdAfter=2025-01-01T00:00:00Z&createdBefore=2025-12-31T00:00:00Z"
    rdt_headers = {"x-amz-access-token": rdt}
    assert await statuses(amazon, VENDOR_ORDERS + window, rdt_headers, 2) == [200, 429]
    assert state_of(amazon).quota_refusals_by_operation == {
        "getMarketplaceParticipations": 1,
        "getOrders": 2,
    }


async def test_grantless_calls_share_the_applications_bucket(
    aiohttp_client: AiohttpClient, clock: FakeClock
) -> None:
    amazon = await emulator(aiohttp_client, clock)
    # getDestinations: rate 1, burst 5; every client_credentials token is the same application.
    assert await statuses(amazon, DESTINATIONS, grantless(amazon), 3) == [200] * 3
    assert await statuses(amazon, DESTINATIONS, grantless(amazon), 3) == [200, 200, 429]


async def test_the_tokens_api_has_its_own_plan(
    aiohttp_client: AiohttpClient, clock: FakeClock
) -> None:
    amazon = await emulator(aiohttp_client, clock)
    headers = seller(amazon)
    for _ in range(10):  # createRestrictedDataToken: rate 1, burst 10
        response = await amazon.post(TOKENS, json=RDT_BODY, headers=headers)
        assert response.status == 200
    await assert_quota_exceeded(await amazon.post(TOKENS, json=RDT_BODY, headers=headers), "1")
    clock.advance(1)
    assert (await amazon.post(TOKENS, json=RDT_BODY, headers=headers)).status == 200
    assert len(state_of(amazon).rdt_mints) == 11
    # An RDT's calls count against its selling partner's bucket for the operation it calls.
    assert await statuses(amazon, PARTICIPATIONS, headers, 1) == [200]


async def test_operations_without_a_plan_are_not_limited(
    aiohttp_client: AiohttpClient, clock: FakeClock
) -> None:
    amazon = await emulator(aiohttp_client, clock)
    headers = seller(amazon)
    for _ in range(40):
        response = await amazon.post("/_emulator/echo/x", data=b"hi", headers=headers)
        assert response.status == 200
        assert "x-amzn-RateLimit-Limit" not in response.headers
    assert state_of(amazon).quota_refusals == 0


async def test_rate_limits_are_off_by_default(aiohttp_client: AiohttpClient) -> None:
    amazon = await aiohttp_client(make_emulator_app())
    assert await statuses(amazon, CATALOG_ITEM, seller(amazon), 30) == [200] * 30
    assert state_of(amazon).quota_refusals == 0


async def test_a_call_refused_for_its_token_takes_no_quota(
    aiohttp_client: AiohttpClient, clock: FakeClock
) -> None:
    amazon = await emulator(
        aiohttp_client, clock, usage_plans={"getMarketplaceParticipations": (1, 1)}
    )
    unknown = {"x-amz-access-token": "Atza|not-issued"}
    assert await statuses(amazon, PARTICIPATIONS, unknown, 3) == [403] * 3
    assert await statuses(amazon, PARTICIPATIONS, seller(amazon), 2) == [200, 429]


async def test_an_override_naming_no_operation_is_refused() -> None:
    with pytest.raises(ValueError, match="getNoSuchOperation"):
        make_emulator_app(EmulatorConfig(usage_plans={"getNoSuchOperation": (2, 2)}))
    with pytest.raises(ValueError, match=">= 0"):
        make_emulator_app(EmulatorConfig(usage_plans={"getOrders": (-1, 2)}))


async def test_a_zero_rate_plan_serves_the_burst_for_good(
    aiohttp_client: AiohttpClient, clock: FakeClock
) -> None:
    amazon = await emulator(aiohttp_client, clock, usage_plans={"emulatorEcho": (0, 2)})
    headers = seller(amazon)
    codes = []
    for _ in range(3):
        response = await amazon.get("/_emulator/echo/x", headers=headers)
        codes.append(response.status)
        clock.advance(3600)
    assert codes == [200, 200, 429]


def test_every_operation_states_the_models_rate_in_its_header() -> None:
    plans = model_usage_plans()
    for operation in OPERATIONS:
        plan = plans.get((operation.method, operation.path))
        if plan is not None:
            assert operation.rate_limit_header == plan.header, operation.name
            assert plan_for(operation, {}) == plan
    assert plans["GET", "/catalog/2022-04-01/items/{asin}"].burst == 2
