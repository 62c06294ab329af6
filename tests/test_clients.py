"""Need-to-know access: client keys and their grants, as two teams of one seller would use them;
tokens issued to a client identify it on every replica that shares state."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping

import pytest
import redis.asyncio
from multidict import CIMultiDict, CIMultiDictProxy

from spproxy.clients import ClientAccess
from spproxy.config import Client, Secret
from spproxy.errors import Unauthenticated
from spproxy.issued import IssuedTokens
from spproxy.operations import load_table
from spproxy.reports import ReportTypes
from spproxy.sealing import Sealer
from spproxy.sharedstate import SharedState
from tests.harness import Harness, StartHarness, free_port
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


# --- tokens issued on one replica, presented to another ---------------------------------------

TABLE = load_table()
TOKENS_API = TABLE.classify("POST", "/tokens/2021-03-01/restrictedDataToken")
STATE_KEY = os.urandom(32)  # what every replica of one app is configured with (state.key)
CLIENT_RDT = "Atz.sprdt|minted-through-replica-a"


def headers(**values: str) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict({k.replace("_", "-"): v for k, v in values.items()}))


def shared_state(url: str, key: bytes = STATE_KEY) -> SharedState:
    client = redis.asyncio.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return SharedState(client, "test-app", Sealer(key))


def replica(state: SharedState | None, clients: Mapping[str, Client] = CLIENTS) -> ClientAccess:
    return ClientAccess(clients, TABLE, ReportTypes(), state=state)


@pytest.fixture
async def states(redis_url: str) -> AsyncIterator[Callable[..., SharedState]]:
    """state(key=STATE_KEY): a replica's shared state on the test Redis, closed afterwards."""
    made: list[SharedState] = []

    def state(key: bytes = STATE_KEY) -> SharedState:
        made.append(shared_state(redis_url, key))
        return made[-1]

    yield state
    for each in made:
        await each.aclose()


async def mint_through(access: ClientAccess, client: Client, token: str) -> None:
    """What relaying the Tokens API's answer to `client` does."""
    observe = access.observer(TOKENS_API, client)
    assert observe is not None
    await observe(json.dumps({"restrictedDataToken": token, "expiresIn": 3600}).encode())


async def test_a_placeholder_from_one_replica_identifies_the_client_on_another(
    states: Callable[..., SharedState],
) -> None:
    a, b = replica(states()), replica(states())
    placeholder = headers(x_amz_access_token=a.issued.placeholder(CLIENTS["shipping"]))
    assert await b.identify(placeholder) is CLIENTS["shipping"]
    for stranger in (replica(states(os.urandom(32))), replica(None)):  # another key
        with pytest.raises(Unauthenticated):
            await stranger.identify(placeholder)
    expired = IssuedTokens(states(), clock=lambda: 0.0).placeholder(CLIENTS["shipping"])
    with pytest.raises(Unauthenticated):
        await b.identify(headers(x_amz_access_token=expired))
    assert b.client_rdts_replaced == 0  # a placeholder is no wasted mint


async def test_a_rotated_key_revokes_a_placeholder_on_every_replica(
    states: Callable[..., SharedState],
) -> None:
    a, b = replica(states()), replica(states())
    placeholder = headers(x_amz_access_token=a.issued.placeholder(CLIENTS["analytics"]))
    assert await b.identify(placeholder) is CLIENTS["analytics"]
    b.reconfigure({**CLIENTS, "analytics": Client("analytics", Secret("rotated-key-0123456789"))})
    with pytest.raises(Unauthenticated):
        await b.identify(placeholder)
    b.reconfigure({"shipping": CLIENTS["shipping"]})  # removed
    with pytest.raises(Unauthenticated):
        await b.identify(placeholder)


async def test_a_client_minted_rdt_identifies_the_client_on_another_replica(
    states: Callable[..., SharedState],
) -> None:
    a, b = replica(states()), replica(states())
    await mint_through(a, CLIENTS["shipping"], CLIENT_RDT)
    sent = headers(x_amz_access_token=CLIENT_RDT)
    assert await b.identify(sent) is CLIENTS["shipping"]
    assert await b.identify(sent) is CLIENTS["shipping"]
    assert b.client_rdts_replaced == 2  # each request brought a wasted mint
    assert b.snapshot(0)["issued_tokens"] == 1  # asked Redis once, then known here
    with pytest.raises(Unauthenticated):
        await b.identify(headers(x_amz_access_token=CLIENT_RDT + "x"))
    rotated = Client("shipping", Secret("rotated-shipping-key-0123"), pii=True)
    c = replica(states(), {**CLIENTS, "shipping": rotated})
    with pytest.raises(Unauthenticated):
        await c.identify(sent)


async def test_without_clients_a_replica_still_counts_rdts_minted_on_another(
    states: Callable[..., SharedState],
) -> None:
    a, b = replica(states(), {}), replica(states(), {})
    await mint_through(a, None, CLIENT_RDT)  # type: ignore[arg-type]  # no clients: no client
    assert await b.identify(headers(x_amz_access_token=CLIENT_RDT)) is None
    assert b.client_rdts_replaced == 1


async def test_with_redis_down_each_replica_knows_what_it_issued_itself() -> None:
    down = shared_state(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    a, b = replica(down), replica(down)
    key_and_token = headers(x_spproxy_key=ANALYTICS_KEY, x_amz_access_token="Atza|anything")
    assert await b.identify(key_and_token) is CLIENTS["analytics"]
    assert down.failures == 0  # a key says who: Redis was not asked
    await mint_through(a, CLIENTS["shipping"], CLIENT_RDT)  # no error, though not shared
    assert down.failures == 1
    sent = headers(x_amz_access_token=CLIENT_RDT)
    assert await a.identify(sent) is CLIENTS["shipping"]
    with pytest.raises(Unauthenticated):
        await b.identify(sent)
    placeholder = headers(x_amz_access_token=a.issued.placeholder(CLIENTS["shipping"]))
    assert await b.identify(placeholder) is CLIENTS["shipping"]  # signed: needs no Redis


def _tampered(token: str) -> str:
    """The placeholder with one character of its signed part changed."""
    at = len(token) // 2
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


@pytest.mark.parametrize(
    "hostile",
    [
        _tampered,
        lambda token: token + "=",
        lambda token: token[:-4],
        lambda token: token.upper(),
        lambda token: token.split(".")[0] + ".",
        lambda token: token + "." + token,
        lambda _: "spproxy-placeholder.%%%%",
        lambda _: "spproxy-placeholder." + "A" * 4000,
        lambda _: "spproxy-placeholder.\u00e9t\u00e9",
        lambda _: IssuedTokens(None).placeholder(CLIENTS["shipping"]),  # another process's
        lambda _: "Atz.sprdt|never-minted-through-spproxy",
    ],
)
async def test_a_forged_or_altered_token_is_a_401_never_a_500(
    teams: Harness, hostile: Callable[[str], str]
) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": SHIPPING_KEY}
    placeholder = (await (await teams.proxy.post("/auth/o2/token", data=form)).json())[
        "access_token"
    ]
    assert (await teams.proxy.get(ORDER, headers={"x-amz-access-token": placeholder})).status == 200
    sent = len(teams.amazon.requests)
    response = await teams.proxy.get(ORDER, headers={"x-amz-access-token": hostile(placeholder)})
    assert response.status == 401
    assert (await response.json())["errors"][0]["code"] == "Unauthorized"
    assert len(teams.amazon.requests) == sent
