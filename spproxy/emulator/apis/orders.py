"""Orders API v0: orders, their items, and the restricted operations on their buyer data.

Every operation here is restricted (Tokens API use-case guide). getOrders, getOrder and
getOrderItems also answer a seller's LWA token, without PII; with a Restricted Data Token they
show the PII of the dataElements it grants for the request (`served_order`), and so do the
answers from Amazon's sandbox examples for them (`example_view`). The other four need an RDT and
show the PII they exist for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from spproxy.emulator.access import granted_data_elements
from spproxy.emulator.apis.query import required_comma_separated, utc
from spproxy.emulator.errors import invalid_input, not_found
from spproxy.emulator.fixtures import ORDER_ITEMS, ORDERS, REGULATED_INFO, JsonObject
from spproxy.emulator.operations import ExampleView, Operation

# What Amazon shows of a shipping address without a Restricted Data Token.
PII_FREE_ADDRESS_FIELDS = frozenset({"City", "StateOrRegion", "PostalCode", "CountryCode"})

# Restricted fields of an order or order item -> the dataElements value that releases them
# (ordersV0 model: BuyerInfo, ShippingAddress and BuyerTaxInformation "contain restricted data";
# tokens model: buyerInfo includes "tax-related information", hence BuyerInfo.BuyerTaxInfo;
# buyerTaxInformation is "information for issuing tax invoices", the Turkish business orders').
RELEASED_BY = {
    "BuyerInfo": "buyerInfo",
    "ShippingAddress": "shippingAddress",
    "BuyerTaxInformation": "buyerTaxInformation",
}
ORDER_DATA_ELEMENTS = frozenset(RELEASED_BY.values())

# Query parameter -> the order date it bounds from below; getOrders takes exactly one.
_LOWER_BOUNDS = {"CreatedAfter": "PurchaseDate", "LastUpdatedAfter": "LastUpdateDate"}


def served_order(order: JsonObject, data_elements: frozenset[str] = frozenset()) -> JsonObject:
    """The order, or order item, as Amazon serves it: PII only for the granted dataElements.

    The one place that decides what buyer data a caller sees. An LWA token grants none: no
    BuyerInfo, no BuyerTaxInformation, and the shipping address without name, street and phone.
    """
    served = {
        name: value
        for name, value in order.items()
        if name not in RELEASED_BY or RELEASED_BY[name] in data_elements
    }
    if "ShippingAddress" in order and "shippingAddress" not in data_elements:
        served["ShippingAddress"] = {
            name: value
            for name, value in order["ShippingAddress"].items()
            if name in PII_FREE_ADDRESS_FIELDS
        }
    return served


def example_view(*where: str) -> ExampleView:
    """The filter of `served_order` for the orders (or items) an example's body holds at `where`
    (a list of them, or one), with the dataElements the request's token grants."""

    def view(request: web.Request, body: Any) -> Any:
        granted = granted_data_elements(request)
        return _applied(body, where, lambda order: served_order(order, granted))

    return view


def _applied(value: Any, where: tuple[str, ...], serve: Callable[[JsonObject], JsonObject]) -> Any:
    """`value` with `serve` applied at `where`; what is not there or of another shape stays."""
    if where:
        if not isinstance(value, dict) or where[0] not in value:
            return value
        return {**value, where[0]: _applied(value[where[0]], where[1:], serve)}
    if isinstance(value, list):
        return [serve(item) if isinstance(item, dict) else item for item in value]
    return serve(value) if isinstance(value, dict) else value


async def get_orders(request: web.Request) -> web.Response:
    marketplace_ids = required_comma_separated(request, "MarketplaceIds")
    bounds = [name for name in _LOWER_BOUNDS if name in request.query]
    if len(bounds) != 1:
        raise invalid_input("Exactly one of CreatedAfter and LastUpdatedAfter must be specified.")
    (bound,) = bounds
    try:
        after = utc(request.query[bound])
    except ValueError:
        raise invalid_input(f"{bound} must be an ISO 8601 date-time.") from None
    granted = granted_data_elements(request)
    orders = [
        served_order(order, granted)
        for order in ORDERS
        if order["MarketplaceId"] in marketplace_ids and utc(order[_LOWER_BOUNDS[bound]]) >= after
    ]
    return web.json_response({"payload": {"Orders": orders}})


async def get_order(request: web.Request) -> web.Response:
    order = _order(request)
    return web.json_response({"payload": served_order(order, granted_data_elements(request))})


async def get_order_items(request: web.Request) -> web.Response:
    order = _order(request)
    granted = granted_data_elements(request)
    items = [served_order(item, granted) for item in ORDER_ITEMS.get(order["AmazonOrderId"], [])]
    return web.json_response(
        {"payload": {"AmazonOrderId": order["AmazonOrderId"], "OrderItems": items}}
    )


async def get_order_address(request: web.Request) -> web.Response:
    order = _order(request)
    payload: JsonObject = {"AmazonOrderId": order["AmazonOrderId"]}
    if "ShippingAddress" in order:
        payload["ShippingAddress"] = order["ShippingAddress"]
    return web.json_response({"payload": payload})


async def get_order_buyer_info(request: web.Request) -> web.Response:
    order = _order(request)
    return web.json_response(
        {"payload": {"AmazonOrderId": order["AmazonOrderId"], **order.get("BuyerInfo", {})}}
    )


async def get_order_items_buyer_info(request: web.Request) -> web.Response:
    order = _order(request)
    items = [
        {"OrderItemId": item["OrderItemId"], **item.get("BuyerInfo", {})}
        for item in ORDER_ITEMS.get(order["AmazonOrderId"], [])
    ]
    return web.json_response(
        {"payload": {"AmazonOrderId": order["AmazonOrderId"], "OrderItems": items}}
    )


async def get_order_regulated_info(request: web.Request) -> web.Response:
    order_id = _order(request)["AmazonOrderId"]
    if order_id not in REGULATED_INFO:
        raise not_found("Regulated information not found.", f"Order {order_id} has none.")
    return web.json_response({"payload": REGULATED_INFO[order_id]})


def _order(request: web.Request) -> JsonObject:
    order_id = request.match_info["orderId"]
    order = next((order for order in ORDERS if order["AmazonOrderId"] == order_id), None)
    if order is None:
        raise not_found("Order not found.", f"No order has the id {order_id}.")
    return order


_ORDER = "/orders/v0/orders/{orderId}"

OPERATIONS = (
    Operation(
        "getOrders",
        "GET",
        "/orders/v0/orders",
        get_orders,
        rate=0.0167,
        restricted=True,
        data_elements=ORDER_DATA_ELEMENTS,
        answers_lwa_token=True,
        example_view=example_view("payload", "Orders"),
    ),
    Operation(
        "getOrder",
        "GET",
        _ORDER,
        get_order,
        rate=0.5,
        restricted=True,
        data_elements=ORDER_DATA_ELEMENTS,
        answers_lwa_token=True,
        example_view=example_view("payload"),
    ),
    Operation(
        "getOrderItems",
        "GET",
        f"{_ORDER}/orderItems",
        get_order_items,
        rate=0.5,
        restricted=True,
        data_elements=frozenset({"buyerInfo"}),
        answers_lwa_token=True,
        example_view=example_view("payload", "OrderItems"),
    ),
    Operation(
        "getOrderAddress",
        "GET",
        f"{_ORDER}/address",
        get_order_address,
        rate=0.5,
        restricted=True,
    ),
    Operation(
        "getOrderBuyerInfo",
        "GET",
        f"{_ORDER}/buyerInfo",
        get_order_buyer_info,
        rate=0.5,
        restricted=True,
    ),
    Operation(
        "getOrderItemsBuyerInfo",
        "GET",
        f"{_ORDER}/orderItems/buyerInfo",
        get_order_items_buyer_info,
        rate=0.5,
        restricted=True,
    ),
    Operation(
        "getOrderRegulatedInfo",
        "GET",
        f"{_ORDER}/regulatedInfo",
        get_order_regulated_info,
        rate=0.5,
        restricted=True,
    ),
)
