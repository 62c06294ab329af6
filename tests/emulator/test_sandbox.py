"""Amazon's sandbox examples and the emulator's handlers, which answers when; the static sandbox
mode."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse
from pytest_aiohttp import AiohttpClient

from spproxy.emulator import STATE_KEY, EmulatorConfig, RestrictedResource, make_emulator_app
from spproxy.emulator.examples import published
from spproxy.emulator.fixtures import MFN_SHIPMENT_ID
from spproxy.emulator.sandbox import NO_MATCH_MESSAGE
from tests.emulator.conftest import Client

VDF_ORDERS_V1 = "/vendor/directFulfillment/orders/v1/purchaseOrders"
NOTIFICATIONS = "sellingpartnerapi::notifications"
ROTATION = "sellingpartnerapi::client_credential:rotation"


def seller(client: Client) -> dict[str, str]:
    token = client.app[STATE_KEY].issue_token("lwa", selling_partner_id="A1")
    return {"x-amz-access-token": token}


def grantless(client: Client, scope: str) -> dict[str, str]:
    return {"x-amz-access-token": client.app[STATE_KEY].issue_token("grantless", scope=scope)}


def rdt(client: Client, method: str, path: str, *elements: str) -> dict[str, str]:
    resource = RestrictedResource(method, path, frozenset(elements))
    token = client.app[STATE_KEY].issue_token(
        "rdt", selling_partner_id="A1", restricted_resources=(resource,)
    )
    return {"x-amz-access-token": token}


def example(method: str, path: str, status: int, **query: str) -> Any:
    """The published response of the operation's first example with `status` (and `query`)."""
    examples = published()[method, path].examples
    return next(
        e.response
        for e in examples
        if e.status == status and all(e.query.get(name) == value for name, value in query.items())
    )


def catch_all(method: str, path: str) -> Any:
    return next(e.response for e in published()[method, path].examples if not e.named)


async def error_of(response: ClientResponse) -> dict[str, str]:
    (error,) = (await response.json())["errors"]
    return dict(error)


TOKENS = "/tokens/2021-03-01/restrictedDataToken"
ADDRESS = "/orders/v0/orders/{orderId}/address"


@pytest.fixture
async def static(aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_emulator_app(EmulatorConfig(static_sandbox=True)))


def published_request(method: str, path: str, status: int, number: int = 0) -> Any:
    return [e.body for e in published()[method, path].examples if e.status == status][number]


async def test_an_operation_without_a_handler_answers_its_example(amazon: Client) -> None:
    response = await amazon.get("/sellers/v1/account", headers=seller(amazon))
    assert response.status == 200
    assert await response.json() == example("GET", "/sellers/v1/account", 200)
    assert amazon.app[STATE_KEY].requests[-1].operation == "getAccount"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/sellers/v1/account"),  # a path of the models, not with this method
        ("GET", "/sellers/v1/account/more"),
        ("GET", "/nothing/here"),
        ("GET", "/auth/o2/token"),  # LWA's path, not an SP-API operation
    ],
)
async def test_what_no_operation_serves_is_not_found(
    amazon: Client, method: str, path: str
) -> None:
    response = await amazon.request(method, path, headers=seller(amazon))
    assert response.status == 404
    assert (await error_of(response))["code"] == "NotFound"
    assert amazon.app[STATE_KEY].requests[-1].operation is None


async def test_an_operation_without_examples_or_handler_says_so(amazon: Client) -> None:
    response = await amazon.post(
        "/aplus/2020-11-01/contentAsinValidations", json={}, headers=seller(amazon)
    )
    assert response.status == 400
    error = await error_of(response)
    assert (error["code"], error["message"]) == ("InvalidInput", NO_MATCH_MESSAGE)
    assert (
        "publishes no sandbox example for validateContentDocumentAsinRelations" in error["details"]
    )


async def test_response_headers_and_bodiless_answers(amazon: Client) -> None:
    body = published()["POST", "/awd/2024-05-09/inboundOrders"].examples[0].body
    created = await amazon.post("/awd/2024-05-09/inboundOrders", json=body, headers=seller(amazon))
    assert created.status == 201 and created.headers["Location"] == "TestOrderId"
    cancelled = await amazon.delete("/reports/2021-06-30/reports/ID", headers=seller(amazon))
    assert cancelled.status == 200 and await cancelled.read() == b""
    shipment = "/orders/v0/orders/902-1845936-5435065/shipment"
    updated = await amazon.post(shipment, json={"anything": 1}, headers=seller(amazon))
    assert updated.status == 204 and await updated.read() == b""


async def test_the_emulators_own_resources_answer_before_examples(amazon: Client) -> None:
    template = "/mfn/v0/shipments/{shipmentId}"
    own = f"/mfn/v0/shipments/{MFN_SHIPMENT_ID}"
    cancelled = await amazon.delete(own, headers=rdt(amazon, "DELETE", template))
    assert (await cancelled.json())["payload"]["Status"] == "RefundPending"
    kept = await amazon.get(own, headers=rdt(amazon, "GET", template))
    assert (await kept.json())["payload"]["Status"] == "RefundPending"  # as the emulator keeps it
    published_id = "/mfn/v0/shipments/abcddcba-00c3-4f6f-a63a-639f76ee9253"
    response = await amazon.get(published_id, headers=rdt(amazon, "GET", template))
    assert await response.json() == example("GET", template, 200)


async def test_a_handler_answers_what_no_example_names(amazon: Client) -> None:
    query = {"MarketplaceIds": "ATVPDKIKX0DER", "CreatedAfter": "2025-01-01T00:00:00Z"}
    response = await amazon.get("/orders/v0/orders", params=query, headers=seller(amazon))
    orders = (await response.json())["payload"]["Orders"]
    assert orders and "CreatedBefore" not in (await response.json())["payload"]
    # No example and a handler's refusal: the handler's answer, not the list of examples.
    response = await amazon.get("/orders/v0/orders/902-0000000-0000000", headers=seller(amazon))
    assert response.status == 404 and (await error_of(response))["code"] == "NotFound"


async def test_a_catch_all_example_never_hides_a_handlers_answer(amazon: Client) -> None:
    # The model's only example is a catch-all 400; the handler accepts the call.
    response = await amazon.post(
        "/applications/2023-11-30/clientSecret", headers=grantless(amazon, ROTATION)
    )
    assert response.status == 204


async def test_a_catch_all_example_answers_what_the_handler_refuses(amazon: Client) -> None:
    headers = rdt(amazon, "GET", VDF_ORDERS_V1)
    listed = await amazon.get(VDF_ORDERS_V1, headers=headers)  # no createdAfter: handler refuses
    assert await listed.json() == catch_all("GET", VDF_ORDERS_V1)
    window = {"createdAfter": "2025-01-01T00:00:00Z", "createdBefore": "2025-12-31T00:00:00Z"}
    own = await amazon.get(VDF_ORDERS_V1, params=window, headers=headers)
    assert "Alex Morgan" in await own.text()
    one = f"{VDF_ORDERS_V1}/{{purchaseOrderNumber}}"
    unknown = await amazon.get(f"{VDF_ORDERS_V1}/NOSUCHPO", headers=rdt(amazon, "GET", one))
    assert await unknown.json() == catch_all("GET", one)


async def test_examples_can_be_turned_off(aiohttp_client: AiohttpClient) -> None:
    amazon = await aiohttp_client(make_emulator_app(EmulatorConfig(sandbox_examples=False)))
    response = await amazon.get("/sellers/v1/account", headers=seller(amazon))
    assert response.status == 404
    response = await amazon.get("/orders/v0/orders/TEST_CASE_200", headers=seller(amazon))
    assert response.status == 404 and "No order has the id" in (await error_of(response))["details"]


async def test_a_restricted_operation_answered_from_an_example_needs_an_rdt(
    amazon: Client,
) -> None:
    address = "/orders/v0/orders/TEST_CASE_200/address"
    refused = await amazon.get(address, headers=seller(amazon))
    assert refused.status == 403 and (await error_of(refused))["code"] == "Unauthorized"
    elsewhere = rdt(amazon, "GET", "/orders/v0/orders/{orderId}/buyerInfo")
    assert (await amazon.get(address, headers=elsewhere)).status == 403
    granted = rdt(amazon, "GET", "/orders/v0/orders/{orderId}/address")
    response = await amazon.get(address, headers=granted)
    assert response.status == 200
    assert await response.json() == example("GET", "/orders/v0/orders/{orderId}/address", 200)


async def test_an_lwa_token_gets_an_order_example_without_pii(amazon: Client) -> None:
    response = await amazon.get("/orders/v0/orders/TEST_CASE_200", headers=seller(amazon))
    assert response.status == 200
    assert await response.json() == example("GET", "/orders/v0/orders/{orderId}", 200)


async def test_a_grantless_operation_answered_from_an_example_needs_its_scope(
    amazon: Client,
) -> None:
    path = "/notifications/v1/destinations/TEST_CASE_200"
    assert (await amazon.get(path, headers=seller(amazon))).status == 403
    response = await amazon.get(path, headers=grantless(amazon, NOTIFICATIONS))
    assert response.status == 200
    assert await response.json() == example(
        "GET", "/notifications/v1/destinations/{destinationId}", 200
    )


async def test_usage_plans_apply_to_examples(aiohttp_client: AiohttpClient) -> None:
    config = EmulatorConfig(rate_limits=True, usage_plans={"getAccount": (0.0, 1)})
    amazon = await aiohttp_client(make_emulator_app(config))
    headers = seller(amazon)
    assert (await amazon.get("/sellers/v1/account", headers=headers)).status == 200
    refused = await amazon.get("/sellers/v1/account", headers=headers)
    assert refused.status == 429 and (await error_of(refused))["code"] == "QuotaExceeded"


async def test_faults_apply_to_examples(amazon: Client) -> None:
    amazon.app[STATE_KEY].faults.fail(503, path="/sellers/v1/account")
    response = await amazon.get("/sellers/v1/account", headers=seller(amazon))
    assert response.status == 503
    assert (await amazon.get("/sellers/v1/account", headers=seller(amazon))).status == 200


async def test_a_missing_token_is_refused_before_any_example(amazon: Client) -> None:
    response = await amazon.get("/sellers/v1/account")
    assert response.status == 403


@pytest.mark.parametrize("number", [0, 1])
async def test_the_static_tokens_api_answers_a_published_body_as_published(
    static: Client, number: int
) -> None:
    body = published_request("POST", TOKENS, 200, number)
    response = await static.post(TOKENS, json=body, headers=seller(static))
    assert response.status == 200
    published_tokens = [e.response for e in published()["POST", TOKENS].examples if e.status == 200]
    assert await response.json() == published_tokens[number]
    assert static.app[STATE_KEY].rdt_mints == []


async def test_the_static_tokens_api_refuses_any_other_body(static: Client, amazon: Client) -> None:
    """selling-partner-api-models issue 434: what spproxy would mint is no published body."""
    body = {"restrictedResources": [{"method": "GET", "path": ADDRESS}]}
    response = await static.post(TOKENS, json=body, headers=seller(static))
    assert response.status == 400
    error = await error_of(response)
    assert (error["code"], error["message"]) == ("InvalidInput", NO_MATCH_MESSAGE)
    assert "createRestrictedDataToken answers the sandbox examples" in error["details"]
    minted = await amazon.post(TOKENS, json=body, headers=seller(amazon))  # the lenient emulator
    assert minted.status == 200


async def test_the_static_sandbox_has_no_emulated_seller_data(
    static: Client, amazon: Client
) -> None:
    own = "/orders/v0/orders/902-1845936-5435065"  # the emulated seller's order
    assert (await amazon.get(own, headers=seller(amazon))).status == 200
    response = await static.get(own, headers=seller(static))
    assert response.status == 400
    assert (await error_of(response))["message"] == NO_MATCH_MESSAGE
    query = {"MarketplaceIds": "ATVPDKIKX0DER", "CreatedAfter": "2025-01-01T00:00:00Z"}
    listed = await static.get("/orders/v0/orders", params=query, headers=seller(static))
    assert listed.status == 400  # the handler would list the emulated orders
    kept = await static.get(f"/mfn/v0/shipments/{MFN_SHIPMENT_ID}", headers=seller(static))
    assert kept.status == 400


async def test_the_static_sandbox_checks_no_token_kind(static: Client) -> None:
    address = await static.get("/orders/v0/orders/TEST_CASE_200/address", headers=seller(static))
    assert address.status == 200
    assert await address.json() == example("GET", ADDRESS, 200)
    destination = "/notifications/v1/destinations/TEST_CASE_200"
    response = await static.get(destination, headers=seller(static))  # no grantless token
    assert response.status == 200
    account = await static.get("/sellers/v1/account", headers=rdt(static, "GET", ADDRESS))
    assert account.status == 200


async def test_the_static_sandbox_still_wants_a_live_token(static: Client) -> None:
    address = "/orders/v0/orders/TEST_CASE_200/address"
    assert (await static.get(address)).status == 403
    unknown = {"x-amz-access-token": "Atza|never-issued"}
    assert (await static.get(address, headers=unknown)).status == 403
    headers = seller(static)
    static.app[STATE_KEY].faults.expire_tokens()
    expired = await static.get(address, headers=headers)
    assert expired.status == 403 and "expired" in (await error_of(expired))["details"]


async def test_the_static_sandbox_answers_what_the_handler_used_to(static: Client) -> None:
    # rotateApplicationClientSecret's only example is a catch-all 400: the handler's 204 is gone.
    response = await static.post(
        "/applications/2023-11-30/clientSecret", headers=grantless(static, ROTATION)
    )
    assert response.status == 400
    assert await response.json() == catch_all("POST", "/applications/2023-11-30/clientSecret")


async def test_an_operation_the_static_sandbox_publishes_nothing_for(static: Client) -> None:
    cancel = f"/mfn/v0/shipments/{MFN_SHIPMENT_ID}/cancel"  # cancelShipmentOld: in no model
    response = await static.put(cancel, headers=seller(static))
    assert response.status == 400
    error = await error_of(response)
    assert error["details"] == (
        "Amazon's model publishes no sandbox example for cancelShipmentOld, and the static "
        "sandbox answers nothing else."
    )


async def test_the_emulators_helpers_stay_in_the_static_sandbox(static: Client) -> None:
    response = await static.post("/_emulator/echo/x", data=b"as sent", headers=seller(static))
    assert response.status == 200 and await response.read() == b"as sent"


async def test_the_static_sandbox_meters_every_call_at_5_per_second_burst_15(
    aiohttp_client: AiohttpClient,
) -> None:
    """SP-API Developer Guide, "Selling Partner API Sandbox": rate 5, burst 15, for every call
    (getOrder's production plan is 0.5/s, burst 30)."""
    now = [1000.0]
    config = EmulatorConfig(static_sandbox=True, rate_limits=True, clock=lambda: now[0])
    static = await aiohttp_client(make_emulator_app(config))
    headers = seller(static)
    order = "/orders/v0/orders/TEST_CASE_200"
    answers = [await static.get(order, headers=headers) for _ in range(16)]
    assert [a.status for a in answers] == [200] * 15 + [429]
    assert answers[0].headers["x-amzn-RateLimit-Limit"] == "5"
    assert answers[-1].headers["x-amzn-RateLimit-Limit"] == "5"
    now[0] += 0.2  # one token, at 5 a second
    assert (await static.get(order, headers=headers)).status == 200
    assert (await static.get(order, headers=headers)).status == 429


def test_the_static_sandbox_needs_the_examples() -> None:
    with pytest.raises(ValueError, match="static_sandbox"):
        make_emulator_app(EmulatorConfig(static_sandbox=True, sandbox_examples=False))
