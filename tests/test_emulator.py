"""The emulated Amazon on loopback: LWA grants and refusals, the SP-API pipeline, the operations."""

from __future__ import annotations

import dataclasses
import io
import os
import time
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from yarl import URL

from spproxy.emulator import (
    DEMO_AUTHORIZATION_CODE,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DEMO_SELLER_ID,
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    make_emulator_app,
)
from spproxy.emulator.apis.emulator_helpers import blob_bytes
from spproxy.emulator.app import MAX_BODY_BYTES
from spproxy.emulator.credentials import IssuedToken

Client = TestClient[web.Request, web.Application]

NOTIFICATIONS = "sellingpartnerapi::notifications"
ROTATION = "sellingpartnerapi::client_credential:rotation"
US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"
ORDER_ID = "902-1845936-5435065"
TV_ASIN = "B07N4M94X4"


@pytest.fixture
async def amazon(aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_emulator_app())


def state_of(client: Client) -> EmulatorState:
    return client.app[STATE_KEY]


def seller_token(client: Client) -> dict[str, str]:
    return {"x-amz-access-token": state_of(client).issue_token("lwa", selling_partner_id="A1")}


def grantless_token(client: Client, scope: str) -> dict[str, str]:
    return {"x-amz-access-token": state_of(client).issue_token("grantless", scope=scope)}


async def lwa(client: Client, **form: str) -> tuple[int, dict[str, Any]]:
    credentials = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    response = await client.post("/auth/o2/token", data={**credentials, **form})
    return response.status, await response.json()


async def spapi_error(response: ClientResponse) -> dict[str, str]:
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"errors"}
    (error,) = body["errors"]
    assert set(error) == {"code", "message", "details"}
    return dict(error)


# --- LWA ---------------------------------------------------------------------------------------


async def test_refresh_token_grant_issues_a_seller_token(amazon: Client) -> None:
    status, body = await lwa(amazon, grant_type="refresh_token", refresh_token=DEMO_REFRESH_TOKEN)
    assert status == 200
    assert body["refresh_token"] == DEMO_REFRESH_TOKEN
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    issued = state_of(amazon).valid_token(body["access_token"])
    assert issued is not None
    assert (issued.kind, issued.selling_partner_id) == ("lwa", DEMO_SELLER_ID)
    assert state_of(amazon).lwa_exchanges == {"refresh_token": 1}


async def test_refresh_token_grant_accepts_a_json_body(amazon: Client) -> None:
    response = await amazon.post(
        "/auth/o2/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": DEMO_REFRESH_TOKEN,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        },
    )
    assert response.status == 200
    assert (await response.json())["access_token"].startswith("Atza|")


@pytest.mark.parametrize("scope", [NOTIFICATIONS, ROTATION])
async def test_client_credentials_grant_issues_a_grantless_token(
    amazon: Client, scope: str
) -> None:
    status, body = await lwa(amazon, grant_type="client_credentials", scope=scope)
    assert status == 200
    assert body["scope"] == scope
    assert body["token_type"] == "bearer"
    issued = state_of(amazon).valid_token(body["access_token"])
    assert issued is not None
    assert (issued.kind, issued.scope) == ("grantless", scope)
    assert state_of(amazon).lwa_exchanges == {"client_credentials": 1}


async def test_authorization_code_grant_issues_a_usable_refresh_token(amazon: Client) -> None:
    status, body = await lwa(
        amazon,
        grant_type="authorization_code",
        code=DEMO_AUTHORIZATION_CODE,
        redirect_uri="https://app.example.com/callback",
    )
    assert status == 200
    assert body["refresh_token"].startswith("Atzr|")
    issued = state_of(amazon).valid_token(body["access_token"])
    assert issued is not None
    assert issued.selling_partner_id == DEMO_SELLER_ID

    status, refreshed = await lwa(
        amazon, grant_type="refresh_token", refresh_token=body["refresh_token"]
    )
    assert status == 200
    assert refreshed["refresh_token"] == body["refresh_token"]
    assert state_of(amazon).lwa_exchanges == {"authorization_code": 1, "refresh_token": 1}
    assert body["refresh_token"] in state_of(amazon).issued_secrets()


async def test_authorization_code_is_single_use(amazon: Client) -> None:
    form = {"code": DEMO_AUTHORIZATION_CODE, "redirect_uri": "https://app.example.com/cb"}
    assert (await lwa(amazon, grant_type="authorization_code", **form))[0] == 200
    status, body = await lwa(amazon, grant_type="authorization_code", **form)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert body["error_description"] == "The request has an invalid grant parameter : code"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "amzn1.application-oa2-client.other"}, 401, "invalid_client"),
        ({"refresh_token": "Atzr|unknown"}, 400, "invalid_grant"),
        ({"refresh_token": ""}, 400, "invalid_request"),
        ({"client_secret": ""}, 400, "invalid_request"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "profile"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials"}, 400, "invalid_request"),
        ({"grant_type": "authorization_code", "code": "AN-nope"}, 400, "invalid_request"),
        (
            {"grant_type": "authorization_code", "code": "AN-nope", "redirect_uri": "https://a"},
            400,
            "invalid_grant",
        ),
    ],
)
async def test_lwa_refusals(amazon: Client, form: dict[str, str], status: int, error: str) -> None:
    request = {
        "grant_type": "refresh_token",
        "refresh_token": DEMO_REFRESH_TOKEN,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        **form,
    }
    response = await amazon.post("/auth/o2/token", data={k: v for k, v in request.items() if v})
    assert response.status == status
    body = await response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert DEMO_CLIENT_SECRET not in await response.text()
    assert "x-amzn-RequestId" in response.headers
    assert sum(state_of(amazon).lwa_exchanges.values()) == 0


async def test_lwa_refusal_descriptions_match_amazons(amazon: Client) -> None:
    _, unknown_client = await lwa(
        amazon, grant_type="refresh_token", refresh_token=DEMO_REFRESH_TOKEN, client_secret="x"
    )
    assert unknown_client["error_description"] == "Client authentication failed"
    _, bad_grant = await lwa(amazon, grant_type="refresh_token", refresh_token="Atzr|gone")
    assert (
        bad_grant["error_description"]
        == "The request has an invalid grant parameter : refresh_token"
    )


# --- the SP-API pipeline -----------------------------------------------------------------------


async def test_every_answer_has_a_fresh_request_id(amazon: Client) -> None:
    answers = [
        await amazon.get("/sellers/v1/marketplaceParticipations", headers=seller_token(amazon)),
        await amazon.get("/sellers/v1/marketplaceParticipations"),
        await amazon.get("/no/such/operation", headers=seller_token(amazon)),
        await amazon.post("/auth/o2/token", data={}),
    ]
    request_ids = [answer.headers.get("x-amzn-RequestId") for answer in answers]
    assert all(request_ids)
    assert len(set(request_ids)) == len(answers)


async def test_missing_token_is_refused(amazon: Client) -> None:
    response = await amazon.get("/sellers/v1/marketplaceParticipations")
    assert response.status == 403
    assert await spapi_error(response) == {
        "code": "Unauthorized",
        "message": "Access to requested resource is denied.",
        "details": "The access token you provided is revoked, malformed or invalid.",
    }
    assert "x-amzn-RateLimit-Limit" not in response.headers


async def test_unknown_token_is_refused(amazon: Client) -> None:
    response = await amazon.get(
        "/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": "Atza|forged"}
    )
    assert response.status == 403
    error = await spapi_error(response)
    assert error["details"] == "The access token you provided is revoked, malformed or invalid."


async def test_expired_token_is_refused_as_expired(amazon: Client) -> None:
    state_of(amazon).tokens["Atza|old"] = IssuedToken("lwa", None, "A1", time.time() - 1)
    response = await amazon.get(
        "/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": "Atza|old"}
    )
    assert response.status == 403
    error = await spapi_error(response)
    assert (error["code"], error["details"]) == (
        "Unauthorized",
        "The access token you provided has expired.",
    )
    assert state_of(amazon).requests[-1].token_kind is None


async def test_seller_token_on_a_grantless_operation_is_refused(amazon: Client) -> None:
    response = await amazon.get("/notifications/v1/destinations", headers=seller_token(amazon))
    assert response.status == 403
    error = await spapi_error(response)
    assert error["code"] == "Unauthorized"
    assert NOTIFICATIONS in error["details"]
    assert state_of(amazon).requests[-1].token_kind == "lwa"


async def test_grantless_token_with_another_scope_is_refused(amazon: Client) -> None:
    headers = grantless_token(amazon, ROTATION)
    response = await amazon.get("/notifications/v1/destinations", headers=headers)
    assert response.status == 403
    assert (await spapi_error(response))["code"] == "Unauthorized"


async def test_grantless_token_on_a_seller_operation_is_refused(amazon: Client) -> None:
    headers = grantless_token(amazon, NOTIFICATIONS)
    response = await amazon.get("/sellers/v1/marketplaceParticipations", headers=headers)
    assert response.status == 403
    assert "LWA" in (await spapi_error(response))["details"]


async def test_unknown_path_is_404_in_spapi_shape(amazon: Client) -> None:
    for method, path in [("GET", "/orders/v1/nothing"), ("DELETE", "/sellers/v1/x"), ("GET", "/")]:
        response = await amazon.request(method, path, headers=seller_token(amazon))
        assert response.status == 404
        assert (await spapi_error(response))["code"] == "NotFound"
        assert "x-amzn-RequestId" in response.headers


async def test_requests_are_recorded_as_received(amazon: Client) -> None:
    headers = {**seller_token(amazon), "x-custom": "kept", "Content-Type": "text/plain"}
    as_on_the_wire = amazon.make_url("").join(
        URL("/_emulator/echo/a%2Fb?x=1,2&y=%3A", encoded=True)
    )
    await amazon.session.post(as_on_the_wire, data=b"hello", headers=headers)
    await amazon.get("/sellers/v1/marketplaceParticipations")
    await amazon.get("/nowhere", headers=grantless_token(amazon, NOTIFICATIONS))

    echoed, refused, unknown = state_of(amazon).requests
    assert (echoed.method, echoed.raw_path, echoed.query_string) == (
        "POST",
        "/_emulator/echo/a%2Fb",
        "x=1,2&y=%3A",
    )
    assert echoed.headers["x-custom"] == "kept"
    assert echoed.headers["x-amz-access-token"] == headers["x-amz-access-token"]
    assert echoed.body == b"hello"
    assert (echoed.token_kind, echoed.signature) == ("lwa", "absent")
    assert (refused.raw_path, refused.token_kind) == ("/sellers/v1/marketplaceParticipations", None)
    assert (unknown.raw_path, unknown.token_kind) == ("/nowhere", "grantless")


async def test_lwa_calls_are_not_recorded_as_spapi_requests(amazon: Client) -> None:
    await lwa(amazon, grant_type="refresh_token", refresh_token=DEMO_REFRESH_TOKEN)
    assert state_of(amazon).requests == []


# --- operations --------------------------------------------------------------------------------


async def test_get_marketplace_participations(amazon: Client) -> None:
    response = await amazon.get(
        "/sellers/v1/marketplaceParticipations", headers=seller_token(amazon)
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.016"
    (participation,) = (await response.json())["payload"]
    assert participation["marketplace"]["id"] == US


async def get_json(
    client: Client, path: str, params: dict[str, str], status: int = 200
) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=seller_token(client))
    assert response.status == status
    body: dict[str, Any] = await response.json()
    return body


async def test_get_orders_serves_orders_without_pii(amazon: Client) -> None:
    response = await amazon.get(
        "/orders/v0/orders",
        params={"MarketplaceIds": US, "CreatedAfter": "2025-01-01T00:00:00Z"},
        headers=seller_token(amazon),
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    orders = (await response.json())["payload"]["Orders"]
    assert {order["MarketplaceId"] for order in orders} == {US}
    assert ORDER_ID in {order["AmazonOrderId"] for order in orders}
    for order in orders:
        assert_no_pii(order)
    text = await response.text()
    assert "example.com" not in text
    assert "Jordan Rivera" not in text


def assert_no_pii(order: dict[str, Any]) -> None:
    assert "BuyerInfo" not in order
    address = order.get("ShippingAddress", {})
    assert set(address) <= {"City", "StateOrRegion", "PostalCode", "CountryCode"}


async def test_get_orders_filters_by_marketplaces_and_dates(amazon: Client) -> None:
    both = await get_json(
        amazon, "/orders/v0/orders", {"MarketplaceIds": f"{US},{DE}", "CreatedAfter": "2025-01-01"}
    )
    assert len(both["payload"]["Orders"]) == 4
    recent = await get_json(
        amazon,
        "/orders/v0/orders",
        {"MarketplaceIds": f"{US},{DE}", "LastUpdatedAfter": "2025-05-01T00:00:00+00:00"},
    )
    assert {order["AmazonOrderId"] for order in recent["payload"]["Orders"]} == {
        "902-3159896-1390916",
        "921-3175655-0452641",
    }


@pytest.mark.parametrize(
    "params",
    [
        {"CreatedAfter": "2025-01-01T00:00:00Z"},
        {"MarketplaceIds": US},
        {"MarketplaceIds": US, "CreatedAfter": "2025-01-01", "LastUpdatedAfter": "2025-01-01"},
        {"MarketplaceIds": US, "CreatedAfter": "last tuesday"},
    ],
)
async def test_get_orders_rejects_invalid_input(amazon: Client, params: dict[str, str]) -> None:
    response = await amazon.get("/orders/v0/orders", params=params, headers=seller_token(amazon))
    assert response.status == 400
    assert (await spapi_error(response))["code"] == "InvalidInput"
    assert "x-amzn-RateLimit-Limit" not in response.headers


async def test_get_order_serves_one_order_without_pii(amazon: Client) -> None:
    response = await amazon.get(f"/orders/v0/orders/{ORDER_ID}", headers=seller_token(amazon))
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.5"
    order = (await response.json())["payload"]
    assert order["AmazonOrderId"] == ORDER_ID
    assert order["ShippingAddress"] == {
        "City": "SEATTLE",
        "StateOrRegion": "WA",
        "PostalCode": "98109-5210",
        "CountryCode": "US",
    }
    assert_no_pii(order)


async def test_get_order_unknown_id_is_404(amazon: Client) -> None:
    response = await amazon.get(
        "/orders/v0/orders/111-0000000-0000000", headers=seller_token(amazon)
    )
    assert response.status == 404
    assert (await spapi_error(response))["code"] == "NotFound"


async def test_search_catalog_items_by_keywords(amazon: Client) -> None:
    found = await get_json(
        amazon, "/catalog/2022-04-01/items", {"marketplaceIds": US, "keywords": "samsung,82-inch"}
    )
    assert found["numberOfResults"] == 1
    (item,) = found["items"]
    assert set(item) == {"asin", "summaries"}  # includedData defaults to summaries
    assert item["asin"] == TV_ASIN
    assert found["refinements"]["brands"] == [{"numberOfResults": 1, "brandName": "SAMSUNG"}]

    family = await get_json(
        amazon, "/catalog/2022-04-01/items", {"marketplaceIds": US, "keywords": "Samsung"}
    )
    assert family["numberOfResults"] == 2

    phrase = await get_json(
        amazon, "/catalog/2022-04-01/items", {"marketplaceIds": US, "keywords": "samsung tv"}
    )
    assert phrase["numberOfResults"] >= 1
    assert all("TV" in item["summaries"][0]["itemName"] for item in phrase["items"])


async def test_search_catalog_items_by_identifiers_with_included_data(amazon: Client) -> None:
    found = await get_json(
        amazon,
        "/catalog/2022-04-01/items",
        {
            "marketplaceIds": US,
            "identifiers": "887276302195,000000000000",
            "identifiersType": "UPC",
            "includedData": "identifiers,images,salesRanks",
        },
    )
    (item,) = found["items"]
    assert set(item) == {"asin", "identifiers", "images", "salesRanks"}
    by_asin = await get_json(
        amazon,
        "/catalog/2022-04-01/items",
        {"marketplaceIds": US, "identifiers": TV_ASIN, "identifiersType": "ASIN"},
    )
    assert [item["asin"] for item in by_asin["items"]] == [TV_ASIN]


async def test_search_catalog_items_in_another_marketplace_finds_nothing(amazon: Client) -> None:
    found = await get_json(
        amazon, "/catalog/2022-04-01/items", {"marketplaceIds": DE, "keywords": "samsung"}
    )
    assert (found["numberOfResults"], found["items"]) == (0, [])


@pytest.mark.parametrize(
    "params",
    [
        {"keywords": "samsung"},
        {"marketplaceIds": US},
        {"marketplaceIds": US, "keywords": "tv", "identifiers": TV_ASIN, "identifiersType": "ASIN"},
        {"marketplaceIds": US, "identifiers": TV_ASIN},
        {"marketplaceIds": US, "keywords": "tv", "includedData": "summaries,everything"},
    ],
)
async def test_search_catalog_items_rejects_invalid_input(
    amazon: Client, params: dict[str, str]
) -> None:
    response = await amazon.get(
        "/catalog/2022-04-01/items", params=params, headers=seller_token(amazon)
    )
    assert response.status == 400
    assert (await spapi_error(response))["code"] == "InvalidInput"


async def test_get_catalog_item(amazon: Client) -> None:
    response = await amazon.get(
        f"/catalog/2022-04-01/items/{TV_ASIN}",
        params={"marketplaceIds": US, "includedData": "summaries,productTypes"},
        headers=seller_token(amazon),
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "2"
    item = await response.json()
    assert set(item) == {"asin", "summaries", "productTypes"}
    assert item["productTypes"] == [{"marketplaceId": US, "productType": "TELEVISION"}]


async def test_get_catalog_item_refusals(amazon: Client) -> None:
    unknown = await get_json(
        amazon, "/catalog/2022-04-01/items/B000000000", {"marketplaceIds": US}, status=404
    )
    assert unknown["errors"][0]["code"] == "NotFound"
    elsewhere = await get_json(
        amazon, f"/catalog/2022-04-01/items/{TV_ASIN}", {"marketplaceIds": DE}, status=404
    )
    assert elsewhere["errors"][0]["code"] == "NotFound"
    unplaced = await get_json(amazon, f"/catalog/2022-04-01/items/{TV_ASIN}", {}, status=400)
    assert unplaced["errors"][0]["code"] == "InvalidInput"


async def test_create_feed_document(amazon: Client) -> None:
    response = await amazon.post(
        "/feeds/2021-06-30/documents",
        json={"contentType": "text/xml; charset=UTF-8"},
        headers=seller_token(amazon),
    )
    assert response.status == 201
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.5"
    document = await response.json()
    assert document["feedDocumentId"]
    assert document["url"].startswith("https://")


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"contentType": 7}'])
async def test_create_feed_document_needs_a_content_type(amazon: Client, body: bytes) -> None:
    headers = {**seller_token(amazon), "Content-Type": "application/json"}
    response = await amazon.post("/feeds/2021-06-30/documents", data=body, headers=headers)
    assert response.status == 400
    assert (await spapi_error(response))["code"] == "InvalidInput"


async def test_an_empty_feed_document_body_gets_amazons_published_answer(amazon: Client) -> None:
    # The model's sandbox example for the body {}: a 400 whose code is "400", as Amazon wrote it.
    headers = {**seller_token(amazon), "Content-Type": "application/json"}
    response = await amazon.post("/feeds/2021-06-30/documents", data=b"{}", headers=headers)
    assert response.status == 400
    assert (await spapi_error(response))["code"] == "400"


async def test_get_destinations_with_a_grantless_token(amazon: Client) -> None:
    response = await amazon.get(
        "/notifications/v1/destinations", headers=grantless_token(amazon, NOTIFICATIONS)
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "1"
    (destination,) = (await response.json())["payload"]
    assert destination["resource"]["sqs"]["arn"].startswith("arn:aws:sqs:")
    assert state_of(amazon).requests[-1].token_kind == "grantless"


async def test_send_test_notification_needs_a_grantless_token(amazon: Client) -> None:
    """Its model: "The `sendTestNotification` API is grantless"."""
    path = "/notifications/v1/subscriptions/ANY_OFFER_CHANGED/testNotification"
    body = {"destinationId": "3acafc7e-121b-1329-8ae8-1571be663aa2"}
    refused = await amazon.post(path, json=body, headers=seller_token(amazon))
    assert refused.status == 403
    assert NOTIFICATIONS in (await spapi_error(refused))["details"]
    answered = await amazon.post(path, json=body, headers=grantless_token(amazon, NOTIFICATIONS))
    # Past the token check; the model publishes no sandbox example: Amazon's sandbox "no match".
    assert answered.status == 400
    assert (await spapi_error(answered))["message"] == "Could not match input arguments"


async def test_rotate_application_client_secret(amazon: Client) -> None:
    response = await amazon.post(
        "/applications/2023-11-30/clientSecret", headers=grantless_token(amazon, ROTATION)
    )
    assert response.status == 204
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0167"


async def test_grantless_token_from_lwa_works_end_to_end(amazon: Client) -> None:
    _, body = await lwa(amazon, grant_type="client_credentials", scope=NOTIFICATIONS)
    response = await amazon.get(
        "/notifications/v1/destinations", headers={"x-amz-access-token": body["access_token"]}
    )
    assert response.status == 200


# --- test helpers ------------------------------------------------------------------------------


async def test_echo_returns_the_body_byte_for_byte(amazon: Client) -> None:
    body = os.urandom(3 * 1024 * 1024 + 7)
    headers = {**seller_token(amazon), "Content-Type": "application/x-test; charset=latin-1"}
    response = await amazon.put("/_emulator/echo/any/path", data=io.BytesIO(body), headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/x-test; charset=latin-1"
    assert await response.read() == body
    assert "x-amzn-RateLimit-Limit" not in response.headers


async def test_a_64_mib_body_is_accepted(amazon: Client) -> None:
    body = io.BytesIO(bytes(MAX_BODY_BYTES))
    response = await amazon.post("/_emulator/echo/big", data=body, headers=seller_token(amazon))
    assert response.status == 200
    assert len(await response.read()) == MAX_BODY_BYTES == 64 * 1024 * 1024


async def test_body_over_64_mib_is_413_in_spapi_shape(amazon: Client) -> None:
    body = io.BytesIO(bytes(MAX_BODY_BYTES + 1))
    response = await amazon.post("/_emulator/echo/big", data=body, headers=seller_token(amazon))
    assert response.status == 413
    assert (await spapi_error(response))["code"] == "RequestEntityTooLarge"


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


async def test_short_token_ttl_is_honoured(aiohttp_client: AiohttpClient) -> None:
    config = dataclasses.replace(EmulatorConfig(), token_ttl_s=0)
    amazon = await aiohttp_client(make_emulator_app(config))
    status, body = await lwa(amazon, grant_type="refresh_token", refresh_token=DEMO_REFRESH_TOKEN)
    assert (status, body["expires_in"]) == (200, 0)
    response = await amazon.get(
        "/sellers/v1/marketplaceParticipations",
        headers={"x-amz-access-token": body["access_token"]},
    )
    assert (await spapi_error(response))["details"] == "The access token you provided has expired."
