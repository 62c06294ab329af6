"""Catalog Items API 2022-04-01: searchCatalogItems and getCatalogItem."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from spproxy.emulator.apis.query import comma_separated, required_comma_separated
from spproxy.emulator.errors import invalid_input, not_found
from spproxy.emulator.fixtures import CATALOG_ITEMS, JsonObject
from spproxy.emulator.operations import Operation

INCLUDED_DATA = frozenset(
    {
        "attributes",
        "classifications",
        "dimensions",
        "identifiers",
        "images",
        "productTypes",
        "relationships",
        "salesRanks",
        "summaries",
        "vendorDetails",
    }
)
IDENTIFIER_TYPES = frozenset({"ASIN", "EAN", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC"})


async def search_catalog_items(request: web.Request) -> web.Response:
    marketplace_ids = required_comma_separated(request, "marketplaceIds")
    included = _included_data(request)
    keywords = comma_separated(request, "keywords")
    identifiers = comma_separated(request, "identifiers")
    if bool(keywords) == bool(identifiers):
        raise invalid_input("Exactly one of keywords and identifiers must be specified.")
    if keywords:
        found = [item for item in CATALOG_ITEMS if _has_keywords(item, keywords)]
    else:
        identifiers_type = request.query.get("identifiersType", "")
        if identifiers_type not in IDENTIFIER_TYPES:
            raise invalid_input("identifiersType is required with identifiers.")
        found = [
            item
            for item in CATALOG_ITEMS
            if _identified_by(item, identifiers_type, identifiers, marketplace_ids)
        ]
    found = [item for item in found if _sold_in(item, marketplace_ids)]
    return web.json_response(
        {
            "numberOfResults": len(found),
            "pagination": {},
            "refinements": _refinements(found, marketplace_ids),
            "items": [_item_view(item, marketplace_ids, included) for item in found],
        }
    )


async def get_catalog_item(request: web.Request) -> web.Response:
    asin = request.match_info["asin"]
    marketplace_ids = required_comma_separated(request, "marketplaceIds")
    included = _included_data(request)
    item = next((item for item in CATALOG_ITEMS if item["asin"] == asin), None)
    if item is None or not _sold_in(item, marketplace_ids):
        raise not_found(
            f"Requested item '{asin}' not found in marketplace(s) {','.join(marketplace_ids)}."
        )
    return web.json_response(_item_view(item, marketplace_ids, included))


def _included_data(request: web.Request) -> list[str]:
    included = comma_separated(request, "includedData") or ["summaries"]
    unknown = sorted(set(included) - INCLUDED_DATA)
    if unknown:
        raise invalid_input(f"Invalid includedData value(s): {', '.join(unknown)}.")
    return included


def _summaries(item: JsonObject) -> list[JsonObject]:
    summaries: list[JsonObject] = item.get("summaries", [])
    return summaries


def _sold_in(item: JsonObject, marketplace_ids: Iterable[str]) -> bool:
    return any(summary["marketplaceId"] in marketplace_ids for summary in _summaries(item))


def _has_keywords(item: JsonObject, keywords: list[str]) -> bool:
    text = " ".join(
        f"{summary.get('itemName', '')} {summary.get('brand', '')}" for summary in _summaries(item)
    ).casefold()
    # Each comma-separated keyword may be a phrase; like Amazon's search, match its words.
    return all(word.casefold() in text for keyword in keywords for word in keyword.split())


def _identified_by(
    item: JsonObject, identifiers_type: str, identifiers: list[str], marketplace_ids: list[str]
) -> bool:
    if identifiers_type == "ASIN":
        return item["asin"] in identifiers
    return any(
        identifier["identifierType"] == identifiers_type and identifier["identifier"] in identifiers
        for entry in item.get("identifiers", [])
        if entry["marketplaceId"] in marketplace_ids
        for identifier in entry["identifiers"]
    )


def _item_view(item: JsonObject, marketplace_ids: list[str], included: list[str]) -> JsonObject:
    """The item with only the sections asked for, each narrowed to the marketplaces asked for."""
    view: JsonObject = {"asin": item["asin"]}
    for section in included:
        if section in item:
            view[section] = _in_marketplaces(item[section], marketplace_ids)
    return view


def _in_marketplaces(section: Any, marketplace_ids: list[str]) -> Any:
    # Every section but `attributes` (keyed by attribute name) has one entry per marketplace.
    if not isinstance(section, list):
        return section
    return [entry for entry in section if entry["marketplaceId"] in marketplace_ids]


def _refinements(items: list[JsonObject], marketplace_ids: list[str]) -> JsonObject:
    """What Amazon offers to narrow a search by: brands and browse classifications, counted."""
    brands: Counter[str] = Counter()
    classifications: Counter[tuple[str, str]] = Counter()
    for item in items:
        for summary in _summaries(item):
            if summary["marketplaceId"] in marketplace_ids:
                brands[summary["brand"]] += 1
                browse = summary["browseClassification"]
                classifications[browse["displayName"], browse["classificationId"]] += 1
    return {
        "brands": [
            {"numberOfResults": count, "brandName": brand} for brand, count in brands.items()
        ],
        "classifications": [
            {"numberOfResults": count, "displayName": name, "classificationId": node_id}
            for (name, node_id), count in classifications.items()
        ],
    }


OPERATIONS = (
    Operation(
        "searchCatalogItems", "GET", "/catalog/2022-04-01/items", search_catalog_items, rate=2
    ),
    Operation(
        "getCatalogItem", "GET", "/catalog/2022-04-01/items/{asin}", get_catalog_item, rate=2
    ),
)
