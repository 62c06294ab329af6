"""Merchant Fulfillment v0: create, get and cancel a shipment."""

from __future__ import annotations

from tests.emulator.conftest import Client, bearer, error_of, mint, resource
from tests.restricted_cases import MFN_BODY

TOKENS = "/tokens/2021-03-01/restrictedDataToken"


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
