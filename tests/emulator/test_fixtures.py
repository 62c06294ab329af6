"""The emulated seller's data: every data file loaded, and what is computed from it consistent."""

from __future__ import annotations

import base64
import json
from importlib import resources
from typing import Any

from spproxy.emulator import fixtures
from spproxy.emulator.fixtures import (
    INVENTORY_DOCUMENT,
    MFN_SHIPMENT_ID,
    MFN_SHIPMENTS,
    ORDERS,
    REPORT_DOCUMENTS,
    REPORT_TYPE_OF_DOCUMENT,
    REPORTS,
    SHIPPING_SHIPMENTS,
    order_address,
)

DATA = resources.files("spproxy.emulator").joinpath("data")


def _nulls(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_nulls(inner) for inner in value.values())
    if isinstance(value, list):
        return sum(_nulls(inner) for inner in value)
    return value is None


def test_every_data_file_is_a_json_object_the_loader_reads() -> None:
    names = sorted(entry.name for entry in DATA.iterdir() if entry.name.endswith(".json"))
    assert len(names) == 9
    source = resources.files("spproxy.emulator").joinpath("fixtures.py").read_text()
    for name in names:
        assert isinstance(json.loads(DATA.joinpath(name).read_text("utf-8")), dict)
        assert f'_load("{name.removesuffix(".json")}")' in source, name


def test_shipments_have_every_null_filled_in() -> None:
    assert _nulls(MFN_SHIPMENTS) == 0 and _nulls(SHIPPING_SHIPMENTS) == 0


def test_the_seed_shipment_is_labelled_for_its_orders_buyer() -> None:
    shipment = MFN_SHIPMENTS[MFN_SHIPMENT_ID]
    address = order_address(shipment["AmazonOrderId"])
    assert shipment["ShipToAddress"]["Name"] == address["Name"]
    label = base64.b64decode(shipment["Label"]["FileContents"]["Contents"]).decode()
    assert address["Name"] in label and shipment["TrackingId"] in label
    assert shipment["CreatedDate"] == shipment["ShippingService"]["ShipDate"]
    # a fresh one each time: createShipment changes what it gets
    again = fixtures.mfn_shipment(MFN_SHIPMENT_ID, shipment["AmazonOrderId"], "1", "T", "now")
    assert again["ShipFromAddress"] is not shipment["ShipFromAddress"]


def test_a_shipping_shipment_goes_to_the_buyer_of_its_order() -> None:
    for shipment in SHIPPING_SHIPMENTS.values():
        order = next(o for o in ORDERS if o["AmazonOrderId"] == shipment["clientReferenceId"])
        assert shipment["shipTo"]["name"] == order["ShippingAddress"]["Name"]
        assert shipment["shipTo"]["email"] == order["BuyerInfo"]["BuyerEmail"]


def test_report_documents_answer_a_presigned_url_for_every_documented_report() -> None:
    documented = [report for report in REPORTS if "reportDocumentId" in report]
    assert set(REPORT_DOCUMENTS) == {report["reportDocumentId"] for report in documented}
    for report in documented:
        assert REPORT_TYPE_OF_DOCUMENT[report["reportDocumentId"]] == report["reportType"]
    for document_id, answer in REPORT_DOCUMENTS.items():
        assert answer["url"].startswith("https://tortuga-prod-na.s3-external-1.amazonaws.com/")
        assert ("compressionAlgorithm" in answer) == (document_id == INVENTORY_DOCUMENT)
