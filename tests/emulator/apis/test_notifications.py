"""Notifications API v1: grantless destinations and test notifications."""

from __future__ import annotations

from tests.emulator.conftest import Client, grantless_token, seller_token, spapi_error, state_of

NOTIFICATIONS = "sellingpartnerapi::notifications"


async def test_get_destinations_with_a_grantless_token(amazon: Client) -> None:
    response = await amazon.get(
        "/notifications/v1/destinations", headers=grantless_token(amazon, NOTIFICATIONS)
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "1"
    (destination,) = (await response.json())["payload"]
    assert destination["resource"]["sqs"]["arn"].startswith("arn:aws:sqs:")
    assert state_of(amazon).requests[-1].token_kind == "grantless"


async def test_send_test_notification_needs_a_grantless_token(amazon: Client) -> None:
    """Its model: "The `sendTestNotification` API is grantless"."""
    path = "/notifications/v1/subscriptions/ANY_OFFER_CHANGED/testNotification"
    body = {"destinationId": "3acafc7e-121b-1329-8ae8-1571be663aa2"}
    refused = await amazon.post(path, json=body, headers=seller_token(amazon))
    assert refused.status == 403
    assert NOTIFICATIONS in (await spapi_error(refused))["details"]
    answered = await amazon.post(path, json=body, headers=grantless_token(amazon, NOTIFICATIONS))
    # Past the token check; the model publishes no sandbox example: Amazon's sandbox "no match".
    assert answered.status == 400
    assert (await spapi_error(answered))["message"] == "Could not match input arguments"
