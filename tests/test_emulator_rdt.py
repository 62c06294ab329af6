"""The emulated Restricted Data Token world: the Tokens API, RDTs on restricted operations, the PII
they release, restricted report documents, and the emulator's table checked against Amazon's."""

from __future__ import annotations

import base64
import csv
import dataclasses
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from spproxy.emulator import (
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    IssuedToken,
    RdtMint,
    RestrictedResource,
    make_emulator_app,
)
from spproxy.emulator.apis import OPERATIONS
from spproxy.emulator.apis.reports import RESTRICTED_REPORT_TYPES
from spproxy.emulator.fixtures import (
    FBA_INVOICING_DOCUMENT,
    INVENTORY_DOCUMENT,
    LISTINGS_DOCUMENT,
    MFN_SHIPMENT_ID,
    ORDER_REPORT_DOCUMENT,
    REPORTS,
    SHIPPING_ORDERS_DOCUMENT,
)
from tests.restricted_cases import CASES, IDS, MFN_BODY, Case, call, shown

Client = TestClient[web.Request, web.Application]

SHARED = Path(__file__).resolve().parents[2] / "shared"
MODELS = SHARED / "spapi-models" / "models"
REFERENCE = SHARED / "reference" / "spapi_restricted_operations.csv"

TOKENS = "/tokens/2021-03-01/restrictedDataToken"
US = "ATVPDKIKX0DER"
TR = "A33AVAJ2PDY3EV"
JORDAN = "902-1845936-5435065"  # Unshipped, with buyer details and a gift-wrapped item
JOHN = "902-8745147-1934268"  # Shipped, BuyerInfo with BuyerTaxInfo
PENDING = "902-3159896-1390916"  # no buyer details yet; regulated items
TURKISH = "406-2947718-7043522"  # business order with BuyerTaxInformation
GET_ORDER = "/orders/v0/orders/{orderId}"
DOCUMENTS = "/reports/2021-06-30/documents"
VDF_WINDOW = {"createdAfter": "2025-01-01T00:00:00Z", "createdBefore": "2025-12-31T00:00:00Z"}
DENIED = "Access to requested resource is denied."


@pytest.fixture
async def amazon(aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_emulator_app())


def state_of(client: Client) -> EmulatorState:
    return client.app[STATE_KEY]


def seller(client: Client) -> dict[str, str]:
    return {"x-amz-access-token": state_of(client).issue_token("lwa", selling_partner_id="A1")}


def bearer(token: str) -> dict[str, str]:
    return {"x-amz-access-token": token}


def resource(method: str, path: str, *elements: str) -> dict[str, Any]:
    listed: dict[str, Any] = {"method": method, "path": path}
    return {**listed, "dataElements": list(elements)} if elements else listed


async def mint(client: Client, *resources: dict[str, Any], **extra: Any) -> str:
    body = {"restrictedResources": list(resources), **extra}
    response = await client.post(TOKENS, json=body, headers=seller(client))
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert set(answer) == {"restrictedDataToken", "expiresIn"}
    token: str = answer["restrictedDataToken"]
    return token


async def error_of(response: Any, status: int) -> dict[str, str]:
    assert response.status == status, await response.text()
    (error,) = (await response.json())["errors"]
    assert set(error) == {"code", "message", "details"}
    return dict(error)


# --- Tokens API: minting -----------------------------------------------------------------------


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


def _many(count: int) -> dict[str, Any]:
    return {"restrictedResources": [resource("GET", "/orders/v0/orders")] * count}


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


# --- Tokens API: roles the application lacks ---------------------------------------------------


async def denied(aiohttp_client: AiohttpClient, **config: Any) -> Client:
    return await aiohttp_client(make_emulator_app(EmulatorConfig(**config)))


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


async def test_a_denied_report_type_refuses_its_documents(aiohttp_client: AiohttpClient) -> None:
    invoicing = "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_INVOICING"
    amazon = await denied(aiohttp_client, denied_report_types=frozenset({invoicing}))
    body = {"restrictedResources": [resource("GET", f"{DOCUMENTS}/{FBA_INVOICING_DOCUMENT}")]}
    response = await amazon.post(TOKENS, json=body, headers=seller(amazon))
    error = await error_of(response, 403)
    assert (
        error["details"]
        == f"The application does not have the role required for report type {invoicing}."
    )
    await mint(amazon, resource("GET", f"{DOCUMENTS}/{SHIPPING_ORDERS_DOCUMENT}"))


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


@pytest.mark.parametrize(
    "config",
    [
        EmulatorConfig(denied_paths=frozenset({"/mfn/v0/shipments/{id}"})),
        EmulatorConfig(denied_paths=frozenset({"/reports/2021-06-30/reports/{reportId}"})),
        EmulatorConfig(denied_data_elements=frozenset({"buyerPhone"})),
    ],
)
def test_a_denied_role_must_name_something_restricted(config: EmulatorConfig) -> None:
    with pytest.raises(ValueError, match="denies what no restricted operation has"):
        make_emulator_app(config)


# --- every restricted operation ----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_restricted_operation_refuses_the_lwa_token(amazon: Client, case: Case) -> None:
    response = await call(amazon, case, seller(amazon))
    error = await error_of(response, 403)
    assert error["code"] == "Unauthorized"
    assert "is a restricted operation: it needs a Restricted Data Token" in error["details"]
    assert state_of(amazon).requests[-1].token_kind == "lwa"


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("specific", [False, True], ids=["generic", "specific"])
async def test_restricted_operation_shows_pii_to_a_matching_rdt(
    amazon: Client, case: Case, specific: bool
) -> None:
    rdt = await mint(amazon, resource(case.method, case.path if specific else case.generic))
    response = await call(amazon, case, bearer(rdt))
    assert response.status == 200, await response.text()
    assert case.pii in shown(await response.json())
    assert response.headers["x-amzn-RateLimit-Limit"]
    assert state_of(amazon).requests[-1].token_kind == "rdt"


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_restricted_operation_refuses_an_rdt_for_another_resource(
    amazon: Client, case: Case
) -> None:
    other = "/shipping/v1/shipments/{shipmentId}"
    rdt = await mint(
        amazon, resource("GET", f"{GET_ORDER}/address" if case.generic == other else other)
    )
    response = await call(amazon, case, bearer(rdt))
    error = await error_of(response, 403)
    assert error["details"] == (
        f"The access token you provided does not grant access to {case.method} {case.path}."
    )


async def test_an_rdt_grants_its_method_only(amazon: Client) -> None:
    rdt = await mint(amazon, resource("GET", "/mfn/v0/shipments/{shipmentId}"))
    shipment = f"/mfn/v0/shipments/{MFN_SHIPMENT_ID}"
    assert (await amazon.get(shipment, headers=bearer(rdt))).status == 200
    refused = await amazon.delete(shipment, headers=bearer(rdt))
    assert "does not grant access to DELETE" in (await error_of(refused, 403))["details"]


async def test_a_specific_path_rdt_serves_that_path_only(amazon: Client) -> None:
    rdt = await mint(amazon, resource("GET", f"/orders/v0/orders/{JORDAN}/address"))
    assert (
        await amazon.get(f"/orders/v0/orders/{JORDAN}/address", headers=bearer(rdt))
    ).status == 200
    other = await amazon.get(f"/orders/v0/orders/{JOHN}/address", headers=bearer(rdt))
    assert (await error_of(other, 403))["code"] == "Unauthorized"


async def test_a_generic_path_rdt_serves_every_order(amazon: Client) -> None:
    rdt = await mint(amazon, resource("GET", "/orders/v0/orders/{anyName}/address"))
    for order_id, name in [(JORDAN, "Jordan Rivera"), (JOHN, "John Doe"), (TURKISH, "Ayse Yilmaz")]:
        response = await amazon.get(f"/orders/v0/orders/{order_id}/address", headers=bearer(rdt))
        assert (await response.json())["payload"]["ShippingAddress"]["Name"] == name
    missing = await amazon.get("/orders/v0/orders/111-0000000-0000000/address", headers=bearer(rdt))
    assert (await error_of(missing, 404))["code"] == "NotFound"


async def test_an_rdt_is_no_lwa_token(amazon: Client) -> None:
    rdt = await mint(amazon, resource("GET", "/orders/v0/orders", "buyerInfo"))
    for path in (
        "/sellers/v1/marketplaceParticipations",
        "/reports/2021-06-30/reports/50039018868",
        "/_emulator/echo/x",
    ):
        response = await amazon.get(path, headers=bearer(rdt))
        error = await error_of(response, 403)
        assert "is not a restricted operation" in error["details"]
        assert "Restricted Data Token" in error["details"]
    grantless = await amazon.get("/notifications/v1/destinations", headers=bearer(rdt))
    assert "grantless" in (await error_of(grantless, 403))["details"]
    minted, *used = state_of(amazon).requests
    assert (minted.raw_path, minted.token_kind) == (TOKENS, "lwa")
    assert {r.token_kind for r in used} == {"rdt"}


async def test_an_expired_rdt_is_refused_as_expired(amazon: Client) -> None:
    granted = (RestrictedResource("GET", "/orders/v0/orders"),)
    state_of(amazon).tokens["Atz.sprdt|old"] = IssuedToken(
        "rdt", None, "A1", time.time() - 1, granted
    )
    response = await amazon.get(
        "/orders/v0/orders",
        params={"MarketplaceIds": US, "CreatedAfter": "2025-01-01"},
        headers=bearer("Atz.sprdt|old"),
    )
    error = await error_of(response, 403)
    assert error["details"] == "The access token you provided has expired."
    assert state_of(amazon).requests[-1].token_kind is None


async def test_createshipment_then_getshipment_and_cancel(amazon: Client) -> None:
    rdt = await mint(
        amazon,
        resource("POST", "/mfn/v0/shipments"),
        resource("GET", "/mfn/v0/shipments/{shipmentId}"),
        resource("DELETE", "/mfn/v0/shipments/{shipmentId}"),
    )
    created = await amazon.post("/mfn/v0/shipments", json=MFN_BODY, headers=bearer(rdt))
    shipment = (await created.json())["payload"]
    assert shipment["ShipToAddress"]["Name"] == "Jordan Rivera"
    assert shipment["Status"] == "Purchased"
    path = f"/mfn/v0/shipments/{shipment['ShipmentId']}"
    assert (await (await amazon.get(path, headers=bearer(rdt))).json())["payload"] == shipment
    cancelled = await amazon.delete(path, headers=bearer(rdt))
    assert (await cancelled.json())["payload"]["Status"] == "RefundPending"
    unknown = await amazon.get("/mfn/v0/shipments/nope", headers=bearer(rdt))
    assert (await error_of(unknown, 404))["code"] == "NotFound"
    invalid = await amazon.post("/mfn/v0/shipments", json={"x": 1}, headers=bearer(rdt))
    assert (await error_of(invalid, 400))["code"] == "InvalidInput"


async def test_vendor_orders_versions_and_query(amazon: Client) -> None:
    rdt = await mint(
        amazon,
        resource("GET", "/vendor/directFulfillment/orders/v1/purchaseOrders"),
        resource("GET", "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"),
    )
    v1 = await amazon.get(
        "/vendor/directFulfillment/orders/v1/purchaseOrders", params=VDF_WINDOW, headers=bearer(rdt)
    )
    assert [o["purchaseOrderNumber"] for o in (await v1.json())["payload"]["orders"]] == [
        "2JK3S9VC",
        "8UJ2VC4T",
    ]
    newer = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"
    brief = await amazon.get(
        newer,
        params={**VDF_WINDOW, "includeDetails": "false", "sortOrder": "DESC", "limit": "1"},
        headers=bearer(rdt),
    )
    page = await brief.json()
    assert page["orders"] == [{"purchaseOrderNumber": "8UJ2VC4T"}]
    second = await amazon.get(
        newer, params={"nextToken": page["pagination"]["nextToken"]}, headers=bearer(rdt)
    )
    assert await second.json() == {"orders": [{"purchaseOrderNumber": "2JK3S9VC"}]}
    shipped = await amazon.get(
        newer, params={**VDF_WINDOW, "status": "SHIPPED"}, headers=bearer(rdt)
    )
    assert len((await shipped.json())["orders"]) == 1
    for params in ({"createdAfter": "2025-01-01T00:00:00Z"}, {**VDF_WINDOW, "limit": "0"}):
        refused = await amazon.get(newer, params=params, headers=bearer(rdt))
        assert (await error_of(refused, 400))["code"] == "InvalidInput"


# --- Orders: the dataElements an RDT grants ----------------------------------------------------


async def order_with(amazon: Client, order_id: str, *elements: str) -> dict[str, Any]:
    rdt = await mint(amazon, resource("GET", GET_ORDER, *elements))
    response = await amazon.get(f"/orders/v0/orders/{order_id}", headers=bearer(rdt))
    assert response.status == 200
    order: dict[str, Any] = (await response.json())["payload"]
    return order


PII_FREE_ADDRESS = {"City", "StateOrRegion", "PostalCode", "CountryCode"}


async def test_shipping_address_element_shows_the_address_but_no_buyer(amazon: Client) -> None:
    order = await order_with(amazon, JORDAN, "shippingAddress")
    assert order["ShippingAddress"]["Name"] == "Jordan Rivera"
    assert order["ShippingAddress"]["AddressLine1"] == "410 Terry Ave N"
    assert order["ShippingAddress"]["Phone"] == "+1 206-555-0142"
    assert "BuyerInfo" not in order


async def test_buyer_info_element_shows_the_buyer_but_no_address(amazon: Client) -> None:
    order = await order_with(amazon, JOHN, "buyerInfo")
    assert order["BuyerInfo"] == {
        "BuyerEmail": "user@example.com",
        "BuyerName": "John Doe",
        "BuyerTaxInfo": {"CompanyLegalName": "A Company Name"},
        "PurchaseOrderNumber": "1234567890123",
    }
    assert set(order["ShippingAddress"]) == PII_FREE_ADDRESS


async def test_buyer_tax_information_element_shows_the_tax_details_only(amazon: Client) -> None:
    order = await order_with(amazon, TURKISH, "buyerTaxInformation")
    assert order["BuyerTaxInformation"]["BuyerTaxRegistrationId"] == "1234567890"
    assert order["BuyerInvoicePreference"] == "BUSINESS"
    assert "BuyerInfo" not in order
    assert set(order["ShippingAddress"]) == PII_FREE_ADDRESS
    everything = await order_with(amazon, TURKISH, "buyerInfo", "shippingAddress")
    assert "BuyerTaxInformation" not in everything
    assert everything["BuyerInfo"]["BuyerName"] == everything["ShippingAddress"]["Name"]


async def test_an_rdt_without_data_elements_shows_no_pii(amazon: Client) -> None:
    order = await order_with(amazon, JORDAN)
    assert "BuyerInfo" not in order
    assert set(order["ShippingAddress"]) == PII_FREE_ADDRESS


async def test_get_orders_with_an_rdt_shows_the_granted_pii_of_every_order(amazon: Client) -> None:
    rdt = await mint(amazon, resource("GET", "/orders/v0/orders", "shippingAddress"))
    response = await amazon.get(
        "/orders/v0/orders",
        params={"MarketplaceIds": f"{US},{TR}", "CreatedAfter": "2025-01-01"},
        headers=bearer(rdt),
    )
    orders = (await response.json())["payload"]["Orders"]
    names = {o["ShippingAddress"]["Name"] for o in orders if "ShippingAddress" in o}
    assert names == {"Jordan Rivera", "John Doe", "Ayse Yilmaz"}
    assert all("BuyerInfo" not in order for order in orders)


async def test_elements_of_all_covering_resources_add_up(amazon: Client) -> None:
    rdt = await mint(
        amazon,
        resource("GET", GET_ORDER, "buyerInfo"),
        resource("GET", f"/orders/v0/orders/{JORDAN}", "shippingAddress"),
    )
    both = await (await amazon.get(f"/orders/v0/orders/{JORDAN}", headers=bearer(rdt))).json()
    assert {"BuyerInfo", "ShippingAddress"} <= set(both["payload"])
    assert both["payload"]["ShippingAddress"]["Name"] == "Jordan Rivera"
    one = await (await amazon.get(f"/orders/v0/orders/{JOHN}", headers=bearer(rdt))).json()
    assert set(one["payload"]["ShippingAddress"]) == PII_FREE_ADDRESS


async def test_get_order_items_shows_item_buyer_info_with_the_element(amazon: Client) -> None:
    items = f"/orders/v0/orders/{JORDAN}/orderItems"
    lwa = await (await amazon.get(items, headers=seller(amazon))).json()
    (item,) = lwa["payload"]["OrderItems"]
    assert item["OrderItemId"] == "05015851154158"
    assert "BuyerInfo" not in item
    rdt = await mint(amazon, resource("GET", f"{GET_ORDER}/orderItems", "buyerInfo"))
    released = await (await amazon.get(items, headers=bearer(rdt))).json()
    (item,) = released["payload"]["OrderItems"]
    assert item["BuyerInfo"]["GiftMessageText"] == "Happy birthday, Sam! Love, Jordan"
    bare = await mint(amazon, resource("GET", f"{GET_ORDER}/orderItems"))
    (item,) = (await (await amazon.get(items, headers=bearer(bare))).json())["payload"][
        "OrderItems"
    ]
    assert "BuyerInfo" not in item


async def test_orders_without_buyer_details_answer_without_them(amazon: Client) -> None:
    rdt = await mint(
        amazon,
        resource("GET", f"{GET_ORDER}/address"),
        resource("GET", f"{GET_ORDER}/buyerInfo"),
        resource("GET", f"{GET_ORDER}/regulatedInfo"),
    )
    address = await amazon.get(f"/orders/v0/orders/{PENDING}/address", headers=bearer(rdt))
    assert (await address.json()) == {"payload": {"AmazonOrderId": PENDING}}
    buyer = await amazon.get(f"/orders/v0/orders/{PENDING}/buyerInfo", headers=bearer(rdt))
    assert (await buyer.json()) == {"payload": {"AmazonOrderId": PENDING}}
    regulated = await amazon.get(f"/orders/v0/orders/{JORDAN}/regulatedInfo", headers=bearer(rdt))
    assert (await error_of(regulated, 404))["code"] == "NotFound"


# --- Reports -----------------------------------------------------------------------------------


async def test_get_reports_names_each_reports_type_and_document(amazon: Client) -> None:
    response = await amazon.get(
        "/reports/2021-06-30/reports",
        params={
            "reportTypes": "GET_ORDER_REPORT_DATA_SHIPPING,GET_MERCHANT_LISTINGS_ALL_DATA",
            "processingStatuses": "DONE",
        },
        headers=seller(amazon),
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0222"
    reports = (await response.json())["reports"]
    assert {(r["reportType"], r["reportDocumentId"]) for r in reports} == {
        ("GET_ORDER_REPORT_DATA_SHIPPING", ORDER_REPORT_DOCUMENT),
        ("GET_MERCHANT_LISTINGS_ALL_DATA", LISTINGS_DOCUMENT),
    }


async def test_get_reports_pages(amazon: Client) -> None:
    types = ",".join(sorted({r["reportType"] for r in REPORTS} & RESTRICTED_REPORT_TYPES))
    first = await amazon.get(
        "/reports/2021-06-30/reports",
        params={"reportTypes": types, "pageSize": "2"},
        headers=seller(amazon),
    )
    page = await first.json()
    assert len(page["reports"]) == 2 and page["nextToken"]
    seen = [report["reportId"] for report in page["reports"]]
    while "nextToken" in page:
        more = await amazon.get(
            "/reports/2021-06-30/reports",
            params={"nextToken": page["nextToken"]},
            headers=seller(amazon),
        )
        page = await more.json()
        seen += [report["reportId"] for report in page["reports"]]
    assert len(seen) == len(set(seen)) == 5  # four restricted documents, one report in progress


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"processingStatuses": "DONE"},
        {"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "nextToken": "x"},
        {"nextToken": "not a token"},
        {"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "processingStatuses": "FINISHED"},
        {"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "pageSize": "101"},
        {"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "createdSince": "yesterday"},
        {"reportTypes": ",".join(sorted(RESTRICTED_REPORT_TYPES))},  # at most 10
    ],
)
async def test_get_reports_refuses_invalid_input(amazon: Client, params: dict[str, str]) -> None:
    response = await amazon.get(
        "/reports/2021-06-30/reports", params=params, headers=seller(amazon)
    )
    assert (await error_of(response, 400))["code"] == "InvalidInput"


async def test_get_report(amazon: Client) -> None:
    response = await amazon.get("/reports/2021-06-30/reports/50039018868", headers=seller(amazon))
    assert response.headers["x-amzn-RateLimit-Limit"] == "2"
    report = await response.json()
    assert report["reportType"] == "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
    assert report["reportDocumentId"] == SHIPPING_ORDERS_DOCUMENT
    assert report["processingStatus"] == "DONE"
    missing = await amazon.get("/reports/2021-06-30/reports/1", headers=seller(amazon))
    assert (await error_of(missing, 404))["code"] == "NotFound"


@pytest.mark.parametrize("document", [LISTINGS_DOCUMENT, INVENTORY_DOCUMENT])
async def test_ordinary_report_document_answers_the_lwa_token(
    amazon: Client, document: str
) -> None:
    response = await amazon.get(f"{DOCUMENTS}/{document}", headers=seller(amazon))
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    answer = await response.json()
    assert answer["reportDocumentId"] == document
    assert answer["url"].startswith("https://")
    gzip = {"compressionAlgorithm": "GZIP"} if document == INVENTORY_DOCUMENT else {}
    assert set(answer) == {"reportDocumentId", "url", *gzip}
    assert answer.get("compressionAlgorithm") == gzip.get("compressionAlgorithm")


@pytest.mark.parametrize(
    "document", [SHIPPING_ORDERS_DOCUMENT, ORDER_REPORT_DOCUMENT, FBA_INVOICING_DOCUMENT]
)
async def test_restricted_report_document_needs_an_rdt_for_its_path(
    amazon: Client, document: str
) -> None:
    path = f"{DOCUMENTS}/{document}"
    refused = await amazon.get(path, headers=seller(amazon))
    error = await error_of(refused, 403)
    assert error["code"] == "Unauthorized"
    assert f"minted for GET {path}" in error["details"]

    rdt = await mint(amazon, resource("GET", path))
    response = await amazon.get(path, headers=bearer(rdt))
    assert (await response.json())["reportDocumentId"] == document
    assert state_of(amazon).requests[-1].token_kind == "rdt"

    other = await amazon.get(f"{DOCUMENTS}/{LISTINGS_DOCUMENT}", headers=bearer(rdt))
    assert "does not grant access" in (await error_of(other, 403))["details"]


async def test_report_listings_refuse_an_rdt(amazon: Client) -> None:
    rdt = await mint(amazon, resource("GET", f"{DOCUMENTS}/{SHIPPING_ORDERS_DOCUMENT}"))
    for path in ("/reports/2021-06-30/reports", "/reports/2021-06-30/reports/50039018868"):
        response = await amazon.get(
            path, params={"reportTypes": "GET_ORDER_REPORT_DATA_SHIPPING"}, headers=bearer(rdt)
        )
        assert (await error_of(response, 403))["code"] == "Unauthorized"


async def test_unknown_report_document_is_404(amazon: Client) -> None:
    path = f"{DOCUMENTS}/amzn1.spdoc.1.4.na.00000000-0000-0000-0000-000000000000"
    assert (await error_of(await amazon.get(path, headers=seller(amazon)), 404))[
        "code"
    ] == "NotFound"
    rdt = await mint(amazon, resource("GET", path))
    assert (await amazon.get(path, headers=bearer(rdt))).status == 404


def test_restricted_report_types_are_the_sixteen_of_the_tokens_guide() -> None:
    assert len(RESTRICTED_REPORT_TYPES) == 16
    assert "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING" in RESTRICTED_REPORT_TYPES
    assert "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL" not in RESTRICTED_REPORT_TYPES
    assert "GET_MERCHANT_LISTINGS_ALL_DATA" not in RESTRICTED_REPORT_TYPES


# --- documents carry the buyer's address -------------------------------------------------------


async def test_vendor_documents_are_real_zpl_and_pdf(amazon: Client) -> None:
    shipping = "/vendor/directFulfillment/shipping/2021-12-28"
    rdt = await mint(
        amazon,
        resource("GET", f"{shipping}/shippingLabels/{{purchaseOrderNumber}}"),
        resource("GET", f"{shipping}/packingSlips/{{purchaseOrderNumber}}"),
    )
    label = await (
        await amazon.get(f"{shipping}/shippingLabels/2JK3S9VC", headers=bearer(rdt))
    ).json()
    zpl = base64.b64decode(label["labelData"][0]["content"]).decode()
    assert label["labelFormat"] == "ZPL"
    assert zpl.startswith("^XA") and zpl.endswith("^XZ") and "^FDAlex Morgan^FS" in zpl
    slip = await (await amazon.get(f"{shipping}/packingSlips/2JK3S9VC", headers=bearer(rdt))).json()
    pdf = base64.b64decode(slip["content"])
    assert slip["contentType"] == "application/pdf"
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert b"(Alex Morgan) '" in pdf
    startxref = int(re.findall(rb"startxref\n(\d+)", pdf)[0])
    assert pdf[startxref:].startswith(b"xref")


# --- the table, checked against Amazon's -------------------------------------------------------


RESTRICTED = {(op.method, op.path): op for op in OPERATIONS if op.restricted}


@pytest.mark.skipif(not REFERENCE.is_file(), reason="needs ../shared/reference beside the repo")
def test_restricted_operations_are_those_of_the_reference_table() -> None:
    with REFERENCE.open() as table:
        rows = list(csv.DictReader(table))
    assert {(row["method"], row["path_template"]) for row in rows} == set(RESTRICTED)
    for row in rows:
        operation = RESTRICTED[row["method"], row["path_template"]]
        assert operation.name == row["operationId"]
        assert operation.generic_path_allowed == (not row["generic_path_rdt_ok"].startswith("NO"))
    takes_elements = {op.name for op in RESTRICTED.values() if op.data_elements}
    assert takes_elements == {"getOrders", "getOrder", "getOrderItems"}
    assert RESTRICTED["GET", f"{GET_ORDER}/orderItems"].data_elements == {"buyerInfo"}
    answering_lwa = {op.name for op in RESTRICTED.values() if op.answers_lwa_token}
    assert answering_lwa == {"getOrders", "getOrder", "getOrderItems", "getReportDocument"}


def _model_rates() -> dict[tuple[str, str], float]:
    rates = {}
    for model in MODELS.rglob("*.json"):
        paths = json.loads(model.read_text()).get("paths", {})
        for path, methods in paths.items():
            for method, operation in methods.items():
                if not isinstance(operation, dict):
                    continue  # path-level parameters
                plan = re.search(r"\|\s*([\d.]+)\s*\|\s*\d+\s*\|", operation.get("description", ""))
                if plan:
                    rates[method.upper(), path] = float(plan.group(1))
    return rates


@pytest.mark.skipif(not MODELS.is_dir(), reason="needs ../shared/spapi-models beside the repo")
def test_rates_are_the_models_usage_plans() -> None:
    rates = _model_rates()
    served = [op for op in OPERATIONS if op.rate is not None]
    assert len(served) > 40
    for operation in served:
        if operation.name == "cancelShipmentOld":  # gone from the model; its old plan was 1
            assert operation.rate == 1
            continue
        assert rates[operation.method, operation.path] == operation.rate, operation.name


def test_every_served_restricted_operation_is_in_the_config_check() -> None:
    # denied_paths take the table's templates: one of each is accepted.
    for template in {op.path for op in RESTRICTED.values()}:
        make_emulator_app(dataclasses.replace(EmulatorConfig(), denied_paths=frozenset({template})))
