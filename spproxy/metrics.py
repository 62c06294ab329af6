"""Prometheus metrics: counted in process on the hot path, turned into families at scrape time.

    spproxy_requests_total{account,OP,status,origin}            answers, by who made them
    spproxy_requests_in_flight                                  requests being handled now
    spproxy_upstream_latency_seconds{OP}                        histogram, to the answer's headers
    spproxy_credentials_total{kind}                             lwa, grantless, rdt-cached, ...
    spproxy_lwa_exchanges_total{outcome}                        ok, refused, unavailable
    spproxy_rdt_mints_total{outcome}                            ok, refused, unavailable
    spproxy_lwa_token_expiry_timestamp_seconds{account}         when each account's token expires
    spproxy_lwa_token_failing{account}                          1: its last exchange failed
    spproxy_ready                                               1 while /_spproxy/ready is 200
    spproxy_client_rdts_replaced_total                          RDTs clients minted and sent back
    spproxy_upstream_throttled_total{account,OP}                Amazon's 429s (each attempt)
    spproxy_upstream_retries_total{reason}                      retries, by status or "connection"
    spproxy_rate_limit_waits_total{account,OP}                  requests that waited for a slot
    spproxy_rate_limit_wait_seconds_total{account,OP}           and how long, in all
    spproxy_rate_limit_waiting{account,OP}                      waiting now
    spproxy_build_info{version,python,aiohttp}                  1
    process_*                                                   prometheus_client's ProcessCollector

OP is one vocabulary in every family: `operation` (the model's operationId, as the access log and
x-spproxy-operation say it), `api` and `version` (operation names repeat across APIs: getShipment,
getOrders). A path no operation has is operation="unknown", and a request answered before it was
classified (spproxy's own endpoints, a bad target, an unknown account) operation="-"; both with
empty api and version.

Every label set is bounded, whatever clients send: `account` is a configured account's name (or
"-" before one was chosen), OP a row of the operation table (or "unknown", "-"), `status` an HTTP
status, and `origin` (amazon, proxy, client), `kind` (lwa, grantless, rdt-cached, rdt-minted,
delegated), `outcome` (ok, refused, unavailable) and `reason` (a retried status, "connection")
come from fixed sets. Never a path id, a query value, a client's name, a token or a key.

A request costs a few increments of plain counters (`Metrics.observe`). At scrape time a
`Collector` yields the families from them and from what the rest of the pipeline counts
(`Readings`), and prometheus_client renders them (`generate_latest`, which escapes label values).
Each proxy owns its `CollectorRegistry`: no global registry, so several apps in one process (the
tests) never collide.
"""

from __future__ import annotations

import bisect
import platform
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass

import aiohttp
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from spproxy import __version__
from spproxy.errors import OUTCOMES, Outcome
from spproxy.logs import AccessRecord
from spproxy.operations import QualifiedName
from spproxy.ratelimit import Bucket, BucketKey

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # what generate_latest writes
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LE = (*map(floatToGoString, LATENCY_BUCKETS), "+Inf")  # the histogram's `le` labels, once
OPERATION = ("operation", "api", "version")  # the labels naming an operation, in every family


class Histogram:
    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)  # the last: above every bound
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(LATENCY_BUCKETS, value)] += 1
        self.sum += value


class Metrics:
    """What the hot path counts: plain counters, no locks, no formatting."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, QualifiedName, int, str]] = Counter()
        self.latency: dict[QualifiedName, Histogram] = {}
        self.credentials: Counter[str] = Counter()
        self.in_flight = 0  # requests being handled now

    def observe(self, access: AccessRecord, operation: QualifiedName) -> None:
        """One answered request, as its access record tells it, and its operation."""
        self.requests[(access.account, operation, access.status, access.origin)] += 1
        if access.upstream_ms is not None:
            histogram = self.latency.get(operation)
            if histogram is None:
                histogram = self.latency[operation] = Histogram()
            histogram.observe(access.upstream_ms / 1000)
        if access.credential is not None:
            self.credentials[access.credential] += 1


@dataclass(frozen=True)
class Readings:
    """What the rest of the pipeline counts, read at scrape time."""

    lwa_exchanges: Mapping[Outcome, int]
    rdt_mints: Mapping[Outcome, int]
    client_rdts_replaced: int
    buckets: Mapping[BucketKey, Bucket]
    throttled: Mapping[BucketKey, int]
    retries: Mapping[str, int]
    token_expiry: Mapping[str, float]  # account name -> when its LWA token expires (time.time())
    token_failing: Collection[str]  # accounts whose last LWA exchange failed
    ready: bool  # what /_spproxy/ready says, by the configured rule
    shared_state_up: bool | None  # whether Redis answers; None: no shared state configured


class SpproxyCollector(Collector):
    def __init__(self, metrics: Metrics, read: Callable[[], Readings]) -> None:
        self._metrics = metrics
        self._read = read
        self._build = {
            "version": __version__,
            "python": platform.python_version(),
            "aiohttp": aiohttp.__version__,
        }

    def collect(self) -> Iterator[Metric]:
        readings = self._read()
        yield InfoMetricFamily("spproxy_build", "spproxy's version and its runtime's.", self._build)
        yield from _request_families(self._metrics)
        yield from _token_source_families(readings)
        yield from _upstream_families(readings)
        yield from _health_families(readings)


def _request_families(metrics: Metrics) -> Iterator[Metric]:
    """What the hot path counts: requests in flight and answered, Amazon's latency, credentials."""
    yield GaugeMetricFamily(
        "spproxy_requests_in_flight", "Requests being handled now.", metrics.in_flight
    )
    requests = CounterMetricFamily(
        "spproxy_requests_total",
        "Requests answered.",
        labels=("account", *OPERATION, "status", "origin"),
    )
    for (account, operation, status, origin), n in sorted(metrics.requests.items()):
        requests.add_metric((account, *operation, str(status), origin), n)
    yield requests
    latency = HistogramMetricFamily(
        "spproxy_upstream_latency_seconds", "Amazon's answer time.", labels=OPERATION
    )
    for operation, histogram in sorted(metrics.latency.items()):
        cumulative, counts = 0, []
        for le, count in zip(LE, histogram.counts, strict=True):
            cumulative += count
            counts.append((le, float(cumulative)))
        latency.add_metric(operation, counts, histogram.sum)
    yield latency
    yield _by_label(
        CounterMetricFamily,
        "spproxy_credentials_total",
        "Credentials used, by kind.",
        "kind",
        metrics.credentials,
    )


def _token_source_families(readings: Readings) -> Iterator[Metric]:
    """LWA exchanges and RDT mints by outcome; the RDTs clients brought."""
    yield _by_outcome(
        "spproxy_lwa_exchanges_total",
        "LWA token exchanges by outcome: ok; refused (LWA answered an error code: "
        "invalid_grant, invalid_client, ...); unavailable (unreachable, 5xx, 429, or an "
        "answer without a token).",
        readings.lwa_exchanges,
    )
    yield _by_outcome(
        "spproxy_rdt_mints_total",
        "Restricted Data Token mints by outcome: ok; refused (the Tokens API said no, or LWA "
        "refused the token for the call); unavailable (unreachable, 5xx, 429, or an answer "
        "without a token).",
        readings.rdt_mints,
    )
    yield CounterMetricFamily(
        "spproxy_client_rdts_replaced_total",
        "Requests that brought an RDT the client minted itself (a wasted Tokens API call "
        "each); spproxy sent its own credential.",
        readings.client_rdts_replaced,
    )


def _upstream_families(readings: Readings) -> Iterator[Metric]:
    """Amazon's 429s, retries, and the rate limiter's waits."""
    yield _per_bucket(
        CounterMetricFamily,
        "spproxy_upstream_throttled_total",
        "Amazon's 429s.",
        readings.throttled,
    )
    yield _by_label(
        CounterMetricFamily,
        "spproxy_upstream_retries_total",
        "Retries, by reason.",
        "reason",
        readings.retries,
    )
    buckets = readings.buckets
    yield _per_bucket(
        CounterMetricFamily,
        "spproxy_rate_limit_waits_total",
        "Requests that waited.",
        {key: bucket.waits for key, bucket in buckets.items()},
    )
    yield _per_bucket(
        CounterMetricFamily,
        "spproxy_rate_limit_wait_seconds_total",
        "Time waited.",
        {key: bucket.waited_s for key, bucket in buckets.items()},
    )
    yield _per_bucket(
        GaugeMetricFamily,
        "spproxy_rate_limit_waiting",
        "Waiting now.",
        {key: bucket.waiting for key, bucket in buckets.items()},
    )


def _health_families(readings: Readings) -> Iterator[Metric]:
    """Each account's LWA token: when it expires, whether it fails; readiness."""
    yield _by_label(
        GaugeMetricFamily,
        "spproxy_lwa_token_expiry_timestamp_seconds",
        "When each account's LWA token expires (Unix time); no sample while it has none.",
        "account",
        readings.token_expiry,
    )
    yield _by_label(
        GaugeMetricFamily,
        "spproxy_lwa_token_failing",
        "1 for each account whose last LWA exchange failed (retried in the background).",
        "account",
        dict.fromkeys(readings.token_failing, 1),
    )
    yield GaugeMetricFamily("spproxy_ready", "1 while /_spproxy/ready says 200.", readings.ready)
    if readings.shared_state_up is not None:
        yield GaugeMetricFamily(
            "spproxy_shared_state_up",
            "1 while the shared state (Redis) answers; 0: serving on local state.",
            readings.shared_state_up,
        )


def _by_label(
    family: type[CounterMetricFamily] | type[GaugeMetricFamily],
    name: str,
    help_text: str,
    label: str,
    values: Mapping[str, float],
) -> Metric:
    metric = family(name, help_text, labels=(label,))
    for key, value in sorted(values.items()):
        metric.add_metric((key,), value)
    return metric


def _by_outcome(name: str, help_text: str, counts: Mapping[Outcome, int]) -> Metric:
    metric = CounterMetricFamily(name, help_text, labels=("outcome",))
    for outcome in OUTCOMES:  # all three from the start, so that rate() sees the first failure
        metric.add_metric((outcome,), counts.get(outcome, 0))
    return metric


def _per_bucket(
    family: type[CounterMetricFamily] | type[GaugeMetricFamily],
    name: str,
    help_text: str,
    values: Mapping[BucketKey, float],
) -> Metric:
    metric = family(name, help_text, labels=("account", *OPERATION))
    for (account, operation), value in sorted(values.items()):
        metric.add_metric((account, *operation), value)
    return metric


def make_registry(metrics: Metrics, read: Callable[[], Readings]) -> CollectorRegistry:
    """A registry of one proxy's own."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SpproxyCollector(metrics, read))
    ProcessCollector(registry=registry)  # CPU seconds, memory, open fds, start time (Linux)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The text format (0.0.4) of everything in the registry: `CONTENT_TYPE`."""
    return generate_latest(registry)
