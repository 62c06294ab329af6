"""Shipment Invoicing v0 (Brazil): a shipment's details, restricted."""

from __future__ import annotations

from tests.emulator.conftest import Client, rdt_for

TEMPLATE = "/fba/outbound/brazil/v0/shipments/{shipmentId}"


async def test_shipment_details_with_the_buyer(handlers: Client) -> None:
    headers = rdt_for(handlers, "GET", TEMPLATE)
    response = await handlers.get(TEMPLATE.format(shipmentId="F4385943758"), headers=headers)
    assert response.status == 200
    payload = (await response.json())["payload"]
    assert payload["BuyerName"] == "Maria Souza"


async def test_an_unknown_shipment_is_404(handlers: Client) -> None:
    headers = rdt_for(handlers, "GET", TEMPLATE)
    response = await handlers.get(TEMPLATE.format(shipmentId="F000"), headers=headers)
    assert response.status == 404
