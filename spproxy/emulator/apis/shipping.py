"""Shipping API v1 getShipment and v2 directPurchaseShipment (restricted: the buyer's address).

directPurchaseShipment is not in the Tokens guide's current list, but was in Amazon's 2023 PII
announcements and is treated as restricted by the reference table.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from spproxy.emulator.apis.query import json_object
from spproxy.emulator.documents import address_lines, zpl_label
from spproxy.emulator.errors import invalid_input, not_found
from spproxy.emulator.fixtures import ORDERS, SHIPPING_SHIPMENTS
from spproxy.emulator.operations import Operation


async def get_shipment(request: web.Request) -> web.Response:
    shipment_id = request.match_info["shipmentId"]
    if shipment_id not in SHIPPING_SHIPMENTS:
        raise not_found("Shipment not found.", f"No shipment has the id {shipment_id}.")
    return web.json_response({"payload": SHIPPING_SHIPMENTS[shipment_id]})


async def direct_purchase_shipment(request: web.Request) -> web.Response:
    body = await json_object(request)
    channel = body.get("channelDetails")
    if not isinstance(channel, dict) or channel.get("channelType") not in ("AMAZON", "EXTERNAL"):
        raise invalid_input("channelDetails with a channelType (AMAZON or EXTERNAL) is required.")
    ship_to = _amazon_ship_to(channel) if channel["channelType"] == "AMAZON" else body.get("shipTo")
    if not isinstance(ship_to, dict) or not all(
        isinstance(ship_to.get(name), str) for name in ("name", "addressLine1", "city")
    ):
        raise invalid_input("shipTo (name, addressLine1, city, ...) is required for EXTERNAL.")
    packages: Any = body.get("packages") or [{"packageClientReferenceId": "PKG001"}]
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise invalid_input("packages must be a list of packages.")
    lines = address_lines(
        ship_to["name"],
        ship_to["addressLine1"],
        ship_to["city"],
        str(ship_to.get("stateOrRegion", "")),
        str(ship_to.get("postalCode", "")),
    )
    documents = []
    for number, package in enumerate(packages, start=1):
        tracking_id = f"TBA{uuid.uuid4().int % 10**12:012d}"
        documents.append(
            {
                "packageClientReferenceId": str(package.get("packageClientReferenceId", number)),
                "trackingId": tracking_id,
                "packageDocuments": [
                    {"type": "LABEL", "format": "ZPL", "contents": zpl_label(lines, tracking_id)}
                ],
            }
        )
    return web.json_response(
        {"payload": {"shipmentId": str(uuid.uuid4()), "packageDocumentDetailList": documents}}
    )


def _amazon_ship_to(channel: dict[str, Any]) -> dict[str, Any]:
    """For an Amazon order, Amazon takes the ship-to address from the order itself."""
    details = channel.get("amazonOrderDetails")
    order_id = details.get("orderId") if isinstance(details, dict) else None
    order = next((order for order in ORDERS if order["AmazonOrderId"] == order_id), None)
    if order is None or "ShippingAddress" not in order:
        raise invalid_input("amazonOrderDetails.orderId must name an order with an address.")
    address = order["ShippingAddress"]
    return {
        "name": address["Name"],
        "addressLine1": address["AddressLine1"],
        "city": address["City"],
        "stateOrRegion": address["StateOrRegion"],
        "postalCode": address["PostalCode"],
    }


OPERATIONS = (
    Operation(
        "getShipment",
        "GET",
        "/shipping/v1/shipments/{shipmentId}",
        get_shipment,
        rate=5,
        restricted=True,
    ),
    Operation(
        "directPurchaseShipment",
        "POST",
        "/shipping/v2/shipments/directPurchase",
        direct_purchase_shipment,
        rate=80,
        restricted=True,
    ),
)
