"""Which calls an RDT covers: its method, a specific or a generic path."""

from __future__ import annotations

from spproxy.emulator.fixtures import (
    MFN_SHIPMENT_ID,
)
from tests.emulator.conftest import Client, bearer, error_of, mint, resource

TOKENS = "/tokens/2021-03-01/restrictedDataToken"
JORDAN = "902-1845936-5435065"  # Unshipped, with buyer details and a gift-wrapped item
JOHN = "902-8745147-1934268"  # Shipped, BuyerInfo with BuyerTaxInfo
TURKISH = "406-2947718-7043522"  # business order with BuyerTaxInformation


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
