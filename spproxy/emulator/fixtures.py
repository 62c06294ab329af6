"""What the emulated seller's account holds: marketplaces, orders, catalog items, destinations.

Adapted from the sandbox examples (`x-amzn-api-sandbox`) in Amazon's Selling Partner API models,
https://github.com/amzn/selling-partner-api-models, Copyright Amazon.com, Inc. or its
affiliates, licensed under the Apache License, Version 2.0. Changes: sandbox dates (1970) moved
to 2025, buyer details added to orders (fictitious; example.com addresses), a variation parent
added to the catalog, image lists shortened.

Orders are stored WITH buyer PII, as Amazon stores them; what a caller may see of it is decided
when they are served (apis/orders.py).
"""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]

US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"

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
]

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
