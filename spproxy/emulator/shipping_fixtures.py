"""What the emulated account ships: Merchant Fulfillment and Shipping shipments, Brazilian shipment
details, Vendor Direct Fulfillment purchase orders, and the labels, packing slips and invoices
printed for them. All of it carries a buyer's name and address: restricted data.

Adapted from the sandbox examples (`x-amzn-api-sandbox`) and response examples in Amazon's Selling
Partner API models, https://github.com/amzn/selling-partner-api-models, Copyright Amazon.com, Inc.
or its affiliates, licensed under the Apache License, Version 2.0. Changes: dates moved to 2025,
the sandbox's addresses replaced by fictitious buyers (example.com addresses) or by the buyers of
the orders in fixtures.py, label and document contents replaced by small real ZPL and PDF
documents that print the buyer's address.
"""

from __future__ import annotations

import base64

from spproxy.emulator.fixtures import ORDERS, JsonObject

_SELLER_ADDRESS = {
    "Name": "MFNIntegrationTestMerchant",
    "AddressLine1": "2201 WESTLAKE AVE",
    "Email": "shipping@example.com",
    "City": "SEATTLE",
    "StateOrProvinceCode": "WA",
    "PostalCode": "98121-2778",
    "CountryCode": "US",
    "Phone": "+1 480-386-0930 ext. 73824",
}


def order_address(order_id: str) -> JsonObject:
    """The (full, PII) shipping address of one of fixtures.ORDERS."""
    order = next(order for order in ORDERS if order["AmazonOrderId"] == order_id)
    address: JsonObject = order["ShippingAddress"]
    return address


def address_lines(name: str, line1: str, city: str, region: str, postal: str) -> list[str]:
    return [name, line1, f"{city} {region} {postal}"]


def zpl_label(lines: list[str], tracking_id: str) -> str:
    """A 4x6 shipping label in ZPL (the text thermal printers read), base64 as Amazon sends it."""
    fields = "".join(
        f"^FO50,{60 + 40 * row}^A0N,32,32^FD{line}^FS" for row, line in enumerate(lines)
    )
    label = f"^XA^CI28{fields}^FO50,400^BCN,120,Y,N,N^FD{tracking_id}^FS^XZ"
    return base64.b64encode(label.encode()).decode()


def pdf_document(lines: list[str]) -> str:
    """A one-page PDF printing `lines`, base64 as Amazon sends packing slips and invoices."""
    text = " ".join(f"({_pdf_text(line)}) '" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td 16 TL {text} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    document = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(document)
    document += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    document += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    document += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return base64.b64encode(document).decode()


def _pdf_text(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


# --- Merchant Fulfillment v0 -------------------------------------------------------------------


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
    ship_to = order_address(order_id)
    return {
        "ShipmentId": shipment_id,
        "AmazonOrderId": order_id,
        "SellerOrderId": order_id,
        "Insurance": {"CurrencyCode": "USD", "Amount": 0.0},
        "ItemList": [{"OrderItemId": order_item_id, "Quantity": 1}],
        "ShipFromAddress": dict(_SELLER_ADDRESS),
        "ShipToAddress": mfn_address(ship_to),
        "PackageDimensions": {"Length": 10.25, "Width": 10.25, "Height": 10.25, "Unit": "inches"},
        "Weight": {"Value": 10.25, "Unit": "oz"},
        "ShippingService": {
            "ShippingServiceName": "UPS 2nd Day Air®",
            "CarrierName": "UPS®",
            "ShippingServiceId": "UPS_PTP_2ND_DAY_AIR",
            "ShippingServiceOfferId": "",
            "ShipDate": created,
            "Rate": {"CurrencyCode": "USD", "Amount": 34.73},
            "RateWithAdjustments": {"CurrencyCode": "USD", "Amount": 33.73},
            "ShippingServiceOptions": {
                "DeliveryExperience": "DeliveryConfirmationWithoutSignature",
                "CarrierWillPickUp": False,
                "DeclaredValue": {"CurrencyCode": "USD", "Amount": 0.0},
            },
            "RequiresAdditionalSellerInputs": False,
        },
        "Label": {
            "Dimensions": {"Length": 6.0, "Width": 4.0, "Unit": "inches"},
            "FileContents": {
                "Contents": zpl_label(
                    address_lines(
                        ship_to["Name"],
                        ship_to["AddressLine1"],
                        ship_to["City"],
                        ship_to["StateOrRegion"],
                        ship_to["PostalCode"],
                    ),
                    tracking_id,
                ),
                "FileType": "application/zpl",
                "Checksum": "9ALVyphCKfc3+Lb2ssyh8A==",
            },
            "LabelFormat": "ZPL203",
        },
        "Status": "Purchased",
        "TrackingId": tracking_id,
        "CreatedDate": created,
        "LastUpdatedDate": created,
    }


# Not the id of the sandbox example's shipment (abcddcba-00c3-...): both answer, each its own.
MFN_SHIPMENT_ID = "5f0e9c1a-2b7d-4e8a-9c3f-0d6b1a2e4f70"

# Shipment id -> shipment; EmulatorState copies it, createShipment and cancelShipment change it.
MFN_SHIPMENTS: dict[str, JsonObject] = {
    MFN_SHIPMENT_ID: mfn_shipment(
        MFN_SHIPMENT_ID,
        "902-1845936-5435065",
        "05015851154158",
        "1Z17E2100206868939",
        "2025-03-19T18:29:34Z",
    ),
}

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


SHIPPING_SHIPMENT_ID = "89108749065090"

# Shipment id -> getShipment's payload.
SHIPPING_SHIPMENTS: dict[str, JsonObject] = {
    SHIPPING_SHIPMENT_ID: {
        "shipmentId": SHIPPING_SHIPMENT_ID,
        "clientReferenceId": "902-8745147-1934268",
        "shipFrom": {
            "name": "BestSellerStore",
            "addressLine1": "2201 Westlake Ave",
            "stateOrRegion": "WA",
            "city": "Seattle",
            "countryCode": "US",
            "postalCode": "98121",
            "email": "shipping@example.com",
        },
        "shipTo": shipping_address(order_address("902-8745147-1934268"), "user@example.com"),
        "acceptedRate": {
            "billedWeight": {"value": 4, "unit": "kg"},
            "totalCharge": {"value": 3.5, "unit": "GBP"},
            "serviceType": "Amazon Shipping Standard",
            "promise": {
                "deliveryWindow": {
                    "start": "2025-04-05T20:22:30.737Z",
                    "end": "2025-04-06T20:22:30.737Z",
                },
                "receiveWindow": {
                    "start": "2025-04-03T09:22:30.737Z",
                    "end": "2025-04-03T11:22:30.737Z",
                },
            },
        },
        "shipper": {"accountId": "2755049166"},
        "containers": [
            {
                "containerReferenceId": "CRI123456789",
                "items": [
                    {
                        "title": "Example item name",
                        "unitWeight": {"value": 0.08164656, "unit": "kg"},
                        "quantity": 2,
                        "unitPrice": {"value": 14.99, "unit": "GBP"},
                    }
                ],
                "dimensions": {"height": 12.0, "length": 36.0, "width": 31.0, "unit": "CM"},
                "containerType": "PACKAGE",
                "weight": {"unit": "kg", "value": 4},
                "value": {"value": 29.98, "unit": "GBP"},
            }
        ],
    }
}

# --- Shipment Invoicing v0 (Brazil) ------------------------------------------------------------

BRAZIL = "A2Q3Y263D00KWC"
INVOICING_SHIPMENT_ID = "F4385943758"

# Shipment id -> getShipmentDetails's payload.
SHIPMENT_DETAILS: dict[str, JsonObject] = {
    INVOICING_SHIPMENT_ID: {
        "WarehouseId": "GRU5",
        "AmazonOrderId": "701-8425839-0803442",
        "AmazonShipmentId": INVOICING_SHIPMENT_ID,
        "PurchaseDate": "2025-04-07T17:36:47.470Z",
        "ShippingAddress": {
            "Name": "Maria Souza",
            "AddressLine1": "Rua Exemplo 100",
            "AddressLine2": "Apto 42",
            "City": "Sao Paulo",
            "County": "Pinheiros",
            "StateOrRegion": "SP",
            "PostalCode": "05422-000",
            "CountryCode": "BR",
            "Phone": "+55 11 5555-0123",
            "AddressType": "Residential",
        },
        "PaymentMethodDetails": ["CreditCard"],
        "Payments": [
            {
                "PaymentMethod": "CreditCard",
                "AcquirerId": "XX.XXX.XXX/0001-ZZ",
                "CardBrand": "Visa",
                "PaymentValue": {"CurrencyCode": "BRL", "Amount": "100"},
                "AuthorizationCode": "123456",
            }
        ],
        "MarketplaceId": BRAZIL,
        "SellerId": "A2SPPROXYDEMO1",
        "BuyerName": "Maria Souza",
        "BuyerCounty": "Pinheiros",
        "BuyerTaxInfo": {
            "CompanyLegalName": "Maria Souza",
            "TaxingRegion": "SP",
            "TaxClassifications": [{"Name": "CPF", "Value": "12345678909"}],
        },
        "MarketplaceTaxInfo": {
            "CompanyLegalName": "Seller Legal Company Name",
            "TaxingRegion": "SP",
            "TaxClassifications": [{"Name": "CNPJ", "Value": "15436940000103"}],
        },
        "SellerDisplayName": "BestSellerStore",
        "ShipmentItems": [
            {
                "ASIN": "BKUO9348543",
                "SellerSKU": "BKUO9348543SKU",
                "OrderItemId": "23423424",
                "Title": "Pencil",
                "QuantityOrdered": 1,
                "ItemPrice": {"CurrencyCode": "BRL", "Amount": "100"},
                "ShippingPrice": {"CurrencyCode": "BRL", "Amount": "20"},
                "GiftWrapPrice": {"CurrencyCode": "BRL", "Amount": "1"},
                "ShippingDiscount": {"CurrencyCode": "BRL", "Amount": "10"},
                "PromotionDiscount": {"CurrencyCode": "BRL", "Amount": "10"},
                "SerialNumbers": ["23424", "23423"],
            }
        ],
    }
}

# --- Vendor Direct Fulfillment (orders and shipping, v1 and 2021-12-28) -------------------------


def _vendor_order(
    purchase_order_number: str, order_date: str, customer: JsonObject, status: str
) -> JsonObject:
    return {
        "purchaseOrderNumber": purchase_order_number,
        "orderDetails": {
            "customerOrderNumber": f"{purchase_order_number}-C",
            "orderDate": order_date,
            "orderStatus": status,
            "shipmentDetails": {
                "isPriorityShipment": False,
                "isScheduledDeliveryShipment": False,
                "isPslipRequired": True,
                "isGift": False,
                "shipMethod": "UPS_2ND",
                "shipmentDates": {
                    "requiredShipDate": order_date[:10] + "T23:59:59Z",
                    "promisedDeliveryDate": order_date[:8] + "28T00:00:00Z",
                },
                "messageToCustomer": (
                    "This shipment completes your order. Thank you for shopping at Amazon.com."
                ),
            },
            "taxTotal": {
                "taxLineItem": [
                    {
                        "taxRate": "0.1",
                        "taxAmount": {"currencyCode": "USD", "amount": "50"},
                        "type": "TOTAL",
                    }
                ]
            },
            "sellingParty": {"partyId": "999US"},
            "shipFromParty": {"partyId": "ABCD"},
            "shipToParty": customer,
            "billToParty": {"partyId": "ABCD"},
            "items": [
                {
                    "itemSequenceNumber": "00001",
                    "buyerProductIdentifier": "B07DFVDRAB",
                    "vendorProductIdentifier": "8806098286500",
                    "title": "LG 8 kg Inverter Wi-Fi Fully-Automatic Front Loading Washing Machine",
                    "orderedQuantity": {"amount": 1, "unitOfMeasure": "EACH"},
                    "netPrice": {"currencyCode": "USD", "amount": "500"},
                    "taxDetails": {
                        "taxLineItem": [
                            {
                                "taxRate": "0.1",
                                "taxAmount": {"currencyCode": "USD", "amount": "50"},
                                "type": "TOTAL",
                            }
                        ]
                    },
                }
            ],
        },
    }


VENDOR_ORDERS: list[JsonObject] = [
    _vendor_order(
        "2JK3S9VC",
        "2025-02-20T13:51:00Z",
        {
            "name": "Alex Morgan",
            "attention": "Alex Morgan",
            "addressLine1": "123 Sample Street",
            "addressLine2": "Apt 5",
            "city": "San Jose",
            "stateOrRegion": "CA",
            "postalCode": "94086",
            "countryCode": "US",
            "phone": "+1 408-555-0163",
        },
        "NEW",
    ),
    _vendor_order(
        "8UJ2VC4T",
        "2025-02-22T09:12:00Z",
        {
            "name": "Sam Lee",
            "addressLine1": "77 Example Blvd",
            "city": "Austin",
            "stateOrRegion": "TX",
            "postalCode": "78701",
            "countryCode": "US",
            "phone": "+1 512-555-0148",
        },
        "SHIPPED",
    ),
]


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
