"""Merchant Fulfillment API v0: the shipments a seller buys labels for (restricted: the ship-to
address is the buyer's).

cancelShipmentOld (`PUT .../cancel`) is gone from the current model but still listed as
restricted in the Tokens API use-case guide; it is served like cancelShipment.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiohttp import web

from spproxy.emulator.apis.query import json_object
from spproxy.emulator.errors import invalid_input, not_found
from spproxy.emulator.fixtures import ORDERS, JsonObject, mfn_shipment
from spproxy.emulator.operations import Operation
from spproxy.emulator.state import STATE_KEY

_REQUIRED_DETAILS = (
    "AmazonOrderId",
    "ItemList",
    "PackageDimensions",
    "ShipFromAddress",
    "ShippingServiceOptions",
    "Weight",
)


async def get_shipment(request: web.Request) -> web.Response:
    return web.json_response({"payload": _shipment(request)})


async def cancel_shipment(request: web.Request) -> web.Response:
    shipment = _shipment(request)
    # The label refund goes to the carrier; the shipment waits for it (model: ShipmentStatus).
    shipment["Status"] = "RefundPending"
    shipment["LastUpdatedDate"] = _now()
    return web.json_response({"payload": shipment})


async def create_shipment(request: web.Request) -> web.Response:
    body = await json_object(request)
    details = body.get("ShipmentRequestDetails")
    if not isinstance(details, dict) or not isinstance(body.get("ShippingServiceId"), str):
        raise invalid_input("ShipmentRequestDetails and ShippingServiceId are required.")
    missing = [name for name in _REQUIRED_DETAILS if name not in details]
    if missing:
        raise invalid_input(f"ShipmentRequestDetails lacks {', '.join(missing)}.")
    order_id = details["AmazonOrderId"]
    order = next((order for order in ORDERS if order["AmazonOrderId"] == order_id), None)
    if order is None or "ShippingAddress" not in order:
        raise invalid_input(f"Order {order_id} cannot be shipped: no such order or no address.")
    item_list = details["ItemList"]
    if (
        not isinstance(item_list, list)
        or not item_list
        or not all(isinstance(item, dict) and "OrderItemId" in item for item in item_list)
    ):
        raise invalid_input("ItemList must list the order items to ship, by OrderItemId.")
    shipment_id = str(uuid.uuid4())
    shipment = mfn_shipment(
        shipment_id, order_id, str(item_list[0]["OrderItemId"]), _tracking_id(), _now()
    )
    shipment["ItemList"] = details["ItemList"]
    shipment["ShipFromAddress"] = details["ShipFromAddress"]
    shipment["PackageDimensions"] = details["PackageDimensions"]
    shipment["Weight"] = details["Weight"]
    shipment["ShippingService"]["ShippingServiceId"] = body["ShippingServiceId"]
    shipment["ShippingService"]["ShippingServiceOptions"] = details["ShippingServiceOptions"]
    request.app[STATE_KEY].mfn_shipments[shipment_id] = shipment
    return web.json_response({"payload": shipment})


def _shipment(request: web.Request) -> JsonObject:
    shipment_id = request.match_info["shipmentId"]
    shipment = request.app[STATE_KEY].mfn_shipments.get(shipment_id)
    if shipment is None:
        raise not_found("Shipment not found.", f"No shipment has the id {shipment_id}.")
    return shipment


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tracking_id() -> str:
    return "1Z17E21002" + uuid.uuid4().hex[:8].upper()


_SHIPMENT = "/mfn/v0/shipments/{shipmentId}"

OPERATIONS = (
    Operation("getShipment", "GET", _SHIPMENT, get_shipment, rate=1, restricted=True),
    Operation("cancelShipment", "DELETE", _SHIPMENT, cancel_shipment, rate=1, restricted=True),
    Operation(
        "cancelShipmentOld", "PUT", f"{_SHIPMENT}/cancel", cancel_shipment, rate=1, restricted=True
    ),
    Operation(
        "createShipment", "POST", "/mfn/v0/shipments", create_shipment, rate=2, restricted=True
    ),
)
