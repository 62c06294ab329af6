"""Vendor Direct Fulfillment Orders and Shipping, v1 and 2021-12-28 (all restricted: the
customer's name and address, on the order and printed on labels, packing slips and invoices).

The two versions answer the same data; v1 wraps it in `payload`, 2021-12-28 does not.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiMapping

from spproxy.emulator.apis.query import date_time, json_object, next_token, page_query, utc
from spproxy.emulator.documents import address_lines, pdf_document, zpl_label
from spproxy.emulator.errors import invalid_input, not_found
from spproxy.emulator.fixtures import VENDOR_ORDERS, JsonObject
from spproxy.emulator.operations import Operation

ORDER_STATUSES = frozenset({"NEW", "SHIPPED", "ACCEPTED", "CANCELLED"})
_MAX_LIMIT = 100
_ORDERS = "/vendor/directFulfillment/orders/{version}/purchaseOrders"
_SHIPPING = "/vendor/directFulfillment/shipping/{version}"

Document = Callable[[JsonObject], JsonObject]


def vendor_customer_lines(order: JsonObject) -> list[str]:
    customer = order["orderDetails"]["shipToParty"]
    return address_lines(
        customer["name"],
        customer["addressLine1"],
        customer["city"],
        customer["stateOrRegion"],
        customer["postalCode"],
    )


def vendor_shipping_label(order: JsonObject, package: str = "PKG001") -> JsonObject:
    """The label Amazon prints for a vendor's purchase order (ShippingLabel in both versions)."""
    tracking = "1Z6A34Y6036973" + order["purchaseOrderNumber"][-4:]
    return {
        "purchaseOrderNumber": order["purchaseOrderNumber"],
        "sellingParty": {"partyId": "999US"},
        "shipFromParty": {"partyId": "ABCD"},
        "labelFormat": "ZPL",
        "labelData": [
            {
                "packageIdentifier": package,
                "trackingNumber": tracking,
                "shipMethod": "UPS_GR_RES",
                "shipMethodName": "UPS Ground Residential",
                "content": zpl_label(vendor_customer_lines(order), tracking),
            }
        ],
    }


def vendor_packing_slip(order: JsonObject) -> JsonObject:
    lines = ["Packing slip " + order["purchaseOrderNumber"], *vendor_customer_lines(order)]
    return {
        "purchaseOrderNumber": order["purchaseOrderNumber"],
        "content": pdf_document(lines),
        "contentType": "application/pdf",
    }


def vendor_customer_invoice(order: JsonObject) -> JsonObject:
    lines = ["Invoice " + order["purchaseOrderNumber"], *vendor_customer_lines(order)]
    return {"purchaseOrderNumber": order["purchaseOrderNumber"], "content": pdf_document(lines)}


def _answer(version: str, data: JsonObject) -> web.Response:
    return web.json_response({"payload": data} if version == "v1" else data)


def _purchase_order(request: web.Request) -> JsonObject:
    number = request.match_info["purchaseOrderNumber"]
    order = next((o for o in VENDOR_ORDERS if o["purchaseOrderNumber"] == number), None)
    if order is None:
        raise not_found("Purchase order not found.", f"No purchase order has the number {number}.")
    return order


def _listed(request: web.Request) -> tuple[list[JsonObject], MultiMapping[str], str | None]:
    """The purchase orders a list operation's query selects, one page of them, and the token of
    the next page if any. createdAfter and createdBefore are required, as in the models."""
    query, offset = page_query(request)
    after = date_time(query, "createdAfter", required=True)
    before = date_time(query, "createdBefore", required=True)
    status = query.get("status")
    if status is not None and status not in ORDER_STATUSES:
        raise invalid_input(f"status must be one of {', '.join(sorted(ORDER_STATUSES))}.")
    try:
        limit = int(query.get("limit", str(_MAX_LIMIT)))
    except ValueError:
        limit = 0
    if not 1 <= limit <= _MAX_LIMIT:
        raise invalid_input(f"limit must be an integer from 1 to {_MAX_LIMIT}.")
    sort_order = query.get("sortOrder", "ASC")
    if sort_order not in ("ASC", "DESC"):
        raise invalid_input("sortOrder must be ASC or DESC.")
    selected = [
        order
        for order in VENDOR_ORDERS
        if after is not None
        and before is not None
        and after <= utc(order["orderDetails"]["orderDate"]) <= before
        and status in (None, order["orderDetails"]["orderStatus"])
        and query.get("shipFromPartyId")
        in (None, order["orderDetails"]["shipFromParty"]["partyId"])
    ]
    selected.sort(key=lambda order: str(order["orderDetails"]["orderDate"]))
    if sort_order == "DESC":
        selected.reverse()
    page = selected[offset : offset + limit]
    more = offset + limit < len(selected)
    return page, query, next_token(query, offset + limit) if more else None


def _pagination(token: str | None) -> JsonObject:
    return {"pagination": {"nextToken": token}} if token else {}


# --- Orders ------------------------------------------------------------------------------------


def _get_orders(version: str) -> Handler:
    async def get_orders(request: web.Request) -> web.Response:
        page, query, token = _listed(request)
        if query.get("includeDetails", "true").lower() == "false":
            page = [{"purchaseOrderNumber": order["purchaseOrderNumber"]} for order in page]
        return _answer(version, {**_pagination(token), "orders": page})

    return get_orders


def _get_order(version: str) -> Handler:
    async def get_order(request: web.Request) -> web.Response:
        return _answer(version, _purchase_order(request))

    return get_order


# --- Shipping: labels, packing slips, customer invoices ---------------------------------------


def _list_documents(version: str, field: str, document: Document) -> Handler:
    async def list_documents(request: web.Request) -> web.Response:
        page, _query, token = _listed(request)
        return _answer(version, {**_pagination(token), field: [document(o) for o in page]})

    return list_documents


def _get_document(version: str, document: Document) -> Handler:
    async def get_document(request: web.Request) -> web.Response:
        return _answer(version, document(_purchase_order(request)))

    return get_document


async def create_shipping_labels(request: web.Request) -> web.Response:
    order = _purchase_order(request)
    body = await json_object(request)
    for party in ("sellingParty", "shipFromParty"):
        if not isinstance(body.get(party), dict) or "partyId" not in body[party]:
            raise invalid_input(f"{party} with a partyId is required.")
    containers = body.get("containers") or [{}]
    if not isinstance(containers, list):
        raise invalid_input("containers must be a list.")
    label = vendor_shipping_label(order)
    label["sellingParty"] = body["sellingParty"]
    label["shipFromParty"] = body["shipFromParty"]
    return web.json_response(label)


def _operations(version: str) -> tuple[Operation, ...]:
    orders = _ORDERS.format(version=version)
    shipping = _SHIPPING.format(version=version)
    documents = (
        ("ShippingLabel", "shippingLabels", vendor_shipping_label),
        ("PackingSlip", "packingSlips", vendor_packing_slip),
        ("CustomerInvoice", "customerInvoices", vendor_customer_invoice),
    )
    rows = [
        Operation("getOrders", "GET", orders, _get_orders(version), rate=10, restricted=True),
        Operation(
            "getOrder",
            "GET",
            f"{orders}/{{purchaseOrderNumber}}",
            _get_order(version),
            rate=10,
            restricted=True,
        ),
    ]
    for name, field, document in documents:
        rows += [
            Operation(
                f"get{name}s",
                "GET",
                f"{shipping}/{field}",
                _list_documents(version, field, document),
                rate=10,
                restricted=True,
            ),
            Operation(
                f"get{name}",
                "GET",
                f"{shipping}/{field}/{{purchaseOrderNumber}}",
                _get_document(version, document),
                rate=10,
                restricted=True,
            ),
        ]
    return tuple(rows)


OPERATIONS = (
    *_operations("v1"),
    *_operations("2021-12-28"),
    Operation(
        "createShippingLabels",
        "POST",
        "/vendor/directFulfillment/shipping/2021-12-28/shippingLabels/{purchaseOrderNumber}",
        create_shipping_labels,
        rate=10,
        restricted=True,
    ),
)
