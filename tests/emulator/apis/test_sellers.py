"""Sellers API: the emulated seller's marketplace participations."""

from __future__ import annotations

from tests.emulator.conftest import Client, seller_token

US = "ATVPDKIKX0DER"


async def test_get_marketplace_participations(amazon: Client) -> None:
    response = await amazon.get(
        "/sellers/v1/marketplaceParticipations", headers=seller_token(amazon)
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.016"
    (participation,) = (await response.json())["payload"]
    assert participation["marketplace"]["id"] == US
