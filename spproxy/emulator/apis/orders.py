"""Orders API v0: getOrders and getOrder, served without buyer PII as to an LWA token."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from spproxy.emulator.apis.query import required_comma_separated
from spproxy.emulator.errors import invalid_input, not_found
from spproxy.emulator.fixtures import ORDERS, JsonObject
from spproxy.emulator.operations import Operation

# What Amazon shows of a shipping address without a Restricted Data Token.
PII_FREE_ADDRESS_FIELDS = frozenset({"City", "StateOrRegion", "PostalCode", "CountryCode"})

# Query parameter -> the order date it bounds from below; getOrders takes exactly one.
_LOWER_BOUNDS = {"CreatedAfter": "PurchaseDate", "LastUpdatedAfter": "LastUpdateDate"}


def served_order(order: JsonObject) -> JsonObject:
    """The order as Amazon serves it to a seller's LWA token: without buyer PII.

    The one place that decides what buyer data a caller sees: a Restricted Data Token will
    release the data elements it was minted for (buyerInfo, shippingAddress) here.
    """
    served = {name: value for name, value in order.items() if name != "BuyerInfo"}
    if "ShippingAddress" in order:
        served["ShippingAddress"] = {
            name: value
            for name, value in order["ShippingAddress"].items()
            if name in PII_FREE_ADDRESS_FIELDS
        }
    return served


async def get_orders(request: web.Request) -> web.Response:
    marketplace_ids = required_comma_separated(request, "MarketplaceIds")
    bounds = [name for name in _LOWER_BOUNDS if name in request.query]
    if len(bounds) != 1:
        raise invalid_input("Exactly one of CreatedAfter and LastUpdatedAfter must be specified.")
    (bound,) = bounds
    try:
        after = _utc(request.query[bound])
    except ValueError:
        raise invalid_input(f"{bound} must be an ISO 8601 date-time.") from None
    orders = [
        served_order(order)
        for order in ORDERS
        if order["MarketplaceId"] in marketplace_ids and _utc(order[_LOWER_BOUNDS[bound]]) >= after
    ]
    return web.json_response({"payload": {"Orders": orders}})


async def get_order(request: web.Request) -> web.Response:
    order_id = request.match_info["orderId"]
    order = next((order for order in ORDERS if order["AmazonOrderId"] == order_id), None)
    if order is None:
        raise not_found("Order not found.", f"No order has the id {order_id}.")
    return web.json_response({"payload": served_order(order)})


def _utc(iso_8601: str) -> datetime:
    moment = datetime.fromisoformat(iso_8601)
    # A date-time without a zone is UTC, as SP-API reads it.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


OPERATIONS = (
    Operation("getOrders", "GET", "/orders/v0/orders", get_orders, rate=0.0167),
    Operation("getOrder", "GET", "/orders/v0/orders/{orderId}", get_order, rate=0.5),
)
