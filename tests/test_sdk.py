"""A widely used SP-API library, unmodified, through spproxy: python-amazon-sp-api (`sp_api`).

Only its two endpoints change: its LWA client posts to spproxy's `/auth/o2/token`, and its
SP-API calls go to spproxy. The library does its own LWA exchange, gets spproxy's placeholder and
sends it in `x-amz-access-token`; spproxy drops it and sends Amazon the real LWA token, a
grantless token or a Restricted Data Token it minted itself (the library knows nothing of RDTs).
Its real HTTP stack (httpx, synchronous, so in a thread) against the real loopback servers.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sp_api.api import Notifications, Orders, Tokens
from sp_api.auth import AccessTokenClient
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import ApiResponse
from sp_api.base import Client as SpApiClient

from spproxy.config import Client, Secret
from spproxy.emulator import DEMO_CLIENT_SECRET, ReceivedRequest
from tests.harness import MARKETPLACE, StartHarness, scrape

ORDER = "902-1845936-5435065"
PLACEHOLDER = "spproxy-placeholder."
SDK_CLIENT_ID = "amzn1.application-oa2-client.sdk-side-dummy"
SDK_CLIENT_SECRET = "sdk-side-dummy-secret"


@dataclass(frozen=True)
class SpproxyMarketplace:
    """What sp_api reads from a `Marketplaces` member: spproxy is the endpoint."""

    endpoint: str  # http://127.0.0.1:PORT
    marketplace_id: str = MARKETPLACE
    region: str = "us-east-1"


def lwa_at(base: str) -> type[AccessTokenClient]:
    """The library's own LWA client, posting to `base` + /auth/o2/token instead of Amazon's."""
    protocol, authority = base.split("://")

    class SpproxyLwa(AccessTokenClient):  # type: ignore[misc]  # sp_api is untyped
        scheme = f"{protocol}://"  # the library's defaults: "https://", "api.amazon.com"
        host = authority

    return SpproxyLwa


def sdk_options(
    base: str, refresh_token: str, client_secret: str = SDK_CLIENT_SECRET
) -> dict[str, Any]:
    """Constructor arguments for any sp_api client; every other setting is the library's."""
    return {
        "marketplace": SpproxyMarketplace(base),
        "refresh_token": refresh_token,
        "credentials": {"lwa_app_id": SDK_CLIENT_ID, "lwa_client_secret": client_secret},
        "auth_token_client_class": lwa_at(base),
    }


def close(client: SpApiClient) -> None:
    client.close()
    client._auth._transport.close()  # the library leaves its LWA client's connection open


def base_of(proxy: TestClient[web.Request, web.Application]) -> str:
    return str(proxy.make_url("")).rstrip("/")


def fresh_refresh_token() -> str:
    # sp_api caches access tokens per refresh token in module globals: a fresh one per test makes
    # every test do its own exchange with its own spproxy.
    return f"Atzr|sdk-side-dummy-{secrets.token_hex(8)}"


@pytest.fixture(autouse=True)
def _no_marketplace_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # sp_api lets SP_API_DEFAULT_MARKETPLACE replace the marketplace (so the endpoint) passed in.
    monkeypatch.delenv("SP_API_DEFAULT_MARKETPLACE", raising=False)


def assert_real_token_reached_amazon(
    received: ReceivedRequest, kind: str, placeholder: str, amazon_host: str
) -> None:
    assert received.status == 200
    assert received.token_kind == kind
    token = received.headers["x-amz-access-token"]
    assert token != placeholder
    assert not token.startswith(PLACEHOLDER)
    assert "authorization" not in received.headers
    assert received.headers["host"] == amazon_host  # not the library's (endpoint[8:]) guess


async def test_orders_through_spproxy_with_only_the_endpoints_changed(
    start: StartHarness,
) -> None:
    harness = await start()
    amazon = harness.amazon
    amazon_host = harness.emulator.make_url("").raw_authority
    base = base_of(harness.proxy)
    orders = Orders(**sdk_options(base, fresh_refresh_token()))
    try:
        listed = await asyncio.to_thread(
            orders.get_orders, MarketplaceIds=[MARKETPLACE], CreatedAfter="2024-01-01T00:00:00Z"
        )
        placeholder = orders.auth.access_token  # what the library got from spproxy's LWA
        assert placeholder.startswith(PLACEHOLDER)
        assert isinstance(listed, ApiResponse)
        assert ORDER in [order["AmazonOrderId"] for order in listed.payload["Orders"]]
        received = amazon.requests[-1]
        assert received.operation == "getOrders"
        assert "CreatedAfter=2024-01-01T00%3A00%3A00Z" in received.query_string
        # getOrders releases the account's data elements: an RDT spproxy minted.
        assert_real_token_reached_amazon(received, "rdt", placeholder, amazon_host)

        order = await asyncio.to_thread(orders.get_order, ORDER)
        assert order.payload["AmazonOrderId"] == ORDER
        assert order.payload["ShippingAddress"]["AddressLine1"] == "410 Terry Ave N"
        assert_real_token_reached_amazon(amazon.requests[-1], "rdt", placeholder, amazon_host)

        address = await asyncio.to_thread(orders.get_order_address, ORDER)
        assert address.payload["AmazonOrderId"] == ORDER
        assert address.payload["ShippingAddress"]["AddressLine1"] == "410 Terry Ave N"
        received = amazon.requests[-1]
        assert received.operation == "getOrderAddress"
        assert_real_token_reached_amazon(received, "rdt", placeholder, amazon_host)
    finally:
        close(orders)
    # The library's LWA exchange never reached Amazon: only spproxy's own credentials did.
    assert set(amazon.lwa_client_secrets_used) == {DEMO_CLIENT_SECRET}


async def test_a_grantless_call_through_spproxy(start: StartHarness) -> None:
    harness = await start()
    base = base_of(harness.proxy)
    notifications = Notifications(**sdk_options(base, fresh_refresh_token()))
    try:
        # The library does a client_credentials exchange with the notifications scope itself.
        destinations = await asyncio.to_thread(notifications.get_destinations)
        placeholder = notifications.grantless_auth.access_token
    finally:
        close(notifications)
    assert placeholder.startswith(PLACEHOLDER)
    assert [d["destinationId"] for d in destinations.payload] == ["TEST_CASE_200"]
    received = harness.amazon.requests[-1]
    assert received.operation == "getDestinations"
    amazon_host = harness.emulator.make_url("").raw_authority
    assert_real_token_reached_amazon(received, "grantless", placeholder, amazon_host)


async def test_with_clients_the_library_passes_its_client_key_as_refresh_token(
    start: StartHarness,
) -> None:
    """With `clients:`, the library's refresh token (and, for grantless calls, its LWA client
    secret) is its spproxy client key; the placeholder it gets stands for that client."""
    key = f"spk-{secrets.token_hex(16)}"
    harness = await start(clients={"shop": Client(name="shop", key=Secret(key), pii=True)})
    amazon, base = harness.amazon, base_of(harness.proxy)
    amazon_host = harness.emulator.make_url("").raw_authority
    options = sdk_options(base, key, client_secret=key)
    orders, notifications = Orders(**options), Notifications(**options)
    try:
        address = await asyncio.to_thread(orders.get_order_address, ORDER)
        placeholder = orders.auth.access_token
        destinations = await asyncio.to_thread(notifications.get_destinations)
        grantless_placeholder = notifications.grantless_auth.access_token
    finally:
        close(orders)
        close(notifications)
    assert address.payload["ShippingAddress"]["AddressLine1"] == "410 Terry Ave N"
    assert placeholder.startswith(PLACEHOLDER)
    assert key not in placeholder
    (received,) = [r for r in amazon.requests if r.operation == "getOrderAddress"]
    assert_real_token_reached_amazon(received, "rdt", placeholder, amazon_host)
    assert key not in received.headers.values()
    assert [d["destinationId"] for d in destinations.payload] == ["TEST_CASE_200"]
    assert_real_token_reached_amazon(
        amazon.requests[-1], "grantless", grantless_placeholder, amazon_host
    )

    # A refresh token that is no client key: spproxy's LWA refuses it as LWA would, and the
    # library raises its usual error before any SP-API call.
    seen = len(amazon.requests)
    stranger = Orders(**sdk_options(base, fresh_refresh_token()))
    try:
        with pytest.raises(AuthorizationError) as refused:
            await asyncio.to_thread(stranger.get_order_address, ORDER)
    finally:
        close(stranger)
    assert (refused.value.status_code, refused.value.error_code) == (400, "invalid_grant")
    assert len(amazon.requests) == seen


@pytest.mark.parametrize("with_clients", [False, True])
async def test_an_rdt_the_library_mints_itself_is_replaced_and_counted(
    start: StartHarness, with_clients: bool
) -> None:
    """The library's own RDT flow: Tokens API through spproxy, then `restricted_data_token=`.
    It works, with or without `clients:` (the RDT stands for the client that minted it), but
    spproxy sends Amazon its own RDT, so the library's mint was wasted: counted in metrics."""
    key = f"spk-{secrets.token_hex(16)}"
    clients = {"shop": Client(name="shop", key=Secret(key), pii=True)} if with_clients else {}
    harness = await start(clients=clients)
    amazon, base = harness.amazon, base_of(harness.proxy)
    options = sdk_options(base, key if with_clients else fresh_refresh_token())
    tokens = Tokens(**options)
    resource = {"method": "GET", "path": f"/orders/v0/orders/{ORDER}/address"}
    try:
        minted = await asyncio.to_thread(
            tokens.create_restricted_data_token, restrictedResources=[resource]
        )
        rdt = minted.payload["restrictedDataToken"]
        orders = Orders(**options, restricted_data_token=rdt)
        try:
            address = await asyncio.to_thread(orders.get_order_address, ORDER)
        finally:
            close(orders)
    finally:
        close(tokens)
    assert address.payload["ShippingAddress"]["AddressLine1"] == "410 Terry Ave N"
    received = amazon.requests[-1]
    assert received.operation == "getOrderAddress" and received.token_kind == "rdt"
    assert received.headers["x-amz-access-token"] != rdt  # spproxy's own, minted for it
    assert len(amazon.rdt_mints) == 2  # the library's (wasted) and spproxy's
    assert (await scrape(harness.proxy))[("spproxy_client_rdts_replaced_total", ())] == 1
