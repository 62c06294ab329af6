"""FBA Inventory API v1: getInventorySummaries (the model ships no sandbox example; this answer
follows its schema: payload.granularity and payload.inventorySummaries)."""

from __future__ import annotations

from aiohttp import web

from spproxy.emulator.apis.query import required_comma_separated
from spproxy.emulator.errors import invalid_input
from spproxy.emulator.operations import Operation

_SUMMARIES = [
    {
        "asin": "B07XW4Y6R5",
        "fnSku": "X00236NAL3",
        "sellerSku": "TV-Q60R-82",
        "condition": "NewItem",
        "lastUpdatedTime": "2025-06-01T08:00:00Z",
        "productName": "Samsung Q60R Series QLED 4K Ultra HD Smart TV",
        "totalQuantity": 12,
    },
    {
        "asin": "B0B7BP6CJN",
        "fnSku": "X00236NAL4",
        "sellerSku": "SOUNDBAR-A550",
        "condition": "NewItem",
        "lastUpdatedTime": "2025-06-01T08:00:00Z",
        "productName": "Samsung HW-A550 Soundbar",
        "totalQuantity": 40,
    },
]


async def get_inventory_summaries(request: web.Request) -> web.Response:
    marketplace_ids = required_comma_separated(request, "marketplaceIds")
    if request.query.get("granularityType") != "Marketplace":
        raise invalid_input("granularityType must be Marketplace.")
    granularity_id = request.query.get("granularityId")
    if granularity_id not in marketplace_ids:
        raise invalid_input("granularityId must be one of the marketplaceIds.")
    skus = set(request.query.get("sellerSkus", "").split(",")) - {""}
    summaries = [s for s in _SUMMARIES if not skus or s["sellerSku"] in skus]
    payload = {
        "granularity": {"granularityType": "Marketplace", "granularityId": granularity_id},
        "inventorySummaries": summaries,
    }
    return web.json_response({"payload": payload, "pagination": {}})


OPERATIONS = (
    Operation(
        "getInventorySummaries",
        "GET",
        "/fba/inventory/v1/summaries",
        get_inventory_summaries,
        rate=2.0,
    ),
)
