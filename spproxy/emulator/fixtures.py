"""What the emulated seller's account holds, loaded once from `data/<api>.json` (one file per API
module that serves it); what depends on other data or on a rule is computed here.

Adapted from the sandbox examples (`x-amzn-api-sandbox`) and response examples in Amazon's Selling
Partner API models, https://github.com/amzn/selling-partner-api-models, Copyright Amazon.com, Inc.
or its affiliates, licensed under the Apache License, Version 2.0 (`data/NOTICE`). Changes: sandbox
dates moved to 2025, buyer details added to orders and items (fictitious; example.com addresses), a
Turkish business order added (the one kind with BuyerTaxInformation, which only an RDT with the
buyerTaxInformation data element releases), a variation parent added to the catalog, reports,
their documents and shipments made up in the shape of their APIs. Pending orders carry no buyer
details yet, at Amazon as here. Where an id is also in a sandbox example (the TV's ASIN, order
902-3159896-1390916's regulated information), the data is the example's, so the emulator's answer
and Amazon's published one agree (sandbox.py).

Orders and their items are stored WITH buyer PII, as Amazon stores them; what a caller may see of
it is decided when they are served (apis/orders.py).

A `null` in a shipment of `merchant_fulfillment.json` or `shipping.json` is filled in here: the
buyer's address (from the order), the label printed for it, the shipment's ids and dates.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

from spproxy.emulator.documents import address_lines, zpl_label

JsonObject = dict[str, Any]


def _load(api: str) -> JsonObject:
    data: JsonObject = json.loads(
        resources.files(__package__).joinpath("data", f"{api}.json").read_text("utf-8")
    )
    return data


_ORDERS = _load("orders")
ORDERS: list[JsonObject] = _ORDERS["orders"]
# Order id -> its items, with the buyer's item-level PII (gift messages, custom orders).
ORDER_ITEMS: dict[str, list[JsonObject]] = _ORDERS["orderItems"]
# Order id -> getOrderRegulatedInfo's payload, for orders with regulated items.
REGULATED_INFO: dict[str, JsonObject] = _ORDERS["regulatedInfo"]

MARKETPLACE_PARTICIPATIONS: list[JsonObject] = _load("sellers")["marketplaceParticipations"]
CATALOG_ITEMS: list[JsonObject] = _load("catalog")["items"]
DESTINATIONS: list[JsonObject] = _load("notifications")["destinations"]


def order_address(order_id: str) -> JsonObject:
    """The (full, PII) shipping address of one of ORDERS."""
    order = next(order for order in ORDERS if order["AmazonOrderId"] == order_id)
    address: JsonObject = order["ShippingAddress"]
    return address


# --- Reports API 2021-06-30 --------------------------------------------------------------------

_REPORTS = _load("reports")
REPORTS: list[JsonObject] = _REPORTS["reports"]


def _presigned_url(document: str) -> str:
    # Where Amazon would presign an S3 download URL (valid 5 minutes); nothing is listening there.
    return f"https://tortuga-prod-na.s3-external-1.amazonaws.com/%2FNinetyDays/{document}"


def _document_answer(document_id: str) -> JsonObject:
    url = _presigned_url(document_id.replace("spdoc", "tortuga"))
    answer = {"reportDocumentId": document_id, "url": url}
    # Amazon compresses large documents; one here, so clients meet the field.
    if compression := _REPORTS["compressedDocuments"].get(document_id):
        answer["compressionAlgorithm"] = compression
    return answer


# Report document id -> getReportDocument's answer.
REPORT_DOCUMENTS: dict[str, JsonObject] = {
    report["reportDocumentId"]: _document_answer(report["reportDocumentId"])
    for report in REPORTS
    if "reportDocumentId" in report
}

# The report types whose documents Amazon compresses here (GZIP): createReport's too.
COMPRESSED_REPORT_TYPES = frozenset(
    report["reportType"]
    for report in REPORTS
    if report.get("reportDocumentId") in _REPORTS["compressedDocuments"]
)

# Report document id -> the type of the report it belongs to (Amazon knows; the document's answer
# does not say it: a client learns it from getReport or getReports).
REPORT_TYPE_OF_DOCUMENT: dict[str, str] = {
    report["reportDocumentId"]: report["reportType"]
    for report in REPORTS
    if "reportDocumentId" in report
}


def _document_of(report_type: str) -> str:
    return next(
        document for document, of_type in REPORT_TYPE_OF_DOCUMENT.items() if of_type == report_type
    )


# Documents of restricted report types (PII: names, addresses) and of ordinary ones.
SHIPPING_ORDERS_DOCUMENT = _document_of("GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING")
ORDER_REPORT_DOCUMENT = _document_of("GET_ORDER_REPORT_DATA_SHIPPING")
FBA_INVOICING_DOCUMENT = _document_of("GET_AMAZON_FULFILLED_SHIPMENTS_DATA_INVOICING")
LISTINGS_DOCUMENT = _document_of("GET_MERCHANT_LISTINGS_ALL_DATA")
INVENTORY_DOCUMENT = _document_of("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA")

# --- Merchant Fulfillment v0 -------------------------------------------------------------------

_MFN = _load("merchant_fulfillment")


def mfn_address(address: JsonObject, email: str = "") -> JsonObject:
    """An Orders API address in Merchant Fulfillment's shape."""
    mfn = {
        "Name": address["Name"],
        "AddressLine1": address["AddressLine1"],
        "AddressLine2": address.get("AddressLine2", ""),
        "Email": email,
        "City": address["City"],
        "StateOrProvinceCode": address["StateOrRegion"],
        "PostalCode": address["PostalCode"],
        "CountryCode": address["CountryCode"],
        "Phone": address.get("Phone", ""),
    }
    return {name: value for name, value in mfn.items() if value or name in ("Email", "Phone")}


def mfn_shipment(
    shipment_id: str, order_id: str, order_item_id: str, tracking_id: str, created: str
) -> JsonObject:
    """A purchased shipment of one item of an order, its label printing the buyer's address."""
    ship_to = order_address(order_id)
    shipment: JsonObject = copy.deepcopy(_MFN["shipment"])
    shipment["ShipmentId"] = shipment_id
    shipment["AmazonOrderId"] = shipment["SellerOrderId"] = order_id
    shipment["ItemList"] = [{"OrderItemId": order_item_id, "Quantity": 1}]
    shipment["ShipToAddress"] = mfn_address(ship_to)
    shipment["ShippingService"]["ShipDate"] = created
    lines = address_lines(
        ship_to["Name"],
        ship_to["AddressLine1"],
        ship_to["City"],
        ship_to["StateOrRegion"],
        ship_to["PostalCode"],
    )
    shipment["Label"]["FileContents"]["Contents"] = zpl_label(lines, tracking_id)
    shipment["TrackingId"] = tracking_id
    shipment["CreatedDate"] = shipment["LastUpdatedDate"] = created
    return shipment


# Shipment id -> shipment; EmulatorState copies it, createShipment and cancelShipment change it.
MFN_SHIPMENTS: dict[str, JsonObject] = {
    seed["ShipmentId"]: mfn_shipment(
        seed["ShipmentId"],
        seed["AmazonOrderId"],
        seed["OrderItemId"],
        seed["TrackingId"],
        seed["CreatedDate"],
    )
    for seed in _MFN["shipments"]
}
# Not the id of the sandbox example's shipment (abcddcba-00c3-...): both answer, each its own.
MFN_SHIPMENT_ID = next(iter(MFN_SHIPMENTS))

# --- Shipping API v1 ---------------------------------------------------------------------------


def shipping_address(address: JsonObject, email: str = "") -> JsonObject:
    """An Orders API address in the Shipping API's shape."""
    shipping = {
        "name": address["Name"],
        "addressLine1": address["AddressLine1"],
        "addressLine2": address.get("AddressLine2", ""),
        "stateOrRegion": address["StateOrRegion"],
        "city": address["City"],
        "countryCode": address["CountryCode"],
        "postalCode": address["PostalCode"],
        "email": email,
        "phoneNumber": address.get("Phone", ""),
    }
    return {name: value for name, value in shipping.items() if value}


def _ship_to_the_buyer(shipment: JsonObject) -> JsonObject:
    """The shipment to the buyer of the order its clientReferenceId names."""
    order_id = shipment["clientReferenceId"]
    order = next(order for order in ORDERS if order["AmazonOrderId"] == order_id)
    email = order["BuyerInfo"]["BuyerEmail"]
    return {**shipment, "shipTo": shipping_address(order_address(order_id), email)}


# Shipment id -> getShipment's payload.
SHIPPING_SHIPMENTS: dict[str, JsonObject] = {
    shipment_id: _ship_to_the_buyer(shipment)
    for shipment_id, shipment in _load("shipping")["shipments"].items()
}

# --- Shipment Invoicing v0 (Brazil), Vendor Direct Fulfillment ---------------------------------

# Shipment id -> getShipmentDetails's payload.
SHIPMENT_DETAILS: dict[str, JsonObject] = _load("shipment_invoicing")["shipmentDetails"]
# Purchase orders as getOrder answers them (both versions), with the customer's address.
VENDOR_ORDERS: list[JsonObject] = _load("vendor_direct_fulfillment")["purchaseOrders"]
