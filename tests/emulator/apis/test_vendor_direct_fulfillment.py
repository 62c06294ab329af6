"""Vendor Direct Fulfillment: purchase orders in both versions, and their real ZPL and PDF
documents."""

from __future__ import annotations

import base64
import re

from tests.emulator.conftest import Client, bearer, error_of, mint, resource

TOKENS = "/tokens/2021-03-01/restrictedDataToken"
VDF_WINDOW = {"createdAfter": "2025-01-01T00:00:00Z", "createdBefore": "2025-12-31T00:00:00Z"}


async def test_vendor_orders_versions_and_query(amazon: Client) -> None:
    rdt = await mint(
        amazon,
        resource("GET", "/vendor/directFulfillment/orders/v1/purchaseOrders"),
        resource("GET", "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"),
    )
    v1 = await amazon.get(
        "/vendor/directFulfillment/orders/v1/purchaseOrders", params=VDF_WINDOW, headers=bearer(rdt)
    )
    assert [o["purchaseOrderNumber"] for o in (await v1.json())["payload"]["orders"]] == [
        "2JK3S9VC",
        "8UJ2VC4T",
    ]
    newer = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"
    brief = await amazon.get(
        newer,
        params={**VDF_WINDOW, "includeDetails": "false", "sortOrder": "DESC", "limit": "1"},
        headers=bearer(rdt),
    )
    page = await brief.json()
    assert page["orders"] == [{"purchaseOrderNumber": "8UJ2VC4T"}]
    second = await amazon.get(
        newer, params={"nextToken": page["pagination"]["nextToken"]}, headers=bearer(rdt)
    )
    assert await second.json() == {"orders": [{"purchaseOrderNumber": "2JK3S9VC"}]}
    shipped = await amazon.get(
        newer, params={**VDF_WINDOW, "status": "SHIPPED"}, headers=bearer(rdt)
    )
    assert len((await shipped.json())["orders"]) == 1
    for params in ({"createdAfter": "2025-01-01T00:00:00Z"}, {**VDF_WINDOW, "limit": "0"}):
        refused = await amazon.get(newer, params=params, headers=bearer(rdt))
        assert (await error_of(refused, 400))["code"] == "InvalidInput"


async def test_vendor_documents_are_real_zpl_and_pdf(amazon: Client) -> None:
    shipping = "/vendor/directFulfillment/shipping/2021-12-28"
    rdt = await mint(
        amazon,
        resource("GET", f"{shipping}/shippingLabels/{{purchaseOrderNumber}}"),
        resource("GET", f"{shipping}/packingSlips/{{purchaseOrderNumber}}"),
    )
    label = await (
        await amazon.get(f"{shipping}/shippingLabels/2JK3S9VC", headers=bearer(rdt))
    ).json()
    zpl = base64.b64decode(label["labelData"][0]["content"]).decode()
    assert label["labelFormat"] == "ZPL"
    assert zpl.startswith("^XA") and zpl.endswith("^XZ") and "^FDAlex Morgan^FS" in zpl
    slip = await (await amazon.get(f"{shipping}/packingSlips/2JK3S9VC", headers=bearer(rdt))).json()
    pdf = base64.b64decode(slip["content"])
    assert slip["contentType"] == "application/pdf"
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert b"(Alex Morgan) '" in pdf
    startxref = int(re.findall(rb"startxref\n(\d+)", pdf)[0])
    assert pdf[startxref:].startswith(b"xref")
