"""Orders API v0: orders and their items, filtered, with buyer PII by data element only."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from spproxy.emulator.access import ACCESS_KEY, Access
from spproxy.emulator.apis.orders import example_view
from tests.emulator.conftest import (
    Client,
    bearer,
    error_of,
    get_json,
    mint,
    resource,
    seller,
    seller_token,
    spapi_error,
)

DE = "A1PA6795UKMFR9"
ORDER_ID = "902-1845936-5435065"


def assert_no_pii(order: dict[str, Any]) -> None:
    assert "BuyerInfo" not in order
    address = order.get("ShippingAddress", {})
    assert set(address) <= {"City", "StateOrRegion", "PostalCode", "CountryCode"}


TOKENS = "/tokens/2021-03-01/restrictedDataToken"
US = "ATVPDKIKX0DER"
TR = "A33AVAJ2PDY3EV"
JORDAN = "902-1845936-5435065"  # Unshipped, with buyer details and a gift-wrapped item
JOHN = "902-8745147-1934268"  # Shipped, BuyerInfo with BuyerTaxInfo
PENDING = "902-3159896-1390916"  # no buyer details yet; regulated items
TURKISH = "406-2947718-7043522"  # business order with BuyerTaxInformation
GET_ORDER = "/orders/v0/orders/{orderId}"


async def order_with(amazon: Client, order_id: str, *elements: str) -> dict[str, Any]:
    rdt = await mint(amazon, resource("GET", GET_ORDER, *elements))
    response = await amazon.get(f"/orders/v0/orders/{order_id}", headers=bearer(rdt))
    assert response.status == 200
    order: dict[str, Any] = (await response.json())["payload"]
    return order


PII_FREE_ADDRESS = {"City", "StateOrRegion", "PostalCode", "CountryCode"}


def _request_granting(*elements: str) -> web.Request:
    request = make_mocked_request("GET", "/orders/v0/orders")
    request[ACCESS_KEY] = Access("rdt" if elements else "lwa", frozenset(elements))
    return request


async def test_get_orders_serves_orders_without_pii(amazon: Client) -> None:
    response = await amazon.get(
        "/orders/v0/orders",
        params={"MarketplaceIds": US, "CreatedAfter": "2025-01-01T00:00:00Z"},
        headers=seller_token(amazon),
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    orders = (await response.json())["payload"]["Orders"]
    assert {order["MarketplaceId"] for order in orders} == {US}
    assert ORDER_ID in {order["AmazonOrderId"] for order in orders}
    for order in orders:
        assert_no_pii(order)
    text = await response.text()
    assert "example.com" not in text
    assert "Jordan Rivera" not in text


async def test_get_orders_filters_by_marketplaces_and_dates(amazon: Client) -> None:
    both = await get_json(
        amazon, "/orders/v0/orders", {"MarketplaceIds": f"{US},{DE}", "CreatedAfter": "2025-01-01"}
    )
    assert len(both["payload"]["Orders"]) == 4
    recent = await get_json(
        amazon,
        "/orders/v0/orders",
        {"MarketplaceIds": f"{US},{DE}", "LastUpdatedAfter": "2025-05-01T00:00:00+00:00"},
    )
    assert {order["AmazonOrderId"] for order in recent["payload"]["Orders"]} == {
        "902-3159896-1390916",
        "921-3175655-0452641",
    }


@pytest.mark.parametrize(
    "params",
    [
        {"CreatedAfter": "2025-01-01T00:00:00Z"},
        {"MarketplaceIds": US},
        {"MarketplaceIds": US, "CreatedAfter": "2025-01-01", "LastUpdatedAfter": "2025-01-01"},
        {"MarketplaceIds": US, "CreatedAfter": "last tuesday"},
    ],
)
async def test_get_orders_rejects_invalid_input(amazon: Client, params: dict[str, str]) -> None:
    response = await amazon.get("/orders/v0/orders", params=params, headers=seller_token(amazon))
    assert response.status == 400
    assert (await spapi_error(response))["code"] == "InvalidInput"
    assert "x-amzn-RateLimit-Limit" not in response.headers


async def test_get_order_serves_one_order_without_pii(amazon: Client) -> None:
    response = await amazon.get(f"/orders/v0/orders/{ORDER_ID}", headers=seller_token(amazon))
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.5"
    order = (await response.json())["payload"]
    assert order["AmazonOrderId"] == ORDER_ID
    assert order["ShippingAddress"] == {
        "City": "SEATTLE",
        "StateOrRegion": "WA",
        "PostalCode": "98109-5210",
        "CountryCode": "US",
    }
    assert_no_pii(order)


async def test_get_order_unknown_id_is_404(amazon: Client) -> None:
    response = await amazon.get(
        "/orders/v0/orders/111-0000000-0000000", headers=seller_token(amazon)
    )
    assert response.status == 404
    assert (await spapi_error(response))["code"] == "NotFound"


async def test_shipping_address_element_shows_the_address_but_no_buyer(amazon: Client) -> None:
    order = await order_with(amazon, JORDAN, "shippingAddress")
    assert order["ShippingAddress"]["Name"] == "Jordan Rivera"
    assert order["ShippingAddress"]["AddressLine1"] == "410 Terry Ave N"
    assert order["ShippingAddress"]["Phone"] == "+1 206-555-0142"
    assert "BuyerInfo" not in order


async def test_buyer_info_element_shows_the_buyer_but_no_address(amazon: Client) -> None:
    order = await order_with(amazon, JOHN, "buyerInfo")
    assert order["BuyerInfo"] == {
        "BuyerEmail": "user@example.com",
        "BuyerName": "John Doe",
        "BuyerTaxInfo": {"CompanyLegalName": "A Company Name"},
        "PurchaseOrderNumber": "1234567890123",
    }
    assert set(order["ShippingAddress"]) == PII_FREE_ADDRESS


async def test_buyer_tax_information_element_shows_the_tax_details_only(amazon: Client) -> None:
    order = await order_with(amazon, TURKISH, "buyerTaxInformation")
    assert order["BuyerTaxInformation"]["BuyerTaxRegistrationId"] == "1234567890"
    assert order["BuyerInvoicePreference"] == "BUSINESS"
    assert "BuyerInfo" not in order
    assert set(order["ShippingAddress"]) == PII_FREE_ADDRESS
    everything = await order_with(amazon, TURKISH, "buyerInfo", "shippingAddress")
    assert "BuyerTaxInformation" not in everything
    assert everything["BuyerInfo"]["BuyerName"] == everything["ShippingAddress"]["Name"]


async def test_an_rdt_without_data_elements_shows_no_pii(amazon: Client) -> None:
    order = await order_with(amazon, JORDAN)
    assert "BuyerInfo" not in order
    assert set(order["ShippingAddress"]) == PII_FREE_ADDRESS


async def test_get_orders_with_an_rdt_shows_the_granted_pii_of_every_order(amazon: Client) -> None:
    rdt = await mint(amazon, resource("GET", "/orders/v0/orders", "shippingAddress"))
    response = await amazon.get(
        "/orders/v0/orders",
        params={"MarketplaceIds": f"{US},{TR}", "CreatedAfter": "2025-01-01"},
        headers=bearer(rdt),
    )
    orders = (await response.json())["payload"]["Orders"]
    names = {o["ShippingAddress"]["Name"] for o in orders if "ShippingAddress" in o}
    assert names == {"Jordan Rivera", "John Doe", "Ayse Yilmaz"}
    assert all("BuyerInfo" not in order for order in orders)


async def test_elements_of_all_covering_resources_add_up(amazon: Client) -> None:
    rdt = await mint(
        amazon,
        resource("GET", GET_ORDER, "buyerInfo"),
        resource("GET", f"/orders/v0/orders/{JORDAN}", "shippingAddress"),
    )
    both = await (await amazon.get(f"/orders/v0/orders/{JORDAN}", headers=bearer(rdt))).json()
    assert {"BuyerInfo", "ShippingAddress"} <= set(both["payload"])
    assert both["payload"]["ShippingAddress"]["Name"] == "Jordan Rivera"
    one = await (await amazon.get(f"/orders/v0/orders/{JOHN}", headers=bearer(rdt))).json()
    assert set(one["payload"]["ShippingAddress"]) == PII_FREE_ADDRESS


async def test_get_order_items_shows_item_buyer_info_with_the_element(amazon: Client) -> None:
    items = f"/orders/v0/orders/{JORDAN}/orderItems"
    lwa = await (await amazon.get(items, headers=seller(amazon))).json()
    (item,) = lwa["payload"]["OrderItems"]
    assert item["OrderItemId"] == "05015851154158"
    assert "BuyerInfo" not in item
    rdt = await mint(amazon, resource("GET", f"{GET_ORDER}/orderItems", "buyerInfo"))
    released = await (await amazon.get(items, headers=bearer(rdt))).json()
    (item,) = released["payload"]["OrderItems"]
    assert item["BuyerInfo"]["GiftMessageText"] == "Happy birthday, Sam! Love, Jordan"
    bare = await mint(amazon, resource("GET", f"{GET_ORDER}/orderItems"))
    (item,) = (await (await amazon.get(items, headers=bearer(bare))).json())["payload"][
        "OrderItems"
    ]
    assert "BuyerInfo" not in item


async def test_orders_without_buyer_details_answer_without_them(amazon: Client) -> None:
    rdt = await mint(
        amazon,
        resource("GET", f"{GET_ORDER}/address"),
        resource("GET", f"{GET_ORDER}/buyerInfo"),
        resource("GET", f"{GET_ORDER}/regulatedInfo"),
    )
    address = await amazon.get(f"/orders/v0/orders/{PENDING}/address", headers=bearer(rdt))
    assert (await address.json()) == {"payload": {"AmazonOrderId": PENDING}}
    buyer = await amazon.get(f"/orders/v0/orders/{PENDING}/buyerInfo", headers=bearer(rdt))
    assert (await buyer.json()) == {"payload": {"AmazonOrderId": PENDING}}
    regulated = await amazon.get(f"/orders/v0/orders/{JORDAN}/regulatedInfo", headers=bearer(rdt))
    assert (await error_of(regulated, 404))["code"] == "NotFound"


def test_order_examples_show_pii_by_data_element() -> None:
    address = {"Name": "Jo", "AddressLine1": "1 Main St", "City": "Seattle", "CountryCode": "US"}
    order = {"AmazonOrderId": "1", "BuyerInfo": {"BuyerEmail": "jo@example.com"}}
    body: dict[str, Any] = {
        "payload": {"Orders": [{**order, "ShippingAddress": address}], "NextToken": "t"}
    }
    view = example_view("payload", "Orders")
    plain = view(_request_granting(), body)
    assert plain == {
        "payload": {
            "Orders": [
                {"AmazonOrderId": "1", "ShippingAddress": {"City": "Seattle", "CountryCode": "US"}}
            ],
            "NextToken": "t",
        }
    }
    assert view(_request_granting("buyerInfo", "shippingAddress"), body) == body
    shipping = view(_request_granting("shippingAddress"), body)["payload"]["Orders"][0]
    assert "BuyerInfo" not in shipping and shipping["ShippingAddress"] == address
    assert body["payload"]["Orders"][0]["BuyerInfo"]  # the published example is left as it was
    errors = {"errors": [{"code": "InvalidInput"}]}
    assert view(_request_granting(), errors) == errors
