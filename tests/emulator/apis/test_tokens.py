"""Tokens API 2021-03-01: minting RDTs, refusing invalid ones, the roles an application lacks."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient

from spproxy.emulator import (
    EmulatorConfig,
    RdtMint,
    RestrictedResource,
    make_emulator_app,
)
from spproxy.emulator.fixtures import (
    LISTINGS_DOCUMENT,
    MFN_SHIPMENT_ID,
    SHIPPING_ORDERS_DOCUMENT,
)
from tests.emulator.conftest import Client, bearer, error_of, mint, resource, seller, state_of

TOKENS = "/tokens/2021-03-01/restrictedDataToken"
JORDAN = "902-1845936-5435065"  # Unshipped, with buyer details and a gift-wrapped item
GET_ORDER = "/orders/v0/orders/{orderId}"
DOCUMENTS = "/reports/2021-06-30/documents"
DENIED = "Access to requested resource is denied."


def _many(count: int) -> dict[str, Any]:
    return {"restrictedResources": [resource("GET", "/orders/v0/orders")] * count}


async def denied(aiohttp_client: AiohttpClient, **config: Any) -> Client:
    return await aiohttp_client(make_emulator_app(EmulatorConfig(**config)))


async def test_mint_answers_an_rdt_and_records_what_it_grants(amazon: Client) -> None:
    response = await amazon.post(
        TOKENS,
        json={
            "restrictedResources": [
                resource("GET", GET_ORDER, "buyerInfo", "shippingAddress"),
                resource("GET", f"/orders/v0/orders/{JORDAN}/address"),
            ],
            "targetApplication": "amzn1.sp.solution.delegatee",
        },
        headers=seller(amazon),
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "1"
    answer = await response.json()
    assert answer["expiresIn"] == 3600
    token = answer["restrictedDataToken"]
    assert token.startswith("Atz.sprdt|")

    granted = (
        RestrictedResource("GET", GET_ORDER, frozenset({"buyerInfo", "shippingAddress"})),
        RestrictedResource("GET", f"/orders/v0/orders/{JORDAN}/address"),
    )
    issued = state_of(amazon).valid_token(token)
    assert issued is not None
    assert (issued.kind, issued.selling_partner_id) == ("rdt", "A1")
    assert issued.restricted_resources == granted
    assert issued.target_application == "amzn1.sp.solution.delegatee"
    assert issued.restricted_resources[0] == ("GET", GET_ORDER, frozenset(granted[0][2]))
    assert state_of(amazon).rdt_mints == [RdtMint(granted, "amzn1.sp.solution.delegatee", "A1")]
    assert state_of(amazon).refused_mints == []
    assert token in state_of(amazon).issued_secrets()


async def test_rdt_lives_as_long_as_the_configured_ttl(aiohttp_client: AiohttpClient) -> None:
    amazon = await aiohttp_client(make_emulator_app(EmulatorConfig(token_ttl_s=900)))
    response = await amazon.post(
        TOKENS,
        json={"restrictedResources": [resource("GET", "/orders/v0/orders")]},
        headers=seller(amazon),
    )
    assert (await response.json())["expiresIn"] == 900


@pytest.mark.parametrize(
    "path",
    [
        "/orders/v0/orders/{orderId}/address",
        "/orders/v0/orders/{id}/address",  # Amazon accepts any name in the braces
        f"/orders/v0/orders/{JORDAN}/address",
        "/mfn/v0/shipments/{shipmentId}",
        "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders",
        f"{DOCUMENTS}/{SHIPPING_ORDERS_DOCUMENT}",
        f"{DOCUMENTS}/{LISTINGS_DOCUMENT}",  # any specific document path may be named
    ],
)
async def test_mint_accepts_generic_and_specific_paths(amazon: Client, path: str) -> None:
    assert (await mint(amazon, resource("GET", path))).startswith("Atz.sprdt|")


async def test_mint_accepts_fifty_resources(amazon: Client) -> None:
    fifty = [resource("GET", f"/orders/v0/orders/902-0000000-{n:07d}") for n in range(50)]
    await mint(amazon, *fifty)
    assert len(state_of(amazon).rdt_mints[0].restricted_resources) == 50


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "1 to 50"),
        (_many(0), "1 to 50"),
        (_many(51), "1 to 50"),
        ({"restrictedResources": resource("GET", "/orders/v0/orders")}, "1 to 50"),
        ({"restrictedResources": ["GET /orders/v0/orders"]}, "method and a path"),
        ({"restrictedResources": [{"path": "/orders/v0/orders"}]}, "method"),
        ({"restrictedResources": [resource("PATCH", "/orders/v0/orders")]}, "method"),
        ({"restrictedResources": [resource("get", "/orders/v0/orders")]}, "method"),
        ({"restrictedResources": [{"method": "GET"}]}, "path"),
        ({"restrictedResources": [resource("GET", "orders/v0/orders")]}, "path"),
        ({"restrictedResources": [resource("GET", "/orders/v0/nothing")]}, "not the path"),
        ({"restrictedResources": [resource("POST", "/orders/v0/orders")]}, "not the path"),
        ({"restrictedResources": [resource("GET", "/orders/v0/orders/{orderId")]}, "not the path"),
        (
            {"restrictedResources": [resource("GET", "/reports/2021-06-30/reports/{reportId}")]},
            "getReport (GET /reports/2021-06-30/reports/{reportId}) is not a restricted",
        ),
        (
            {"restrictedResources": [resource("GET", "/reports/2021-06-30/reports")]},
            "getReports (GET /reports/2021-06-30/reports) is not a restricted",
        ),
        (
            {"restrictedResources": [resource("GET", "/sellers/v1/marketplaceParticipations")]},
            "not a restricted operation",
        ),
        (
            {"restrictedResources": [resource("GET", f"{DOCUMENTS}/{{reportDocumentId}}")]},
            "getReportDocument takes only a specific path",
        ),
        (
            {"restrictedResources": [resource("GET", f"{DOCUMENTS}/{{documentId}}")]},
            "getReportDocument takes only a specific path",
        ),
        (
            {"restrictedResources": [resource("GET", f"{GET_ORDER}/address", "buyerInfo")]},
            "getOrderAddress takes no dataElements",
        ),
        (
            {"restrictedResources": [resource("GET", "/mfn/v0/shipments", "shippingAddress")]},
            "not the path",  # GET on createShipment's path is no operation
        ),
        (
            {
                "restrictedResources": [
                    resource("GET", f"{GET_ORDER}/orderItems", "buyerInfo", "shippingAddress")
                ]
            },
            "getOrderItems accepts only the dataElements buyerInfo, not shippingAddress",
        ),
        (
            {"restrictedResources": [resource("GET", GET_ORDER, "buyerPhone")]},
            "Invalid dataElements value(s): buyerPhone",
        ),
        (
            {"restrictedResources": [{"method": "GET", "path": GET_ORDER, "dataElements": "x"}]},
            "dataElements must be a list",
        ),
        (
            {"restrictedResources": [resource("GET", GET_ORDER)], "targetApplication": 7},
            "targetApplication",
        ),
    ],
)
async def test_mint_refuses_invalid_input(amazon: Client, body: dict[str, Any], says: str) -> None:
    response = await amazon.post(TOKENS, json=body, headers=seller(amazon))
    error = await error_of(response, 400)
    assert error["code"] == "InvalidInput"
    assert says in error["message"]
    assert "x-amzn-RateLimit-Limit" not in response.headers
    assert state_of(amazon).rdt_mints == state_of(amazon).refused_mints == []
    assert all(issued.kind != "rdt" for issued in state_of(amazon).tokens.values())


async def test_mint_refuses_a_body_that_is_no_json_object(amazon: Client) -> None:
    headers = {**seller(amazon), "Content-Type": "application/json"}
    for body in (b"not json", b"[]"):
        response = await amazon.post(TOKENS, data=body, headers=headers)
        assert (await error_of(response, 400))["code"] == "InvalidInput"


async def test_invalid_resource_is_named_in_the_details(amazon: Client) -> None:
    body = {
        "restrictedResources": [
            resource("GET", "/orders/v0/orders"),
            resource("GET", "/reports/2021-06-30/reports/{reportId}"),
        ]
    }
    response = await amazon.post(TOKENS, json=body, headers=seller(amazon))
    error = await error_of(response, 400)
    assert error["details"] == "restrictedResources[1]: GET /reports/2021-06-30/reports/{reportId}"


async def test_mint_needs_a_seller_lwa_token(amazon: Client) -> None:
    rdt = await mint(amazon, resource("GET", "/orders/v0/orders"))
    body = {"restrictedResources": [resource("GET", "/orders/v0/orders")]}
    for headers in (
        bearer(rdt),
        bearer(state_of(amazon).issue_token("grantless", scope="sellingpartnerapi::notifications")),
        {},
    ):
        response = await amazon.post(TOKENS, json=body, headers=headers)
        assert (await error_of(response, 403))["code"] == "Unauthorized"
    assert len(state_of(amazon).rdt_mints) == 1


async def test_a_denied_data_element_refuses_the_whole_mint(aiohttp_client: AiohttpClient) -> None:
    amazon = await denied(aiohttp_client, denied_data_elements=frozenset({"buyerTaxInformation"}))
    wanted = [
        resource("GET", f"{GET_ORDER}/address"),
        resource("GET", GET_ORDER, "buyerInfo", "buyerTaxInformation"),
    ]
    response = await amazon.post(
        TOKENS, json={"restrictedResources": wanted}, headers=seller(amazon)
    )
    assert await error_of(response, 403) == {
        "code": "Unauthorized",
        "message": DENIED,
        "details": "The application does not have the role required for "
        "dataElements buyerTaxInformation.",
    }
    (refused,) = state_of(amazon).refused_mints
    assert refused.restricted_resources[1].data_elements == {"buyerInfo", "buyerTaxInformation"}
    assert refused.refusal is not None and "buyerTaxInformation" in refused.refusal
    assert state_of(amazon).rdt_mints == []
    assert all(issued.kind != "rdt" for issued in state_of(amazon).tokens.values())

    await mint(amazon, resource("GET", GET_ORDER, "buyerInfo"))  # without it: granted
    assert len(state_of(amazon).rdt_mints) == 1


async def test_a_denied_path_refuses_the_whole_bundle(aiohttp_client: AiohttpClient) -> None:
    amazon = await denied(
        aiohttp_client, denied_paths=frozenset({"/mfn/v0/shipments/{shipmentId}"})
    )
    bundle = [
        resource("GET", "/orders/v0/orders", "shippingAddress"),
        resource("DELETE", f"/mfn/v0/shipments/{MFN_SHIPMENT_ID}"),
        resource("GET", "/mfn/v0/shipments/{id}"),
    ]
    response = await amazon.post(
        TOKENS, json={"restrictedResources": bundle}, headers=seller(amazon)
    )
    error = await error_of(response, 403)
    assert error["details"] == (
        "The application does not have the role required for "
        "DELETE /mfn/v0/shipments/{shipmentId} (cancelShipment); "
        "GET /mfn/v0/shipments/{shipmentId} (getShipment)."
    )
    assert len(state_of(amazon).refused_mints) == 1
    await mint(amazon, bundle[0])  # the resource the waiting request needs, alone: granted
    await mint(amazon, resource("GET", "/shipping/v1/shipments/{shipmentId}"))  # not MFN's


async def test_role_refusal_as_amazon_was_seen_answering(aiohttp_client: AiohttpClient) -> None:
    amazon = await denied(
        aiohttp_client,
        denied_data_elements=frozenset({"shippingAddress"}),
        role_refusal="invalid_input",
    )
    body = {"restrictedResources": [resource("GET", "/orders/v0/orders", "shippingAddress")]}
    response = await amazon.post(TOKENS, json=body, headers=seller(amazon))
    assert await error_of(response, 400) == {
        "code": "InvalidInput",
        "message": "Application do not have access to some or all requested resource",
        "details": "",
    }
    assert len(state_of(amazon).refused_mints) == 1
