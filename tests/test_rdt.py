"""Restricted data through the proxy: every restricted operation gets its PII, economically."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from spproxy.config import Account, LwaConfig, Secret, UpstreamConfig
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    make_emulator_app,
)
from spproxy.emulator.fixtures import LISTINGS_DOCUMENT, SHIPPING_ORDERS_DOCUMENT
from spproxy.errors import RdtRefused, TokensApiUnavailable
from spproxy.http1pool import Http1Client
from spproxy.lwa import LwaTokens
from spproxy.ratelimit import RateLimiter
from spproxy.rdt import RestrictedDataTokens
from spproxy.regions import REGIONS
from spproxy.sharedstate import SharedState
from spproxy.tokensapi import Resource, TokensApi
from spproxy.upstream import Upstream
from tests.harness import Harness, StartHarness
from tests.replicas import redis_snapshot, shared_state, shared_states, unreachable_url
from tests.restricted_cases import CASES, IDS, JORDAN, Case, call, shown

ORDER = f"/orders/v0/orders/{JORDAN}"
BUYER_EMAIL = "fzyrv6gwkhbb15c@example.com"
STREET = "410 Terry Ave N"
MFN_SHIPMENT = "/mfn/v0/shipments/{shipmentId}"
DOCUMENTS = "/reports/2021-06-30/documents"
SHIPPING_REPORT = "50039018868"  # GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING: restricted


def mints(harness: Harness) -> int:
    return len(harness.amazon.rdt_mints)


def token_kinds(harness: Harness) -> list[str | None]:
    """The token kind of each call that reached Amazon, minting calls aside."""
    return [r.token_kind for r in harness.amazon.requests if not r.raw_path.startswith("/tokens/")]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_every_restricted_operation_answers_with_its_pii(
    harness: Harness, case: Case
) -> None:
    response = await call(harness.proxy, case, {})
    assert response.status == 200, await response.text()
    assert case.pii in shown(await response.json())
    assert response.headers["x-spproxy-credential"] == "rdt-minted"
    received = harness.amazon.requests[-1]
    assert received.token_kind == "rdt"
    (minted,) = harness.amazon.rdt_mints
    assert (case.method, case.generic) in {(r.method, r.path) for r in minted.restricted_resources}


async def test_orders_get_the_accounts_data_elements(harness: Harness) -> None:
    response = await harness.proxy.get(ORDER)
    order = (await response.json())["payload"]
    assert order["BuyerInfo"]["BuyerEmail"] == BUYER_EMAIL
    assert order["ShippingAddress"]["AddressLine1"] == STREET
    (minted,) = harness.amazon.rdt_mints
    (resource,) = minted.restricted_resources
    assert (resource.path, resource.data_elements) == (
        "/orders/v0/orders/{orderId}",
        frozenset({"buyerInfo", "shippingAddress"}),  # buyerTaxInformation only when listed
    )


async def test_a_hundred_orders_cost_one_mint(harness: Harness) -> None:
    for n in range(100):
        response = await harness.proxy.get(f"/orders/v0/orders/902-0000000-{n:07d}")
        assert response.status == 404  # Amazon looked, with the RDT
        response.release()
    assert mints(harness) == 1
    assert set(token_kinds(harness)) == {"rdt"}
    assert response.headers["x-spproxy-credential"] == "rdt-cached"


async def test_sixty_concurrent_cold_calls_cost_one_exchange_and_one_mint(harness: Harness) -> None:
    responses = await asyncio.gather(*(harness.proxy.get(ORDER) for _ in range(60)))
    assert {r.status for r in responses} == {200}
    assert harness.amazon.lwa_exchanges["refresh_token"] == 1
    assert mints(harness) == 1


@pytest.mark.parametrize(
    ("header", "email", "street"),
    [("none", False, False), ("shippingAddress", False, True), ("buyerInfo", True, False)],
)
async def test_a_request_narrows_the_data_elements(
    harness: Harness, header: str, email: bool, street: bool
) -> None:
    response = await harness.proxy.get(ORDER, headers={"x-spproxy-data-elements": header})
    assert response.status == 200
    text = await response.text()
    assert (BUYER_EMAIL in text, STREET in text) == (email, street)
    assert harness.amazon.requests[-1].token_kind == ("lwa" if header == "none" else "rdt")
    assert mints(harness) == (0 if header == "none" else 1)
    assert "x-spproxy-data-elements" not in harness.amazon.requests[-1].headers


async def test_unknown_data_elements_are_a_400(harness: Harness) -> None:
    response = await harness.proxy.get(ORDER, headers={"x-spproxy-data-elements": "buyerEmail"})
    assert response.status == 400
    assert "buyerEmail" in (await response.json())["errors"][0]["message"]
    assert harness.amazon.requests == []


async def test_one_mint_bundles_what_the_account_used_recently(harness: Harness) -> None:
    for path in (ORDER, f"{ORDER}/address", f"{ORDER}/buyerInfo"):
        assert (await harness.proxy.get(path)).status == 200
    bundles = [{r.path for r in m.restricted_resources} for m in harness.amazon.rdt_mints]
    assert bundles[2] == {
        "/orders/v0/orders/{orderId}",
        "/orders/v0/orders/{orderId}/address",
        "/orders/v0/orders/{orderId}/buyerInfo",
    }
    assert (await harness.proxy.get(f"{ORDER}/address")).headers["x-spproxy-credential"] == (
        "rdt-cached"
    )


async def test_a_refused_bundle_is_retried_alone_and_the_refusal_remembered(
    start: StartHarness,
) -> None:
    harness = await start(EmulatorConfig(denied_paths=frozenset({MFN_SHIPMENT})))
    assert (await harness.proxy.get(ORDER)).status == 200
    response = await harness.proxy.get("/mfn/v0/shipments/abc")
    assert response.status == 502
    error = (await response.json())["errors"][0]
    assert error["code"] == "RestrictedDataTokenRefused"
    assert (
        "does not have the role" in error["message"]
        and "x-spproxy-data-elements" in error["details"]
    )
    assert len(harness.amazon.refused_mints) == 2  # the bundle, then the resource alone
    # The account's other operations still get their RDTs, bundled without the refused one.
    assert (await harness.proxy.get(f"{ORDER}/address")).status == 200
    assert all(r.path != MFN_SHIPMENT for r in harness.amazon.rdt_mints[-1].restricted_resources)
    # And the refused resource is not minted again for a while.
    assert (await harness.proxy.get("/mfn/v0/shipments/abc")).status == 502
    assert len(harness.amazon.refused_mints) == 2


async def test_lwa_fallback_serves_the_order_without_pii(
    start: StartHarness, caplog: pytest.LogCaptureFixture
) -> None:
    denied = EmulatorConfig(denied_data_elements=frozenset({"shippingAddress"}))
    strict = await start(denied)
    response = await strict.proxy.get(ORDER)
    assert response.status == 502
    assert "shippingAddress" in (await response.json())["errors"][0]["message"]

    lenient = await start(denied, restricted_fallback="lwa")
    response = await lenient.proxy.get(ORDER)
    assert response.status == 200
    assert response.headers["x-spproxy-credential"] == "lwa"
    text = await response.text()
    assert BUYER_EMAIL not in text and STREET not in text
    assert "restricted_fallback: lwa" in caplog.text


async def test_restricted_report_document_after_get_report(harness: Harness) -> None:
    report = await harness.proxy.get(f"/reports/2021-06-30/reports/{SHIPPING_REPORT}")
    assert (await report.json())["reportDocumentId"] == SHIPPING_ORDERS_DOCUMENT
    response = await harness.proxy.get(f"{DOCUMENTS}/{SHIPPING_ORDERS_DOCUMENT}")
    assert response.status == 200
    assert response.headers["x-spproxy-credential"] == "rdt-minted"
    assert token_kinds(harness) == ["lwa", "rdt"]  # no 403 first
    (resource,) = harness.amazon.rdt_mints[0].restricted_resources
    assert resource.path == f"{DOCUMENTS}/{SHIPPING_ORDERS_DOCUMENT}"  # its own path only


async def test_restricted_report_document_without_get_report(harness: Harness) -> None:
    response = await harness.proxy.get(f"{DOCUMENTS}/{SHIPPING_ORDERS_DOCUMENT}")
    assert response.status == 200
    assert response.headers["x-spproxy-credential"] == "rdt-minted"
    assert token_kinds(harness) == ["lwa", "rdt"]  # 403, then the RDT
    again = await harness.proxy.get(f"{DOCUMENTS}/{SHIPPING_ORDERS_DOCUMENT}")
    assert again.headers["x-spproxy-credential"] == "rdt-cached"
    assert len(token_kinds(harness)) == 3  # learned: no second 403


async def test_report_type_hint_and_ordinary_documents(harness: Harness) -> None:
    hinted = await harness.proxy.get(
        f"{DOCUMENTS}/{SHIPPING_ORDERS_DOCUMENT}",
        headers={"x-spproxy-report-type": "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"},
    )
    assert hinted.status == 200 and hinted.headers["x-spproxy-credential"] == "rdt-minted"
    ordinary = await harness.proxy.get(f"{DOCUMENTS}/{LISTINGS_DOCUMENT}")
    assert ordinary.status == 200 and ordinary.headers["x-spproxy-credential"] == "lwa"
    assert token_kinds(harness) == ["rdt", "lwa"]
    assert mints(harness) == 1


async def test_delegation(harness: Harness) -> None:
    """A delegator mints for a target application through spproxy; a delegatee brings its RDT."""
    minted = await harness.proxy.post(
        "/tokens/2021-03-01/restrictedDataToken",
        json={
            "targetApplication": "amzn1.sp.solution.delegatee",
            "restrictedResources": [
                {"method": "GET", "path": "/orders/v0/orders/{orderId}/address"}
            ],
        },
    )
    assert minted.status == 200
    assert minted.headers["x-spproxy-operation"] == "createRestrictedDataToken"
    assert minted.headers["x-spproxy-credential"] == "lwa"
    rdt = (await minted.json())["restrictedDataToken"]
    assert harness.amazon.rdt_mints[0].target_application == "amzn1.sp.solution.delegatee"

    response = await harness.proxy.get(f"{ORDER}/address", headers={"x-spproxy-rdt": rdt})
    assert response.status == 200 and STREET in await response.text()
    assert response.headers["x-spproxy-credential"] == "delegated"
    received = harness.amazon.requests[-1]
    assert received.headers["x-amz-access-token"] == rdt
    assert "x-spproxy-rdt" not in received.headers
    assert mints(harness) == 1  # spproxy minted nothing itself


async def test_status_counts_cached_rdts_shows_a_page_and_never_a_token(harness: Harness) -> None:
    await harness.proxy.get(ORDER)
    await harness.proxy.get(f"{ORDER}/address")
    response = await harness.proxy.get("/_spproxy/status")
    assert response.status == 200
    text = await response.text()
    status = await response.json()
    account = status["accounts"]["main"]
    assert account["region"] == "na" and account["lwa_token_expires_at"].endswith("Z")
    assert account["restricted_data_tokens"] == 2  # one RDT, bundled for both resources
    rdts = status["restricted_data_tokens"]
    assert rdts["cached"] == 2 and rdts["report_documents"] == 0
    assert {(r["account"], r["path"], tuple(r.get("dataElements", ()))) for r in rdts["page"]} == {
        ("main", "/orders/v0/orders/{orderId}", ("buyerInfo", "shippingAddress")),
        ("main", "/orders/v0/orders/{orderId}/address", ()),
    }
    assert all(r["expires_at"].endswith("Z") for r in rdts["page"])
    assert status["rdt_mints"] == 2
    for token in [*harness.amazon.tokens, DEMO_REFRESH_TOKEN, DEMO_CLIENT_SECRET]:
        assert token not in text


ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def outbound() -> AsyncIterator[tuple[aiohttp.ClientSession, Http1Client]]:
    """LWA's session and the Tokens API's client, closed after the test."""
    async with aiohttp.ClientSession() as session:
        client = Http1Client(proxy=None, trust_env=False)
        try:
            yield session, client
        finally:
            await client.aclose()


def _rdts(
    calls: tuple[aiohttp.ClientSession, Http1Client],
    url: str,
    clock: FakeClock,
    shared: SharedState | None = None,
    **options: Any,
) -> RestrictedDataTokens:
    """The real RDT machinery against the emulator at `url`, on a fake clock; with `shared`,
    LWA tokens and RDTs shared with other replicas."""
    session, client = calls
    lwa = LwaTokens(
        session,
        LwaConfig(DEMO_CLIENT_ID, Secret(DEMO_CLIENT_SECRET), f"{url}/auth/o2/token"),
        timeout_s=5,
        clock=clock,
        shared=shared,
    )
    upstream = Upstream(
        client,
        config=UpstreamConfig(pacing=False),
        user_agent="t/1 (Language=Python/3)",
        signers={},
        limiter=RateLimiter(queue_timeout_s=1),
    )
    mint = TokensApi(upstream, lwa, operation=None, clock=clock).mint
    return RestrictedDataTokens(mint, clock=clock, shared=shared, **options)


async def _minted_per_hour(aiohttp_server: ServerFactory, bundle_limit: int) -> int:
    """Mints for 3 resources used every hour, over 3 hours (a fake clock)."""
    server = await aiohttp_server(make_emulator_app())
    url = str(server.make_url("")).rstrip("/")
    clock = FakeClock()
    account = Account("main", Secret(DEMO_REFRESH_TOKEN), "na", url, REGIONS["na"].aws_region)
    resources = [
        Resource("GET", "/orders/v0/orders/{orderId}", ("buyerInfo",)),
        Resource("GET", "/orders/v0/orders/{orderId}/address"),
        Resource("GET", "/mfn/v0/shipments/{shipmentId}"),
    ]
    async with outbound() as calls:
        rdts = _rdts(calls, url, clock, bundle_limit=bundle_limit)
        for _hour in range(3):
            for resource in resources:
                await rdts.token(account, resource)
            clock.now += 3600
    assert len(server.app[STATE_KEY].rdt_mints) == rdts.mints
    return rdts.mints


async def test_bundling_makes_one_mint_serve_the_hour(aiohttp_server: ServerFactory) -> None:
    # Hour 1: each new resource mints (with the others); hours 2 and 3: one mint each.
    assert await _minted_per_hour(aiohttp_server, bundle_limit=50) == 3 + 1 + 1
    assert await _minted_per_hour(aiohttp_server, bundle_limit=1) == 3 * 3


async def test_the_tokens_api_down_keeps_serving_a_still_valid_rdt(
    aiohttp_server: ServerFactory,
) -> None:
    server = await aiohttp_server(make_emulator_app())
    amazon = server.app[STATE_KEY]
    url = str(server.make_url("")).rstrip("/")
    clock = FakeClock()
    account = Account("main", Secret(DEMO_REFRESH_TOKEN), "na", url, REGIONS["na"].aws_region)
    resource = Resource("GET", "/orders/v0/orders/{orderId}/address")
    async with outbound() as calls:
        rdts = _rdts(calls, url, clock, margin_s=60, refresh_ahead_s=300)
        first, _ = await rdts.token(account, resource)
        amazon.faults.tokens_api_down()
        clock.now += 3600 - 30  # inside the margin: a mint is due, and the Tokens API fails
        assert await rdts.token(account, resource) == (first, False)
        clock.now += 31
        with pytest.raises(TokensApiUnavailable):
            await rdts.token(account, resource)


async def test_the_cache_is_bounded_least_recently_used_first_and_drops_expired_rdts(
    aiohttp_server: ServerFactory,
) -> None:
    server = await aiohttp_server(make_emulator_app())
    url = str(server.make_url("")).rstrip("/")
    clock = FakeClock()
    account = Account("main", Secret(DEMO_REFRESH_TOKEN), "na", url, REGIONS["na"].aws_region)
    documents = [
        Resource("GET", f"/reports/2021-06-30/documents/{document}")
        for document in (LISTINGS_DOCUMENT, SHIPPING_ORDERS_DOCUMENT, "doc-3", "doc-4", "doc-5")
    ]
    async with outbound() as calls:
        rdts = _rdts(calls, url, clock, document_limit=3)
        for document in documents:
            await rdts.token(account, document)
            await rdts.token(account, documents[0])  # kept in use: never the one to go
        snapshot = rdts.snapshot(page=2)
        assert (snapshot["cached"], snapshot["report_documents_limit"]) == (3, 3)
        assert len(snapshot["page"]) == 2
        assert rdts.counts() == {"main": 3}
        assert rdts.mints == 5
        assert await rdts.token(account, documents[0]) == (await rdts.token(account, documents[0]))
        assert rdts.mints == 5  # still cached
        clock.now += 3600  # every RDT expired: none is kept, none is served
        assert rdts.snapshot(page=2)["cached"] == 0
        await rdts.token(account, documents[0])
        assert rdts.mints == 6


ORDER_RESOURCE = Resource("GET", "/orders/v0/orders/{orderId}", ("buyerInfo",))
ADDRESS = Resource("GET", "/orders/v0/orders/{orderId}/address")


@dataclass
class Replicas:
    """RDT replicas against one emulator, each with its own shared state on one Redis."""

    rdts: list[RestrictedDataTokens]
    amazon: EmulatorState
    account: Account

    def covered(self, rdt: str) -> set[str]:
        """The paths the RDT was minted for."""
        return {r.path for r in self.amazon.tokens[rdt].restricted_resources}


@asynccontextmanager
async def rdt_replicas(
    aiohttp_server: ServerFactory, redis_url: str, count: int, config: EmulatorConfig | None = None
) -> AsyncIterator[Replicas]:
    server = await aiohttp_server(make_emulator_app(config or EmulatorConfig()))
    url = str(server.make_url("")).rstrip("/")
    clock = FakeClock()
    account = Account("main", Secret(DEMO_REFRESH_TOKEN), "na", url, REGIONS["na"].aws_region)
    async with outbound() as calls, shared_states(redis_url, count) as states:
        rdts = [_rdts(calls, url, clock, state) for state in states]
        yield Replicas(rdts, server.app[STATE_KEY], account)


async def test_replicas_mint_once_per_resource(
    aiohttp_server: ServerFactory, redis_url: str
) -> None:
    async with rdt_replicas(aiohttp_server, redis_url, 3) as replicas:
        asked = [rdts.token(replicas.account, ADDRESS) for rdts in replicas.rdts]
        assert len({rdt for rdt, _ in await asyncio.gather(*asked)}) == 1
        amazon = replicas.amazon
        assert (len(amazon.rdt_mints), amazon.lwa_exchanges["refresh_token"]) == (1, 1)
        assert sum(rdts.mints for rdts in replicas.rdts) == 1
        snapshot = await redis_snapshot(redis_url)
    assert len(snapshot) == 2  # the RDT and the LWA token for the mint
    for secret in [*amazon.tokens, DEMO_REFRESH_TOKEN]:
        assert all(secret.encode() not in key + value for key, value in snapshot.items())


async def test_a_bundle_one_replica_minted_serves_each_of_its_resources_everywhere(
    aiohttp_server: ServerFactory, redis_url: str
) -> None:
    async with rdt_replicas(aiohttp_server, redis_url, 2) as replicas:
        minting, other = replicas.rdts
        await minting.token(replicas.account, ORDER_RESOURCE)
        bundle, _ = await minting.token(replicas.account, ADDRESS)  # ADDRESS + ORDER_RESOURCE
        assert replicas.covered(bundle) == {ORDER_RESOURCE.path, ADDRESS.path}
        assert await other.token(replicas.account, ORDER_RESOURCE) == (bundle, True)
        assert await other.token(replicas.account, ADDRESS) == (bundle, True)
        assert len(replicas.amazon.rdt_mints) == 2 and other.mints == 0


async def test_an_rdt_from_redis_serves_only_the_resource_it_was_asked_for(
    aiohttp_server: ServerFactory, redis_url: str
) -> None:
    async with rdt_replicas(aiohttp_server, redis_url, 2) as replicas:
        minting, other = replicas.rdts
        order_only, _ = await minting.token(replicas.account, ORDER_RESOURCE)
        replicas.amazon.faults.tokens_api_down()
        with pytest.raises(TokensApiUnavailable):  # ADDRESS: recently used, so bundled next
            await other.token(replicas.account, ADDRESS)
        replicas.amazon.faults.clear()
        # A fetch for ORDER_RESOURCE with ADDRESS, answered from Redis: ORDER_RESOURCE only.
        assert await other.token(replicas.account, ORDER_RESOURCE) == (order_only, True)
        address, minted = await other.token(replicas.account, ADDRESS)
        assert minted and ADDRESS.path in replicas.covered(address)
        assert len(replicas.amazon.rdt_mints) == 2


async def test_a_waiter_joining_a_fetch_that_redis_answered_gets_its_own_rdt(
    aiohttp_server: ServerFactory, redis_url: str
) -> None:
    async with rdt_replicas(aiohttp_server, redis_url, 2) as replicas:
        minting, other = replicas.rdts
        await minting.token(replicas.account, ORDER_RESOURCE)
        asked = [other.token(replicas.account, r) for r in (ORDER_RESOURCE, ADDRESS)]
        for (rdt, _), resource in zip(
            await asyncio.gather(*asked), (ORDER_RESOURCE, ADDRESS), strict=True
        ):
            assert resource.path in replicas.covered(rdt)
        assert len(replicas.amazon.rdt_mints) == 2


async def test_a_refusal_one_replica_met_spares_the_others_the_mint(
    aiohttp_server: ServerFactory, redis_url: str
) -> None:
    shipment = Resource("GET", MFN_SHIPMENT)
    denied = EmulatorConfig(denied_paths=frozenset({MFN_SHIPMENT}))
    async with rdt_replicas(aiohttp_server, redis_url, 2, denied) as replicas:
        for rdts in replicas.rdts:
            with pytest.raises(RdtRefused, match="does not have the role"):
                await rdts.token(replicas.account, shipment)
        assert len(replicas.amazon.refused_mints) == 1


async def test_an_rdt_amazon_refused_is_dropped_for_every_replica(
    aiohttp_server: ServerFactory, redis_url: str
) -> None:
    async with rdt_replicas(aiohttp_server, redis_url, 2) as replicas:
        first, late = replicas.rdts
        refused, _ = await first.token(replicas.account, ADDRESS)
        assert (await late.token(replicas.account, ADDRESS))[0] == refused
        await first.invalidate(replicas.account, refused)
        renewed, minted = await first.token(replicas.account, ADDRESS)
        assert minted and renewed != refused
        await late.invalidate(replicas.account, refused)  # leaves the renewed one
        assert (await late.token(replicas.account, ADDRESS))[0] == renewed
        assert len(replicas.amazon.rdt_mints) == 2


async def test_redis_down_leaves_each_replica_minting_alone(aiohttp_server: ServerFactory) -> None:
    server = await aiohttp_server(make_emulator_app())
    url = str(server.make_url("")).rstrip("/")
    clock = FakeClock()
    account = Account("main", Secret(DEMO_REFRESH_TOKEN), "na", url, REGIONS["na"].aws_region)
    state = shared_state(unreachable_url())
    try:
        async with outbound() as calls:
            rdts = _rdts(calls, url, clock, state)
            rdt, minted = await rdts.token(account, ADDRESS)
            assert minted and await rdts.token(account, ADDRESS) == (rdt, False)
        assert len(server.app[STATE_KEY].rdt_mints) == rdts.mints == 1
    finally:
        await state.aclose()


async def test_a_request_whose_redis_read_outlasts_a_mint_takes_that_mint(
    aiohttp_server: ServerFactory, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with rdt_replicas(aiohttp_server, redis_url, 1) as replicas:
        (rdts,) = replicas.rdts
        first_served = asyncio.Event()
        recall = rdts._refused.recall
        readers = 0

        async def slow_second_read(key: Any) -> Any:
            nonlocal readers
            readers += 1
            if readers == 2:  # this request's read of the refusals ends after the first mint
                await first_served.wait()
            return await recall(key)

        monkeypatch.setattr(rdts._refused, "recall", slow_second_read)
        second = asyncio.create_task(rdts.token(replicas.account, ADDRESS))
        first = await rdts.token(replicas.account, ADDRESS)
        first_served.set()
        assert (await second)[0] == first[0]
        assert len(replicas.amazon.rdt_mints) == 1
