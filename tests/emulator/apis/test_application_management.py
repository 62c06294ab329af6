"""Application Management API: rotating the application's client secret, grantless."""

from __future__ import annotations

from tests.emulator.conftest import Client, grantless_token

ROTATION = "sellingpartnerapi::client_credential:rotation"


async def test_rotate_application_client_secret(amazon: Client) -> None:
    response = await amazon.post(
        "/applications/2023-11-30/clientSecret", headers=grantless_token(amazon, ROTATION)
    )
    assert response.status == 204
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0167"
