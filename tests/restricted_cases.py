"""Every restricted operation the emulator serves, as a concrete call with the PII it shows.

Shared by the emulator's tests and the proxy's: each case is a real request (ids that exist in
the emulator's fixtures, bodies Amazon's models accept) and a buyer detail its answer reveals.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from spproxy.emulator.fixtures import MFN_SHIPMENT_ID

US = "ATVPDKIKX0DER"
JORDAN = "902-1845936-5435065"  # Unshipped, with buyer details and a gift-wrapped item
PENDING = "902-3159896-1390916"  # no buyer details yet; regulated items
GET_ORDER = "/orders/v0/orders/{orderId}"
VDF_WINDOW = {"createdAfter": "2025-01-01T00:00:00Z", "createdBefore": "2025-12-31T00:00:00Z"}
Client = TestClient[web.Request, web.Application]


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str  # a concrete path with its resource ids
    generic: str  # the path template
    pii: str  # a buyer's detail the answer shows (in JSON or in a base64 document)
    params: dict[str, str] | None = None
    body: dict[str, Any] | None = None


def _vdf_cases(version: str) -> list[Case]:
    orders = f"/vendor/directFulfillment/orders/{version}/purchaseOrders"
    shipping = f"/vendor/directFulfillment/shipping/{version}"
    cases = [
        Case(f"getOrders {version}", "GET", orders, orders, "Alex Morgan", VDF_WINDOW),
        Case(
            f"getOrder {version}",
            "GET",
            f"{orders}/2JK3S9VC",
            orders + "/{purchaseOrderNumber}",
            "Alex Morgan",
        ),
    ]
    for field in ("shippingLabels", "packingSlips", "customerInvoices"):
        cases += [
            Case(
                f"{field} {version}",
                "GET",
                f"{shipping}/{field}",
                f"{shipping}/{field}",
                "Sam Lee",
                VDF_WINDOW,
            ),
            Case(
                f"{field}/one {version}",
                "GET",
                f"{shipping}/{field}/8UJ2VC4T",
                f"{shipping}/{field}/{{purchaseOrderNumber}}",
                "77 Example Blvd",
            ),
        ]
    return cases


MFN_BODY = {
    "ShipmentRequestDetails": {
        "AmazonOrderId": JORDAN,
        "ItemList": [{"OrderItemId": "05015851154158", "Quantity": 1}],
        "ShipFromAddress": {"Name": "Seller", "AddressLine1": "1 Main St", "City": "Seattle"},
        "PackageDimensions": {"Length": 10, "Width": 10, "Height": 10, "Unit": "inches"},
        "Weight": {"Value": 10, "Unit": "oz"},
        "ShippingServiceOptions": {"DeliveryExperience": "NoTracking", "CarrierWillPickUp": False},
    },
    "ShippingServiceId": "UPS_PTP_2ND_DAY_AIR",
}

CASES = [
    Case(
        "getOrderAddress",
        "GET",
        f"/orders/v0/orders/{JORDAN}/address",
        f"{GET_ORDER}/address",
        "410 Terry Ave N",
    ),
    Case(
        "getOrderBuyerInfo",
        "GET",
        f"/orders/v0/orders/{JORDAN}/buyerInfo",
        f"{GET_ORDER}/buyerInfo",
        "fzyrv6gwkhbb15c@example.com",
    ),
    Case(
        "getOrderItemsBuyerInfo",
        "GET",
        f"/orders/v0/orders/{JORDAN}/orderItems/buyerInfo",
        f"{GET_ORDER}/orderItems/buyerInfo",
        "Happy birthday, Sam!",
    ),
    Case(
        "getOrderRegulatedInfo",
        "GET",
        f"/orders/v0/orders/{PENDING}/regulatedInfo",
        f"{GET_ORDER}/regulatedInfo",
        "Ruffus",
    ),
    Case(
        "MFN getShipment",
        "GET",
        f"/mfn/v0/shipments/{MFN_SHIPMENT_ID}",
        "/mfn/v0/shipments/{shipmentId}",
        "Jordan Rivera",
    ),
    Case(
        "cancelShipment",
        "DELETE",
        f"/mfn/v0/shipments/{MFN_SHIPMENT_ID}",
        "/mfn/v0/shipments/{shipmentId}",
        "Jordan Rivera",
    ),
    Case(
        "cancelShipmentOld",
        "PUT",
        f"/mfn/v0/shipments/{MFN_SHIPMENT_ID}/cancel",
        "/mfn/v0/shipments/{shipmentId}/cancel",
        "Jordan Rivera",
    ),
    Case(
        "createShipment",
        "POST",
        "/mfn/v0/shipments",
        "/mfn/v0/shipments",
        "410 Terry Ave N",
        body=MFN_BODY,
    ),
    Case(
        "Shipping v1 getShipment",
        "GET",
        "/shipping/v1/shipments/89108749065090",
        "/shipping/v1/shipments/{shipmentId}",
        "John Doe",
    ),
    Case(
        "directPurchaseShipment",
        "POST",
        "/shipping/v2/shipments/directPurchase",
        "/shipping/v2/shipments/directPurchase",
        "Jordan Rivera",
        body={
            "channelDetails": {"channelType": "AMAZON", "amazonOrderDetails": {"orderId": JORDAN}}
        },
    ),
    Case(
        "getShipmentDetails",
        "GET",
        "/fba/outbound/brazil/v0/shipments/F4385943758",
        "/fba/outbound/brazil/v0/shipments/{shipmentId}",
        "Maria Souza",
    ),
    Case(
        "createScheduledPackageBulk",
        "POST",
        "/easyShip/2022-03-23/packages/bulk",
        "/easyShip/2022-03-23/packages/bulk",
        "printableDocumentsUrl",  # the labels with the buyers' addresses are behind that URL
        body={
            "marketplaceId": US,
            "labelFormat": "ZPL",
            "orderScheduleDetailsList": [{"amazonOrderId": JORDAN}],
        },
    ),
    *_vdf_cases("v1"),
    *_vdf_cases("2021-12-28"),
    Case(
        "createShippingLabels",
        "POST",
        "/vendor/directFulfillment/shipping/2021-12-28/shippingLabels/2JK3S9VC",
        "/vendor/directFulfillment/shipping/2021-12-28/shippingLabels/{purchaseOrderNumber}",
        "Alex Morgan",
        body={"sellingParty": {"partyId": "999US"}, "shipFromParty": {"partyId": "ABCD"}},
    ),
]
IDS = [case.name for case in CASES]


async def call(client: Client, case: Case, headers: dict[str, str]) -> Any:
    return await client.request(
        case.method, case.path, params=case.params, json=case.body, headers=headers
    )


def shown(answer: Any) -> str:
    """The answer's text with its base64 documents (labels, packing slips, invoices) decoded."""
    documents = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key.lower() in ("content", "contents") and isinstance(inner, str):
                    documents.append(base64.b64decode(inner).decode("latin-1"))
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(answer)
    return json.dumps(answer) + "\n".join(documents)
