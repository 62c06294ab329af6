"""Catalog Items API 2022-04-01: searching and getting the emulated catalog."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import Client, get_json, seller_token, spapi_error

US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"
TV_ASIN = "B07N4M94X4"


async def test_search_catalog_items_by_keywords(amazon: Client) -> None:
    found = await get_json(
        amazon, "/catalog/2022-04-01/items", {"marketplaceIds": US, "keywords": "samsung,82-inch"}
    )
    assert found["numberOfResults"] == 1
    (item,) = found["items"]
    assert set(item) == {"asin", "summaries"}  # includedData defaults to summaries
    assert item["asin"] == TV_ASIN
    assert found["refinements"]["brands"] == [{"numberOfResults": 1, "brandName": "SAMSUNG"}]

    family = await get_json(
        amazon, "/catalog/2022-04-01/items", {"marketplaceIds": US, "keywords": "Samsung"}
    )
    assert family["numberOfResults"] == 2

    phrase = await get_json(
        amazon, "/catalog/2022-04-01/items", {"marketplaceIds": US, "keywords": "samsung tv"}
    )
    assert phrase["numberOfResults"] >= 1
    assert all("TV" in item["summaries"][0]["itemName"] for item in phrase["items"])


async def test_search_catalog_items_by_identifiers_with_included_data(amazon: Client) -> None:
    found = await get_json(
        amazon,
        "/catalog/2022-04-01/items",
        {
            "marketplaceIds": US,
            "identifiers": "887276302195,000000000000",
            "identifiersType": "UPC",
            "includedData": "identifiers,images,salesRanks",
        },
    )
    (item,) = found["items"]
    assert set(item) == {"asin", "identifiers", "images", "salesRanks"}
    by_asin = await get_json(
        amazon,
        "/catalog/2022-04-01/items",
        {"marketplaceIds": US, "identifiers": TV_ASIN, "identifiersType": "ASIN"},
    )
    assert [item["asin"] for item in by_asin["items"]] == [TV_ASIN]


async def test_search_catalog_items_in_another_marketplace_finds_nothing(amazon: Client) -> None:
    found = await get_json(
        amazon, "/catalog/2022-04-01/items", {"marketplaceIds": DE, "keywords": "samsung"}
    )
    assert (found["numberOfResults"], found["items"]) == (0, [])


@pytest.mark.parametrize(
    "params",
    [
        {"keywords": "samsung"},
        {"marketplaceIds": US},
        {"marketplaceIds": US, "keywords": "tv", "identifiers": TV_ASIN, "identifiersType": "ASIN"},
        {"marketplaceIds": US, "identifiers": TV_ASIN},
        {"marketplaceIds": US, "keywords": "tv", "includedData": "summaries,everything"},
    ],
)
async def test_search_catalog_items_rejects_invalid_input(
    amazon: Client, params: dict[str, str]
) -> None:
    response = await amazon.get(
        "/catalog/2022-04-01/items", params=params, headers=seller_token(amazon)
    )
    assert response.status == 400
    assert (await spapi_error(response))["code"] == "InvalidInput"


async def test_get_catalog_item(amazon: Client) -> None:
    response = await amazon.get(
        f"/catalog/2022-04-01/items/{TV_ASIN}",
        params={"marketplaceIds": US, "includedData": "summaries,productTypes"},
        headers=seller_token(amazon),
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "2"
    item = await response.json()
    assert set(item) == {"asin", "summaries", "productTypes"}
    assert item["productTypes"] == [{"marketplaceId": US, "productType": "TELEVISION"}]


async def test_get_catalog_item_refusals(amazon: Client) -> None:
    unknown = await get_json(
        amazon, "/catalog/2022-04-01/items/B000000000", {"marketplaceIds": US}, status=404
    )
    assert unknown["errors"][0]["code"] == "NotFound"
    elsewhere = await get_json(
        amazon, f"/catalog/2022-04-01/items/{TV_ASIN}", {"marketplaceIds": DE}, status=404
    )
    assert elsewhere["errors"][0]["code"] == "NotFound"
    unplaced = await get_json(amazon, f"/catalog/2022-04-01/items/{TV_ASIN}", {}, status=400)
    assert unplaced["errors"][0]["code"] == "InvalidInput"
