"""Need-to-know access: client keys and their grants, as two teams of one seller would use them."""

from __future__ import annotations

import logging

import pytest

from spproxy.config import Client, Secret
from tests.harness import Harness, StartHarness
from tests.restricted_cases import JORDAN

SHIPPING_KEY = "shipping-team-key-0123456789"
ANALYTICS_KEY = "analytics-team-key-0123456789"
CLIENTS = {
    "shipping": Client(
        "shipping",
        Secret(SHIPPING_KEY),
        accounts=("main",),
        operations=("getOrder*", "getShipment", "*Label*"),
        pii=True,
        data_elements=("shippingAddress",),
    ),
    "analytics": Client("analytics", Secret(ANALYTICS_KEY)),  # every operation, no PII
}
SHIPPING = {"x-spproxy-key": SHIPPING_KEY}
ANALYTICS = {"x-spproxy-key": ANALYTICS_KEY}
ORDER = f"/orders/v0/orders/{JORDAN}"
EMAIL = "fzyrv6gwkhbb15c@example.com"
STREET = "410 Terry Ave N"


@pytest.fixture
async def teams(start: StartHarness) -> Harness:
    return await start(clients=CLIENTS)


async def test_the_shipping_team_gets_the_address_and_not_the_email(teams: Harness) -> None:
    response = await teams.proxy.get(ORDER, headers=SHIPPING)
    assert response.status == 200
    text = await response.text()
    assert STREET in text and EMAIL not in text
    (resource,) = teams.amazon.rdt_mints[0].restricted_resources
    assert resource.data_elements == {"shippingAddress"}
    refused = await teams.proxy.get(f"{ORDER}/buyerInfo", headers=SHIPPING)
    assert refused.status == 403
    assert "may not receive buyerInfo" in (await refused.json())["errors"][0]["message"]
    shipment = await teams.proxy.get("/mfn/v0/shipments/abc", headers=SHIPPING)
    assert shipment.headers["x-spproxy-credential"] == "rdt-minted"  # PII, by grant


async def test_the_analytics_team_gets_orders_without_pii_and_403_on_mfn(teams: Harness) -> None:
    response = await teams.proxy.get(ORDER, headers=ANALYTICS)
    assert response.status == 200
    assert response.headers["x-spproxy-credential"] == "lwa"
    text = await response.text()
    assert STREET not in text and EMAIL not in text
    for path in ("/mfn/v0/shipments/abc", f"{ORDER}/address"):
        refused = await teams.proxy.get(path, headers=ANALYTICS)
        assert refused.status == 403
        assert refused.headers["x-spproxy-origin"] == "proxy"
        assert "may not receive PII" in (await refused.json())["errors"][0]["message"]
    assert teams.amazon.rdt_mints == []
    refused = await teams.proxy.get(ORDER, headers={**ANALYTICS, "x-spproxy-rdt": "Atz.sprdt|x"})
    assert refused.status == 403  # nor PII through an RDT of its own


async def test_grants_name_what_was_refused(teams: Harness) -> None:
    refused = await teams.proxy.get("/sellers/v1/marketplaceParticipations", headers=SHIPPING)
    assert refused.status == 403
    assert (await refused.json())["errors"][0]["message"] == (
        "Client 'shipping' may not call getMarketplaceParticipations."
    )
    assert teams.amazon.requests == []


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "A valid x-spproxy-key header is required."),
        ({"x-spproxy-key": "not-a-key"}, "The x-spproxy-key header names no client."),
        ({"x-spproxy-key": SHIPPING_KEY[:-1]}, "The x-spproxy-key header names no client."),
        ({"x-amz-access-token": "spproxy-placeholder.forged"}, "A valid x-spproxy-key"),
    ],
)
async def test_no_key_or_a_wrong_key_is_a_401(
    teams: Harness, headers: dict[str, str], message: str
) -> None:
    response = await teams.proxy.get("/sellers/v1/marketplaceParticipations", headers=headers)
    assert response.status == 401
    error = (await response.json())["errors"][0]
    assert error["code"] == "Unauthorized" and error["message"].startswith(message)
    assert teams.amazon.requests == []


async def test_keys_never_travel_upstream_nor_into_the_log(
    teams: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await teams.proxy.get("/sellers/v1/marketplaceParticipations", headers=ANALYTICS)
    assert response.status == 200
    assert "x-spproxy-key" not in teams.amazon.requests[-1].headers
    assert ANALYTICS_KEY not in caplog.text and "client=analytics" in caplog.text


async def test_accounts_are_granted_too(start: StartHarness) -> None:
    harness = await start(
        accounts={"main": "Atzr|spproxy-demo-refresh-token", "other": "Atzr|x"}, clients=CLIENTS
    )
    refused = await harness.proxy.get(ORDER, headers={**SHIPPING, "x-spproxy-account": "other"})
    assert refused.status == 403
    assert "may not act for account 'other'" in (await refused.json())["errors"][0]["message"]


async def test_an_sdk_authenticates_with_its_key_as_refresh_token(teams: Harness) -> None:
    refused = await teams.proxy.post(
        "/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|real?"}
    )
    assert refused.status == 400 and (await refused.json())["error"] == "invalid_grant"
    exchanged = await teams.proxy.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": SHIPPING_KEY,
            "client_id": "x",
            "client_secret": "y",
        },
    )
    assert exchanged.status == 200
    token = await exchanged.json()
    assert token["token_type"] == "bearer" and token["refresh_token"] == SHIPPING_KEY
    placeholder = {"x-amz-access-token": token["access_token"]}
    response = await teams.proxy.get(ORDER, headers=placeholder)
    assert response.status == 200 and STREET in await response.text()
    assert teams.amazon.requests[-1].headers["x-amz-access-token"] != token["access_token"]
    assert (
        await teams.proxy.get("/sellers/v1/marketplaceParticipations", headers=placeholder)
    ).status == 403
    grantless = await teams.proxy.post(
        "/auth/o2/token",
        json={
            "grant_type": "client_credentials",
            "client_secret": ANALYTICS_KEY,
            "scope": "sellingpartnerapi::notifications",
        },
    )
    assert (
        grantless.status == 200
        and (await grantless.json())["scope"] == "sellingpartnerapi::notifications"
    )


async def test_without_clients_any_sdk_exchange_gets_a_placeholder(harness: Harness) -> None:
    exchanged = await harness.proxy.post(
        "/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "anything"}
    )
    token = (await exchanged.json())["access_token"]
    assert token.startswith("spproxy-placeholder.")
    response = await harness.proxy.get(
        "/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": token}
    )
    assert response.status == 200
    assert harness.amazon.requests[-1].token_kind == "lwa"  # the real token, not the placeholder
    unsupported = await harness.proxy.post("/auth/o2/token", data={"grant_type": "password"})
    assert (
        unsupported.status == 400
        and (await unsupported.json())["error"] == "unsupported_grant_type"
    )
