"""/_spproxy/metrics, read by a real Prometheus parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from spproxy.config import UpstreamConfig
from spproxy.emulator import EmulatorConfig
from tests.harness import StartHarness

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
ADDRESS = "/orders/v0/orders/902-1845936-5435065/address"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


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
    got = samples(await response.text())

    def value(name: str, **labels: str) -> float:
        return got[(name, tuple(sorted(labels.items())))]

    ok = {"account": "main", "status": "200", "origin": "amazon"}
    assert value("spproxy_requests_total", operation="getMarketplaceParticipations", **ok) == 2
    assert value("spproxy_requests_total", operation="getOrderAddress", **ok) == 2
    assert (
        value(
            "spproxy_requests_total",
            operation="unknown",
            account="main",
            status="404",
            origin="amazon",
        )
        == 1
    )
    assert value("spproxy_upstream_retries_total", reason="503") == 1
    assert value("spproxy_lwa_exchanges_total") == 1
    assert value("spproxy_rdt_mints_total") == 1
    assert value("spproxy_credentials_total", kind="rdt-minted") == 1
    assert value("spproxy_credentials_total", kind="rdt-cached") == 1
    count = value(
        "spproxy_upstream_latency_seconds_count", operation="getMarketplaceParticipations"
    )
    assert count == 2
    assert (
        value(
            "spproxy_upstream_latency_seconds_bucket",
            operation="getMarketplaceParticipations",
            le="+Inf",
        )
        == 2
    )
    bucket = {"account": "main", "operation": "getInventorySummaries (FBA Inventory v1)"}
    assert value("spproxy_rate_limit_waits_total", **bucket) == 1
    assert value("spproxy_rate_limit_wait_seconds_total", **bucket) > 0
    assert value("spproxy_rate_limit_waiting", **bucket) == 0
    assert harness.amazon.quota_refusals == 0
