"""Shipping API: a shipment to an order's buyer, and labels printed for any address."""

from __future__ import annotations

import base64

from tests.emulator.conftest import Client, rdt_for

SHIPMENT = "/shipping/v1/shipments/{shipmentId}"
PURCHASE = "/shipping/v2/shipments/directPurchase"


async def test_get_shipment(handlers: Client) -> None:
    headers = rdt_for(handlers, "GET", SHIPMENT)
    response = await handlers.get(SHIPMENT.format(shipmentId="89108749065090"), headers=headers)
    assert (await response.json())["payload"]["shipTo"]["name"] == "John Doe"
    unknown = await handlers.get(SHIPMENT.format(shipmentId="1"), headers=headers)
    assert unknown.status == 404


async def test_direct_purchase_prints_a_label_per_package(handlers: Client) -> None:
    body = {
        "channelDetails": {"channelType": "EXTERNAL"},
        "shipTo": {"name": "Sam Lee", "addressLine1": "77 Example Blvd", "city": "Austin"},
        "packages": [{"packageClientReferenceId": "A"}, {"packageClientReferenceId": "B"}],
    }
    response = await handlers.post(PURCHASE, json=body, headers=rdt_for(handlers, "POST", PURCHASE))
    assert response.status == 200
    documents = (await response.json())["payload"]["packageDocumentDetailList"]
    assert [document["packageClientReferenceId"] for document in documents] == ["A", "B"]
    for document in documents:
        (label,) = document["packageDocuments"]
        zpl = base64.b64decode(label["contents"]).decode()
        assert "Sam Lee" in zpl and document["trackingId"] in zpl


async def test_direct_purchase_needs_a_channel(handlers: Client) -> None:
    headers = rdt_for(handlers, "POST", PURCHASE)
    response = await handlers.post(PURCHASE, json={}, headers=headers)
    assert response.status == 400
