"""FBA Inventory v1: the emulated seller's inventory summaries."""

from __future__ import annotations

from tests.emulator.conftest import Client, seller

SUMMARIES = "/fba/inventory/v1/summaries"
US = "ATVPDKIKX0DER"


async def test_summaries_by_marketplace_and_sku(handlers: Client) -> None:
    query = {"marketplaceIds": US, "granularityType": "Marketplace", "granularityId": US}
    response = await handlers.get(SUMMARIES, params=query, headers=seller(handlers))
    assert response.status == 200
    body = await response.json()
    assert len(body["payload"]["inventorySummaries"]) == 2
    one = {**query, "sellerSkus": "SOUNDBAR-A550"}
    response = await handlers.get(SUMMARIES, params=one, headers=seller(handlers))
    (summary,) = (await response.json())["payload"]["inventorySummaries"]
    assert summary["sellerSku"] == "SOUNDBAR-A550"


async def test_the_granularity_must_be_one_of_the_marketplaces(handlers: Client) -> None:
    query = {"marketplaceIds": US, "granularityType": "Marketplace", "granularityId": "OTHER"}
    response = await handlers.get(SUMMARIES, params=query, headers=seller(handlers))
    assert response.status == 400
