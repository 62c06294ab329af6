"""What the emulated seller's account holds: marketplaces, orders and their items, catalog
items, destinations, reports.

Adapted from the sandbox examples (`x-amzn-api-sandbox`) and response examples in Amazon's Selling
Partner API models, https://github.com/amzn/selling-partner-api-models, Copyright Amazon.com, Inc.
or its affiliates, licensed under the Apache License, Version 2.0. Changes: sandbox dates (1970,
2013, 2024) moved to 2025, buyer details added to orders and items (fictitious; example.com
addresses), a Turkish business order added, a variation parent added to the catalog, reports
and their documents made up in the shape of the Reports API 2021-06-30. Where an id is also in a
sandbox example (the TV's ASIN, order 902-3159896-1390916's regulated information), the data is
the example's, so the emulator's answer and Amazon's published one agree (sandbox.py).

Orders are stored WITH buyer PII, as Amazon stores them; what a caller may see of it is decided
when they are served (apis/orders.py).
"""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]

US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"
TR = "A33AVAJ2PDY3EV"

MARKETPLACE_PARTICIPATIONS: list[JsonObject] = [
    {
        "marketplace": {
            "id": US,
            "countryCode": "US",
            "name": "Amazon.com",
            "defaultCurrencyCode": "USD",
            "defaultLanguageCode": "en_US",
            "domainName": "www.amazon.com",
        },
        "storeName": "BestSellerStore",
        "participation": {"isParticipating": True, "hasSuspendedListings": False},
    }
]

_SHIP_FROM = {
    "Name": "MFNIntegrationTestMerchant",
    "AddressLine1": "2201 WESTLAKE AVE",
    "City": "SEATTLE",
    "StateOrRegion": "WA",
    "PostalCode": "98121-2778",
    "CountryCode": "US",
    "Phone": "+1 480-386-0930 ext. 73824",
    "AddressType": "Commercial",
}

_FLAGS = {
    "IsBusinessOrder": False,
    "IsPrime": False,
    "IsAccessPointOrder": False,
    "IsGlobalExpressEnabled": False,
    "IsPremiumOrder": False,
    "IsSoldByAB": False,
    "IsIBA": False,
    "IsISPU": False,
    "IsReplacementOrder": False,
}

ORDERS: list[JsonObject] = [
    {
        "AmazonOrderId": "902-1845936-5435065",
        "PurchaseDate": "2025-03-19T03:58:30Z",
        "LastUpdateDate": "2025-03-19T03:58:32Z",
        "OrderStatus": "Unshipped",
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com",
        "ShipServiceLevel": "Std US D2D Dom",
        "OrderTotal": {"CurrencyCode": "USD", "Amount": "11.01"},
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 1,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": US,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": "2025-03-19T07:00:00Z",
        "LatestShipDate": "2025-03-21T06:59:59Z",
        "EarliestDeliveryDate": "2025-03-24T07:00:00Z",
        "LatestDeliveryDate": "2025-03-27T06:59:59Z",
        **_FLAGS,
        "DefaultShipFromLocationAddress": _SHIP_FROM,
        "FulfillmentInstruction": {"FulfillmentSupplySourceId": "sampleSupplySourceId"},
        "AutomatedShippingSettings": {"HasAutomatedShippingSettings": False},
        "EasyShipShipmentStatus": "PendingPickUp",
        "ElectronicInvoiceStatus": "NotRequired",
        "BuyerInfo": {
            "BuyerEmail": "fzyrv6gwkhbb15c@example.com",
            "BuyerName": "Jordan Rivera",
        },
        "ShippingAddress": {
            "Name": "Jordan Rivera",
            "AddressLine1": "410 Terry Ave N",
            "City": "SEATTLE",
            "StateOrRegion": "WA",
            "PostalCode": "98109-5210",
            "CountryCode": "US",
            "Phone": "+1 206-555-0142",
            "AddressType": "Residential",
        },
    },
    {
        "AmazonOrderId": "902-8745147-1934268",
        "PurchaseDate": "2025-04-02T16:12:05Z",
        "LastUpdateDate": "2025-04-03T09:40:11Z",
        "OrderStatus": "Shipped",
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com",
        "ShipServiceLevel": "Std US D2D Dom",
        "OrderTotal": {"CurrencyCode": "USD", "Amount": "23.98"},
        "NumberOfItemsShipped": 2,
        "NumberOfItemsUnshipped": 0,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": US,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": "2025-04-02T07:00:00Z",
        "LatestShipDate": "2025-04-04T06:59:59Z",
        **_FLAGS,
        "IsPrime": True,
        "DefaultShipFromLocationAddress": _SHIP_FROM,
        "EasyShipShipmentStatus": "Delivered",
        "ElectronicInvoiceStatus": "NotRequired",
        "BuyerInfo": {
            "BuyerEmail": "user@example.com",
            "BuyerName": "John Doe",
            "BuyerTaxInfo": {"CompanyLegalName": "A Company Name"},
            "PurchaseOrderNumber": "1234567890123",
        },
        "ShippingAddress": {
            "Name": "John Doe",
            "CompanyName": "A Company Name",
            "AddressLine1": "1600 Broadway",
            "AddressLine2": "Suite 400",
            "City": "DENVER",
            "StateOrRegion": "CO",
            "PostalCode": "80202-4902",
            "CountryCode": "US",
            "Phone": "+1 303-555-0187",
            "AddressType": "Commercial",
        },
    },
    {
        # Pending orders carry no buyer details yet, at Amazon as here.
        "AmazonOrderId": "902-3159896-1390916",
        "PurchaseDate": "2025-05-20T19:49:35Z",
        "LastUpdateDate": "2025-05-20T19:49:35Z",
        "OrderStatus": "Pending",
        "FulfillmentChannel": "MFN",
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 0,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["CreditCard", "GiftCertificate"],
        "MarketplaceId": US,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EasyShipShipmentStatus": "PendingPickUp",
        "ElectronicInvoiceStatus": "NotRequired",
        "EarliestShipDate": "2025-05-20T19:51:16Z",
        "LatestShipDate": "2025-05-25T19:49:35Z",
        **_FLAGS,
        "HasRegulatedItems": True,
    },
    {
        "AmazonOrderId": "921-3175655-0452641",
        "PurchaseDate": "2025-05-07T15:42:57.058Z",
        "LastUpdateDate": "2025-05-08T21:59:59Z",
        "OrderStatus": "Shipped",
        "FulfillmentChannel": "AFN",
        "SalesChannel": "Amazon.de",
        "ShipServiceLevel": "Standard",
        "OrderTotal": {"CurrencyCode": "EUR", "Amount": "100.00"},
        "NumberOfItemsShipped": 1,
        "NumberOfItemsUnshipped": 0,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Invoice"],
        "MarketplaceId": DE,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": "2025-05-07T22:00:00Z",
        "LatestShipDate": "2025-05-08T21:59:59Z",
        "EarliestDeliveryDate": "2025-05-10T21:59:59Z",
        "LatestDeliveryDate": "2025-05-12T21:59:59Z",
        **_FLAGS,
        "IsBusinessOrder": True,
        "IsSoldByAB": True,
        "IsIBA": True,
        "EasyShipShipmentStatus": "Delivered",
        "ElectronicInvoiceStatus": "NotRequired",
        "BuyerInfo": {
            "BuyerEmail": "einkauf@example.com",
            "BuyerName": "Erika Mustermann",
            "BuyerTaxInfo": {"CompanyLegalName": "Musterfirma GmbH"},
        },
        "ShippingAddress": {
            "Name": "Erika Mustermann",
            "CompanyName": "Musterfirma GmbH",
            "AddressLine1": "Heidestrasse 17",
            "City": "Koeln",
            "StateOrRegion": "NRW",
            "PostalCode": "51147",
            "CountryCode": "DE",
            "Phone": "+49 221 5550123",
            "AddressType": "Commercial",
        },
    },
    {
        # A business order in Turkey: the one kind of order with BuyerTaxInformation, which only
        # an RDT with the buyerTaxInformation data element releases.
        "AmazonOrderId": "406-2947718-7043522",
        "PurchaseDate": "2025-06-02T08:14:51Z",
        "LastUpdateDate": "2025-06-02T11:02:17Z",
        "OrderStatus": "Unshipped",
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com.tr",
        "ShipServiceLevel": "Std TR Dom",
        "OrderTotal": {"CurrencyCode": "TRY", "Amount": "1250.00"},
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 1,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": TR,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": "2025-06-02T21:00:00Z",
        "LatestShipDate": "2025-06-04T20:59:59Z",
        **_FLAGS,
        "IsBusinessOrder": True,
        "ElectronicInvoiceStatus": "NotFound",
        "BuyerInvoicePreference": "BUSINESS",
        "BuyerTaxInformation": {
            "BuyerLegalCompanyName": "Ornek Ticaret A.S.",
            "BuyerBusinessAddress": "Bagdat Cad. No 12, Kadikoy, Istanbul",
            "BuyerTaxRegistrationId": "1234567890",
            "BuyerTaxOffice": "Kadikoy",
        },
        "BuyerInfo": {"BuyerEmail": "satinalma@example.com", "BuyerName": "Ayse Yilmaz"},
        "ShippingAddress": {
            "Name": "Ayse Yilmaz",
            "CompanyName": "Ornek Ticaret A.S.",
            "AddressLine1": "Bagdat Cad. No 12",
            "City": "Istanbul",
            "StateOrRegion": "Istanbul",
            "PostalCode": "34710",
            "CountryCode": "TR",
            "Phone": "+90 216 555 0199",
            "AddressType": "Commercial",
        },
    },
]


def _money(currency: str, amount: str) -> JsonObject:
    return {"CurrencyCode": currency, "Amount": amount}


_CUSTOMIZED_URL = (
    "https://zme-caps.amazon.com/t/bR6qHkzSOxuB/J8nbWhze0Bd3DkajkOdY-XQbWkFralegp2sr_QZiKEE/1"
)

# Order id -> its items, stored WITH the buyer's item-level PII (BuyerInfo: gift messages, custom
# orders), which only an RDT with the buyerInfo data element releases.
ORDER_ITEMS: dict[str, list[JsonObject]] = {
    "902-1845936-5435065": [
        {
            "ASIN": "B00551Q3CS",
            "OrderItemId": "05015851154158",
            "SellerSKU": "NABetaASINB00551Q3CS",
            "Title": "B00551Q3CS [Card Book]",
            "QuantityOrdered": 1,
            "QuantityShipped": 0,
            "ProductInfo": {"NumberOfItems": "1"},
            "ItemPrice": _money("USD", "10.00"),
            "ItemTax": _money("USD", "1.01"),
            "PromotionDiscount": _money("USD", "0.00"),
            "IsGift": "true",
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "IsTransparency": False,
            "SerialNumberRequired": False,
            "BuyerRequestedCancel": {"IsBuyerRequestedCancel": "false", "BuyerCancelReason": ""},
            "BuyerInfo": {
                "GiftMessageText": "Happy birthday, Sam! Love, Jordan",
                "GiftWrapPrice": _money("USD", "1.99"),
                "GiftWrapLevel": "Classic",
            },
        }
    ],
    "902-8745147-1934268": [
        {
            "ASIN": "BT0093TELA",
            "OrderItemId": "68828574383266",
            "SellerSKU": "CBA_OTF_1",
            "Title": "Example item name",
            "QuantityOrdered": 1,
            "QuantityShipped": 1,
            "ItemPrice": _money("USD", "12.99"),
            "ShippingPrice": _money("USD", "0.00"),
            "IsGift": "false",
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "PriceDesignation": "BusinessPrice",
            "SerialNumbers": ["854"],
            "BuyerInfo": {"BuyerCustomizedInfo": {"CustomizedURL": _CUSTOMIZED_URL}},
        },
        {
            "ASIN": "BCTU1104UEFB",
            "OrderItemId": "79039765272157",
            "SellerSKU": "CBA_OTF_5",
            "Title": "Example item name",
            "QuantityOrdered": 1,
            "QuantityShipped": 1,
            "ItemPrice": _money("USD", "10.99"),
            "PromotionIds": ["FREESHIP"],
            "IsGift": "false",
            "ConditionId": "Used",
            "ConditionSubtypeId": "Mint",
            "ConditionNote": "Example ConditionNote",
            "PriceDesignation": "BusinessPrice",
        },
    ],
    "902-3159896-1390916": [
        {
            "ASIN": "B0REGULATED",
            "OrderItemId": "43298519326874",
            "SellerSKU": "PET-RX-10",
            "Title": "Example prescription pet medicine",
            "QuantityOrdered": 1,
            "QuantityShipped": 0,
            "IsGift": "false",
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
        }
    ],
    "921-3175655-0452641": [
        {
            "ASIN": "B07N4M94X4",
            "OrderItemId": "31841930476350",
            "SellerSKU": "SAMSUNG-QN82",
            "Title": "Samsung QN82Q60RAFXZA Flat 82-Inch QLED 4K Q60 Series Ultra HD Smart TV",
            "QuantityOrdered": 1,
            "QuantityShipped": 1,
            "ItemPrice": _money("EUR", "100.00"),
            "IsGift": "false",
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "IossNumber": "",
            "DeemedResellerCategory": "IOSS",
        }
    ],
    "406-2947718-7043522": [
        {
            "ASIN": "B0TRBUSINE",
            "OrderItemId": "52730195841163",
            "SellerSKU": "OFFICE-CHAIR-TR",
            "Title": "Example office chair",
            "QuantityOrdered": 1,
            "QuantityShipped": 0,
            "ItemPrice": _money("TRY", "1250.00"),
            "IsGift": "true",
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "BuyerInfo": {
                "GiftMessageText": "Yeni ofisiniz hayirli olsun!",
                "GiftWrapPrice": _money("TRY", "49.90"),
                "GiftWrapLevel": "Premium",
            },
        }
    ],
}

# Order id -> getOrderRegulatedInfo's payload, for orders with regulated items.
REGULATED_INFO: dict[str, JsonObject] = {
    "902-3159896-1390916": {
        "AmazonOrderId": "902-3159896-1390916",
        "RequiresDosageLabel": False,
        "RegulatedInformation": {
            "Fields": [
                {
                    "FieldId": "pet_prescription_name",
                    "FieldLabel": "Name",
                    "FieldType": "Text",
                    "FieldValue": "Ruffus",
                },
                {
                    "FieldId": "pet_prescription_species",
                    "FieldLabel": "Species",
                    "FieldType": "Text",
                    "FieldValue": "Dog",
                },
            ]
        },
        "RegulatedOrderVerificationStatus": {
            "Status": "Pending",
            "RequiresMerchantAction": True,
            "ValidRejectionReasons": [
                {
                    "RejectionReasonId": "shield_pom_vps_reject_product",
                    "RejectionReasonDescription": "This medicine is not suitable for your pet.",
                },
                {
                    "RejectionReasonId": "shield_pom_vps_reject_age",
                    "RejectionReasonDescription": "Your pet is too young for this medicine.",
                },
                {
                    "RejectionReasonId": "shield_pom_vps_reject_incorrect_weight",
                    "RejectionReasonDescription": "Your pet's weight does not match ordered size.",
                },
            ],
        },
    }
}

SAMSUNG_TV: JsonObject = {
    "asin": "B07N4M94X4",
    "classifications": [
        {
            "marketplaceId": "ATVPDKIKX0DER",
            "classifications": [
                {
                    "displayName": "QLED TVs",
                    "classificationId": "21489946011",
                    "parent": {
                        "displayName": "Televisions",
                        "classificationId": "172659",
                        "parent": {
                            "displayName": "Television & Video",
                            "classificationId": "1266092011",
                            "parent": {"displayName": "Electronics", "classificationId": "172282"},
                        },
                    },
                }
            ],
        }
    ],
    "dimensions": [
        {
            "marketplaceId": "ATVPDKIKX0DER",
            "item": {
                "height": {"unit": "inches", "value": 41.4},
                "length": {"unit": "inches", "value": 2.4},
                "weight": {"unit": "pounds", "value": 107.6},
                "width": {"unit": "inches", "value": 72.4},
            },
            "package": {
                "height": {"unit": "inches", "value": 10.49999998929},
                "length": {"unit": "inches", "value": 79.9999999184},
                "weight": {"unit": "kilograms", "value": 62.142},
                "width": {"unit": "inches", "value": 47.99999995104},
            },
        }
    ],
    "identifiers": [
        {
            "marketplaceId": "ATVPDKIKX0DER",
            "identifiers": [
                {"identifier": "0887276302195", "identifierType": "EAN"},
                {"identifier": "00887276302195", "identifierType": "GTIN"},
                {"identifier": "887276302195", "identifierType": "UPC"},
            ],
        }
    ],
    "images": [
        {
            "marketplaceId": "ATVPDKIKX0DER",
            "images": [
                {
                    "variant": "MAIN",
                    "link": "https://m.media-amazon.com/images/I/91uohwV+k3L.jpg",
                    "height": 1707,
                    "width": 2560,
                },
                {
                    "variant": "MAIN",
                    "link": "https://m.media-amazon.com/images/I/51DZzp3w3vL.jpg",
                    "height": 333,
                    "width": 500,
                },
                {
                    "variant": "PT01",
                    "link": "https://m.media-amazon.com/images/I/81w2rTVShlL.jpg",
                    "height": 2560,
                    "width": 2560,
                },
                {
                    "variant": "PT01",
                    "link": "https://m.media-amazon.com/images/I/41Px9eq9tkL.jpg",
                    "height": 500,
                    "width": 500,
                },
                {
                    "variant": "PT02",
                    "link": "https://m.media-amazon.com/images/I/51NTNhdhPyL.jpg",
                    "height": 375,
                    "width": 500,
                },
                {
                    "variant": "PT03",
                    "link": "https://m.media-amazon.com/images/I/51o4zpL+A3L.jpg",
                    "height": 375,
                    "width": 500,
                },
                {
                    "variant": "PT04",
                    "link": "https://m.media-amazon.com/images/I/71ux2k9GAZL.jpg",
                    "height": 1000,
                    "width": 1000,
                },
                {
                    "variant": "PT04",
                    "link": "https://m.media-amazon.com/images/I/61UUX63yw1L.jpg",
                    "height": 500,
                    "width": 500,
                },
                {
                    "variant": "PT05",
                    "link": "https://m.media-amazon.com/images/I/61LwHkljX-L.jpg",
                    "height": 1000,
                    "width": 1000,
                },
                {
                    "variant": "PT05",
                    "link": "https://m.media-amazon.com/images/I/51wJTQty3PL.jpg",
                    "height": 500,
                    "width": 500,
                },
                {
                    "variant": "PT06",
                    "link": "https://m.media-amazon.com/images/I/61uvoB4VvoL.jpg",
                    "height": 1000,
                    "width": 1000,
                },
                {
                    "variant": "PT06",
                    "link": "https://m.media-amazon.com/images/I/51ZexIO628L.jpg",
                    "height": 500,
                    "width": 500,
                },
                {
                    "variant": "PT07",
                    "link": "https://m.media-amazon.com/images/I/7121MGd2ncL.jpg",
                    "height": 1000,
                    "width": 1000,
                },
                {
                    "variant": "PT07",
                    "link": "https://m.media-amazon.com/images/I/61QK+JBMrGL.jpg",
                    "height": 500,
                    "width": 500,
                },
                {
                    "variant": "PT08",
                    "link": "https://m.media-amazon.com/images/I/61ECcGlG4IL.jpg",
                    "height": 1080,
                    "width": 1920,
                },
                {
                    "variant": "PT08",
                    "link": "https://m.media-amazon.com/images/I/31TxwfqvB5L.jpg",
                    "height": 281,
                    "width": 500,
                },
            ],
        }
    ],
    "productTypes": [{"marketplaceId": "ATVPDKIKX0DER", "productType": "TELEVISION"}],
    "salesRanks": [
        {
            "marketplaceId": "ATVPDKIKX0DER",
            "classificationRanks": [
                {
                    "classificationId": "21489946011",
                    "title": "QLED TVs",
                    "link": "http://www.amazon.com/gp/bestsellers/electronics/21489946011",
                    "rank": 113,
                }
            ],
            "displayGroupRanks": [
                {
                    "websiteDisplayGroup": "ce_display_on_website",
                    "title": "Electronics",
                    "link": "http://www.amazon.com/gp/bestsellers/electronics",
                    "rank": 72855,
                }
            ],
        }
    ],
    "summaries": [
        {
            "marketplaceId": "ATVPDKIKX0DER",
            "brand": "SAMSUNG",
            "browseClassification": {"displayName": "QLED TVs", "classificationId": "21489946011"},
            "color": "Black",
            "itemClassification": "BASE_PRODUCT",
            "itemName": (
                "Samsung QN82Q60RAFXZA Flat 82-Inch QLED 4K Q60 Series (2019) Ultra HD Smart TV"
                " with HDR and Alexa Compatibility"
            ),
            "manufacturer": "Samsung",
            "modelNumber": "QN82Q60RAFXZA",
            "packageQuantity": 1,
            "partNumber": "QN82Q60RAFXZA",
            "size": "82-Inch",
            "style": "TV only",
            "websiteDisplayGroup": "home_theater_display_on_website",
            "websiteDisplayGroupName": "Home Theater",
        }
    ],
    "relationships": [
        {
            "marketplaceId": "ATVPDKIKX0DER",
            "relationships": [
                {
                    "type": "VARIATION",
                    "parentAsins": ["B08J7TQ9FL"],
                    "variationTheme": {
                        "attributes": ["color", "size"],
                        "theme": "SIZE_NAME/COLOR_NAME",
                    },
                }
            ],
        }
    ],
    "vendorDetails": [
        {
            "marketplaceId": "ATVPDKIKX0DER",
            "brandCode": "SAMF9",
            "manufacturerCode": "SAMF9",
            "manufacturerCodeParent": "SAMF9",
            "productCategory": {"displayName": "Televisions", "value": "50400100"},
            "productGroup": "Home Entertainment",
            "productSubcategory": {"displayName": "Plasma TVs", "value": "50400120"},
            "replenishmentCategory": "OBSOLETE",
        }
    ],
}

# The variation parent SAMSUNG_TV names in its relationships.
SAMSUNG_TV_FAMILY: JsonObject = {
    "asin": "B08J7TQ9FL",
    "productTypes": [{"marketplaceId": US, "productType": "TELEVISION"}],
    "relationships": [
        {
            "marketplaceId": US,
            "relationships": [
                {
                    "type": "VARIATION",
                    "childAsins": ["B07N4M94X4"],
                    "variationTheme": {
                        "attributes": ["color", "size"],
                        "theme": "SIZE_NAME/COLOR_NAME",
                    },
                }
            ],
        }
    ],
    "summaries": [
        {
            "marketplaceId": US,
            "brand": "SAMSUNG",
            "browseClassification": {"displayName": "QLED TVs", "classificationId": "21489946011"},
            "itemClassification": "VARIATION_PARENT",
            "itemName": "Samsung Q60R Series QLED 4K Ultra HD Smart TV",
            "manufacturer": "Samsung",
            "websiteDisplayGroup": "home_theater_display_on_website",
            "websiteDisplayGroupName": "Home Theater",
        }
    ],
}

CATALOG_ITEMS: list[JsonObject] = [SAMSUNG_TV, SAMSUNG_TV_FAMILY]

DESTINATIONS: list[JsonObject] = [
    {
        "destinationId": "TEST_CASE_200",
        "resource": {"sqs": {"arn": "arn:aws:sqs:us-east-2:444455556666:queue1"}},
        "name": "SQSDestination",
    }
]


def _presigned_url(document: str) -> str:
    # Where Amazon would presign an S3 download URL (valid 5 minutes); nothing is listening there.
    return f"https://tortuga-prod-na.s3-external-1.amazonaws.com/%2FNinetyDays/{document}"


def _report(report_id: str, report_type: str, created: str, document_id: str | None) -> JsonObject:
    """A report as getReport answers: DONE with its document, else still IN_PROGRESS."""
    report: JsonObject = {
        "reportId": report_id,
        "reportType": report_type,
        "marketplaceIds": [US],
        "dataStartTime": "2025-05-01T00:00:00Z",
        "dataEndTime": "2025-05-31T23:59:59Z",
        "createdTime": created,
        "processingStatus": "DONE" if document_id else "IN_PROGRESS",
        "processingStartTime": created,
    }
    if document_id:
        report["processingEndTime"] = created.replace(":00Z", ":41Z")
        report["reportDocumentId"] = document_id
    return report


# Documents of restricted report types (PII: names, addresses) and of ordinary ones.
SHIPPING_ORDERS_DOCUMENT = "amzn1.spdoc.1.4.na.7b1e0c52-4b8e-4d6a-9a53-2f6d1c0e8a11"
ORDER_REPORT_DOCUMENT = "amzn1.spdoc.1.4.na.3f9d2a77-0c4e-4f51-8b7e-6a2c9e1d4b22"
FLAT_FILE_ORDER_REPORT_DOCUMENT = "amzn1.spdoc.1.4.na.c2a8e4f1-9d3b-4e7c-a1f6-5b8d0e2c7f33"
FBA_INVOICING_DOCUMENT = "amzn1.spdoc.1.4.na.e5c1b9d3-7a2f-4c8e-9b6d-1f0a3e5c2d44"
LISTINGS_DOCUMENT = "amzn1.spdoc.1.4.na.0356cf79-b8b0-4226-b4b9-0ee058ea5760"
INVENTORY_DOCUMENT = "amzn1.spdoc.1.4.na.9a4f6e2d-3c1b-4a5e-8d7f-0b2e6c9a1f55"
ALL_ORDERS_DOCUMENT = "amzn1.spdoc.1.4.na.4d8b2f6a-1e9c-4b3d-a7f5-2c6e0a8d3b66"
FBA_SHIPMENTS_DOCUMENT = "amzn1.spdoc.1.4.na.b7e3a1c9-5f2d-4e8b-9c4a-6d1f0b3e7a77"

REPORTS: list[JsonObject] = [
    _report(
        "50039018868",
        "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING",
        "2025-06-01T06:00:00Z",
        SHIPPING_ORDERS_DOCUMENT,
    ),
    _report(
        "50040018869",
        "GET_ORDER_REPORT_DATA_SHIPPING",
        "2025-06-01T06:05:00Z",
        ORDER_REPORT_DOCUMENT,
    ),
    _report(
        "50041018870",
        "GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING",
        "2025-06-01T06:10:00Z",
        FLAT_FILE_ORDER_REPORT_DOCUMENT,
    ),
    _report(
        "50042018871",
        "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_INVOICING",
        "2025-06-01T06:15:00Z",
        FBA_INVOICING_DOCUMENT,
    ),
    _report(
        "50043018872", "GET_MERCHANT_LISTINGS_ALL_DATA", "2025-06-01T07:00:00Z", LISTINGS_DOCUMENT
    ),
    _report(
        "50044018873",
        "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
        "2025-06-01T07:05:00Z",
        INVENTORY_DOCUMENT,
    ),
    # Not restricted although about orders and shipments: the Tokens guide does not list them.
    _report(
        "50045018874",
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        "2025-06-01T07:10:00Z",
        ALL_ORDERS_DOCUMENT,
    ),
    _report(
        "50046018875",
        "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL",
        "2025-06-01T07:15:00Z",
        FBA_SHIPMENTS_DOCUMENT,
    ),
    _report("50047018876", "GET_ORDER_REPORT_DATA_SHIPPING", "2025-06-02T06:05:00Z", None),
]

# Report document id -> getReportDocument's answer.
REPORT_DOCUMENTS: dict[str, JsonObject] = {
    report["reportDocumentId"]: {
        "reportDocumentId": report["reportDocumentId"],
        "url": _presigned_url(report["reportDocumentId"].replace("spdoc", "tortuga")),
        # Amazon compresses large documents; one here, so clients meet the field.
        **(
            {"compressionAlgorithm": "GZIP"}
            if report["reportDocumentId"] == INVENTORY_DOCUMENT
            else {}
        ),
    }
    for report in REPORTS
    if "reportDocumentId" in report
}

# Report document id -> the type of the report it belongs to (Amazon knows; the document's answer
# does not say it: a client learns it from getReport or getReports).
REPORT_TYPE_OF_DOCUMENT: dict[str, str] = {
    report["reportDocumentId"]: report["reportType"]
    for report in REPORTS
    if "reportDocumentId" in report
}
