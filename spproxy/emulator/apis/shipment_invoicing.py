"""Shipment Invoicing API v0 (Brazil) getShipmentDetails (restricted: buyer and address)."""

from __future__ import annotations

from aiohttp import web

from spproxy.emulator.errors import not_found
from spproxy.emulator.fixtures import SHIPMENT_DETAILS
from spproxy.emulator.operations import Operation


async def get_shipment_details(request: web.Request) -> web.Response:
    shipment_id = request.match_info["shipmentId"]
    if shipment_id not in SHIPMENT_DETAILS:
        raise not_found("Shipment not found.", f"No shipment has the id {shipment_id}.")
    return web.json_response({"payload": SHIPMENT_DETAILS[shipment_id]})


OPERATIONS = (
    Operation(
        "getShipmentDetails",
        "GET",
        "/fba/outbound/brazil/v0/shipments/{shipmentId}",
        get_shipment_details,
        rate=1.133,
        restricted=True,
    ),
)
