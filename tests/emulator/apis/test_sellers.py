"""Sellers API: the emulated seller's marketplace participations."""

from __future__ import annotations

from tests.emulator.conftest import Client, state_of

US = "ATVPDKIKX0DER"


def seller_token(client: Client) -> dict[str, str]:
    return {"x-amz-access-token": state_of(client).issue_token("lwa", selling_partner_id="A1")}


async def test_get_marketplace_participations(amazon: Client) -> None:
    response = await amazon.get(
        "/sellers/v1/marketplaceParticipations", headers=seller_token(amazon)
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.016"
    (participation,) = (await response.json())["payload"]
    assert participation["marketplace"]["id"] == US
