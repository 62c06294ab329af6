"""/_spproxy/metrics, read by a real Prometheus parser."""

from __future__ import annotations

import asyncio
import platform
import time
from dataclasses import replace
from types import MappingProxyType

import aiohttp
from aiohttp import ClientResponse
from prometheus_client.parser import text_string_to_metric_families

from spproxy import __version__
from spproxy.config import Secret, UpstreamConfig
from spproxy.emulator import EmulatorConfig
from spproxy.proxy import PROXY
from tests.harness import Samples, StartHarness, scrape

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
ADDRESS = "/orders/v0/orders/902-1845936-5435065/address"
GET_PARTICIPATIONS = {
    "operation": "getMarketplaceParticipations",
    "api": "Sellers",
    "version": "v1",
}
GET_ADDRESS = {"operation": "getOrderAddress", "api": "Orders", "version": "v0"}
UNKNOWN = {"operation": "unknown", "api": "", "version": ""}


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


async def test_a_prometheus_parser_reads_the_metrics(start: StartHarness) -> None:
    harness = await start(
        EmulatorConfig(rate_limits=True),
        upstream=UpstreamConfig(pacing=True, backoff_s=0.01),
    )
    harness.amazon.faults.fail(503)
    for path in (PARTICIPATIONS, PARTICIPATIONS, ADDRESS, ADDRESS, "/x/y"):
        await harness.proxy.get(path)
    inventory = (
        "/fba/inventory/v1/summaries?granularityType=Marketplace&granularityId=A&marketplaceIds=A"
    )
    for _ in range(3):  # 2 per second, burst 2: the third waits for its slot
        await harness.proxy.get(inventory)
    response = await harness.proxy.get("/_spproxy/metrics")
    assert response.status == 200 and response.content_type == "text/plain"
    got = await scrape(harness.proxy)

    def value(name: str, **labels: str) -> float:
        return got[key(name, **labels)]

    ok = {"account": "main", "status": "200", "origin": "amazon"}
    assert value("spproxy_requests_total", **GET_PARTICIPATIONS, **ok) == 2
    assert value("spproxy_requests_total", **GET_ADDRESS, **ok) == 2
    not_found = {"account": "main", "status": "404", "origin": "amazon"}
    assert value("spproxy_requests_total", **UNKNOWN, **not_found) == 1
    assert value("spproxy_upstream_retries_total", reason="503") == 1
    assert value("spproxy_lwa_exchanges_total", outcome="ok") == 1
    assert value("spproxy_rdt_mints_total", outcome="ok") == 1
    assert value("spproxy_credentials_total", kind="rdt-minted") == 1
    assert value("spproxy_credentials_total", kind="rdt-cached") == 1
    assert value("spproxy_upstream_latency_seconds_count", **GET_PARTICIPATIONS) == 2
    assert value("spproxy_upstream_latency_seconds_bucket", le="+Inf", **GET_PARTICIPATIONS) == 2
    bucket = {
        "account": "main",
        "operation": "getInventorySummaries",
        "api": "FBA Inventory",
        "version": "v1",
    }
    assert value("spproxy_rate_limit_waits_total", **bucket) == 1
    assert value("spproxy_rate_limit_wait_seconds_total", **bucket) > 0
    assert value("spproxy_rate_limit_waiting", **bucket) == 0
    assert harness.amazon.quota_refusals == 0


CATALOG_SEARCH = "/catalog/2022-04-01/items?marketplaceIds=ATVPDKIKX0DER&keywords=samsung%20tv"
SEARCH = {"operation": "searchCatalogItems", "api": "Catalog Items", "version": "2022-04-01"}
PER_OPERATION = {  # every family with an operation label, and the samples that carry it
    "spproxy_requests_total",
    "spproxy_upstream_latency_seconds_bucket",
    "spproxy_upstream_latency_seconds_count",
    "spproxy_upstream_latency_seconds_sum",
    "spproxy_upstream_throttled_total",
    "spproxy_rate_limit_waits_total",
    "spproxy_rate_limit_wait_seconds_total",
    "spproxy_rate_limit_waiting",
}


async def test_an_operation_has_one_name_in_every_family_and_in_the_status(
    start: StartHarness,
) -> None:
    """searchCatalogItems is also Catalog Items v2020-12-01's: the API and version go with it."""
    harness = await start(
        EmulatorConfig(rate_limits=True),
        upstream=UpstreamConfig(pacing=True, backoff_s=0.01),
    )
    harness.amazon.faults.fail(429)  # throttled once, then retried
    response = await harness.proxy.get(CATALOG_SEARCH)
    assert response.status == 200
    assert response.headers["x-spproxy-operation"] == "searchCatalogItems"
    unknown = await harness.proxy.get("/x/y")
    assert unknown.status == 404 and unknown.headers["x-spproxy-operation"] == "unknown"

    got = await scrape(harness.proxy)
    named: dict[str, set[tuple[str, str, str]]] = {}
    for name, labels in got:
        fields = dict(labels)
        if "operation" in fields:
            names = named.setdefault(name, set())
            names.add((fields["operation"], fields["api"], fields["version"]))
    search = tuple(SEARCH.values())
    # The unknown path went to Amazon too (its 404), paced by a bucket of its own; only the
    # search was throttled.
    assert named == {
        name: {search} if "throttled" in name else {search, tuple(UNKNOWN.values())}
        for name in PER_OPERATION
    }
    ok = {"account": "main", "status": "200", "origin": "amazon"}
    assert got[key("spproxy_requests_total", **SEARCH, **ok)] == 1
    assert got[key("spproxy_upstream_throttled_total", account="main", **SEARCH)] == 1

    status = await (await harness.proxy.get("/_spproxy/status")).json()
    buckets = {(b["operation"], b["api"], b["version"]) for b in status["buckets"]}
    assert buckets == {search, tuple(UNKNOWN.values())}


DESTINATIONS = "/notifications/v1/destinations"  # grantless: an exchange of its own
BUYER_INFO = "/orders/v0/orders/902-1845936-5435065/buyerInfo"
ITEMS_BUYER_INFO = "/orders/v0/orders/902-1845936-5435065/orderItems/buyerInfo"


def outcomes(got: Samples, name: str) -> dict[str, float]:
    return {
        dict(labels)["outcome"]: value for (sample, labels), value in got.items() if sample == name
    }


async def error_code(response: ClientResponse) -> str:
    assert response.status == 502
    return str((await response.json())["errors"][0]["code"])


async def test_lwa_exchanges_by_outcome(start: StartHarness) -> None:
    harness = await start()
    faults = harness.amazon.faults
    assert (await harness.proxy.get(PARTICIPATIONS)).status == 200  # the seller token: ok
    down = faults.lwa_down()  # 503
    assert await error_code(await harness.proxy.get(DESTINATIONS)) == "TokenExchangeFailed"
    down.clear()
    busy = faults.lwa_down(times=1, status=429)  # busy, not a refusal
    assert await error_code(await harness.proxy.get(DESTINATIONS)) == "TokenExchangeFailed"
    # The client secret was rotated elsewhere: LWA refuses the old one (invalid_client). (A
    # refresh token the seller revoked is refused alike, invalid_grant: a refusal of an
    # account's token, though, may be retried in the background, so it is not counted here.)
    faults.rotate_client_secret("rotated-secret")
    refused = await harness.proxy.get(DESTINATIONS)
    assert await error_code(refused) == "TokenExchangeFailed"
    assert "invalid_client" in (await refused.json())["errors"][0]["message"]

    got = await scrape(harness.proxy)
    exchanges = outcomes(got, "spproxy_lwa_exchanges_total")
    assert exchanges == {"ok": 1, "refused": 1, "unavailable": 2}
    assert (down.applied, busy.applied) == (1, 1)
    assert sum(harness.amazon.lwa_exchanges.values()) == exchanges["ok"]


async def test_rdt_mints_by_outcome(start: StartHarness) -> None:
    """refused: the Tokens API, or LWA for the call to it, said no; unavailable: it failed."""
    # The app lacks the role for shipping addresses.
    denied = frozenset({"/orders/v0/orders/{orderId}/address"})
    harness = await start(EmulatorConfig(denied_paths=denied))
    amazon, faults = harness.amazon, harness.amazon.faults
    assert await error_code(await harness.proxy.get(ADDRESS)) == "RestrictedDataTokenRefused"
    down = faults.tokens_api_down(times=1)
    assert await error_code(await harness.proxy.get(BUYER_INFO)) == "TokensApiUnavailable"
    assert (await harness.proxy.get(BUYER_INFO)).status == 200
    # The seller token expired and LWA refuses the old client secret: no token for the mint.
    faults.expire_tokens("lwa")
    faults.rotate_client_secret("rotated-secret")
    assert await error_code(await harness.proxy.get(ITEMS_BUYER_INFO)) == "TokenExchangeFailed"

    got = await scrape(harness.proxy)
    mints = outcomes(got, "spproxy_rdt_mints_total")
    assert mints == {"ok": 1, "refused": 2, "unavailable": 1}
    assert (len(amazon.rdt_mints), len(amazon.refused_mints), down.applied) == (1, 1, 1)


async def test_requests_in_flight(start: StartHarness) -> None:
    """Requests being handled now; scrapes and probes are not counted."""
    harness = await start()
    hold = harness.amazon.faults.hold(times=2)
    waiting = [asyncio.create_task(harness.proxy.get(PARTICIPATIONS)) for _ in range(2)]
    async with asyncio.timeout(20):  # a bound against a hang, not a measure
        await hold.arrived(2)
    assert (await scrape(harness.proxy))[("spproxy_requests_in_flight", ())] == 2
    hold.release()
    assert [(await answer).status for answer in waiting] == [200, 200]
    assert (await scrape(harness.proxy))[("spproxy_requests_in_flight", ())] == 0


FAMILIES = {  # name as the parser names it (counters without _total) -> type
    "spproxy_requests_in_flight": "gauge",
    "spproxy_requests": "counter",
    "spproxy_upstream_latency_seconds": "histogram",
    "spproxy_credentials": "counter",
    "spproxy_lwa_exchanges": "counter",
    "spproxy_rdt_mints": "counter",
    "spproxy_client_rdts_replaced": "counter",
    "spproxy_upstream_throttled": "counter",
    "spproxy_upstream_retries": "counter",
    "spproxy_rate_limit_waits": "counter",
    "spproxy_rate_limit_wait_seconds": "counter",
    "spproxy_rate_limit_waiting": "gauge",
    "spproxy_lwa_token_expiry_timestamp_seconds": "gauge",
    "spproxy_lwa_token_failing": "gauge",
    "spproxy_ready": "gauge",
    "spproxy_build_info": "gauge",
    # prometheus_client's ProcessCollector (Linux: it reads /proc)
    "process_virtual_memory_bytes": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge",
    "process_cpu_seconds": "counter",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
}


async def test_every_family_is_there_from_the_start_with_its_type_and_help(
    start: StartHarness,
) -> None:
    harness = await start()
    response = await harness.proxy.get("/_spproxy/metrics")
    families = list(text_string_to_metric_families(await response.text()))
    assert {family.name: family.type for family in families} == FAMILIES
    assert all(family.documentation for family in families)
    assert len(families) == len(FAMILIES)  # each once


async def test_token_expiry_build_and_process(start: StartHarness) -> None:
    harness = await start()
    assert (await harness.proxy.get(PARTICIPATIONS)).status == 200
    proxy = harness.proxy.app[PROXY]
    main = proxy.config.accounts["main"]
    revoked = replace(main, name="revoked", refresh_token=Secret("Atzr|revoked"))
    proxy.reconfigure(
        replace(proxy.config, accounts=MappingProxyType({"main": main, "revoked": revoked}))
    )
    assert (
        await harness.proxy.get(PARTICIPATIONS, headers={"x-spproxy-account": "revoked"})
    ).status == 502
    got = await scrape(harness.proxy)
    status = await (await harness.proxy.get("/_spproxy/status")).json()

    expiry = [
        (dict(labels), value)
        for (name, labels), value in got.items()
        if name == "spproxy_lwa_token_expiry_timestamp_seconds"
    ]
    assert [labels for labels, _ in expiry] == [{"account": "main"}]  # revoked: no token
    expires_at = expiry[0][1]
    assert (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at))
        == (status["accounts"]["main"]["lwa_token_expires_at"])
    )
    assert 0 < expires_at - time.time() <= 3600  # the emulator's tokens live an hour
    # the failing account is named; the proxy stays ready (the default rule: the default account)
    assert got[key("spproxy_lwa_token_failing", account="revoked")] == 1
    assert key("spproxy_lwa_token_failing", account="main") not in got
    assert got[key("spproxy_ready")] == 1

    build = {
        "version": __version__,
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
    }
    assert got[key("spproxy_build_info", **build)] == 1
    assert got[key("process_cpu_seconds_total")] > 0
    assert got[key("process_resident_memory_bytes")] > 0
    assert got[key("process_open_fds")] > 0
    assert 0 < got[key("process_start_time_seconds")] <= time.time()
