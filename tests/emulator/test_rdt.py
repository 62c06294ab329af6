"""Which calls an RDT covers: its method, a specific or a generic path."""

from __future__ import annotations

from typing import Any

from spproxy.emulator.fixtures import (
    MFN_SHIPMENT_ID,
)
from tests.emulator.conftest import Client, state_of

TOKENS = "/tokens/2021-03-01/restrictedDataToken"
JORDAN = "902-1845936-5435065"  # Unshipped, with buyer details and a gift-wrapped item
JOHN = "902-8745147-1934268"  # Shipped, BuyerInfo with BuyerTaxInfo
TURKISH = "406-2947718-7043522"  # business order with BuyerTaxInformation


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
