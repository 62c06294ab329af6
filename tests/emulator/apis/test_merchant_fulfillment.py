"""Merchant Fulfillment v0: create, get and cancel a shipment."""

from __future__ import annotations

from typing import Any

from tests.emulator.conftest import Client, state_of
from tests.restricted_cases import MFN_BODY

TOKENS = "/tokens/2021-03-01/restrictedDataToken"


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
