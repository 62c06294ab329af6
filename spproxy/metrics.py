"""Prometheus metrics (text exposition format 0.0.4), counted in process, rendered on demand.

    spproxy_requests_total{account,operation,status,origin}     answers, by who made them
    spproxy_upstream_latency_seconds{operation}                 histogram, to the answer's headers
    spproxy_credentials_total{kind}                             lwa, grantless, rdt-cached, ...
    spproxy_lwa_exchanges_total, spproxy_rdt_mints_total        token traffic to Amazon
    spproxy_client_rdts_replaced_total                          RDTs clients minted and sent back
    spproxy_upstream_throttled_total{account,operation}         Amazon's 429s (each attempt)
    spproxy_upstream_retries_total{reason}                      retries, by status or "connection"
    spproxy_rate_limit_waits_total{account,operation}           requests that waited for a slot
    spproxy_rate_limit_wait_seconds_total{account,operation}    and how long, in all
    spproxy_rate_limit_waiting{account,operation}               waiting now

Label values are account and operation names and statuses: never a path id, token or key.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Mapping

from spproxy.logs import AccessRecord
from spproxy.ratelimit import Bucket, BucketKey

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Histogram:
    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)  # the last: above every bound
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(LATENCY_BUCKETS, value)] += 1
        self.sum += value


class Metrics:
    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, str, str]] = Counter()
        self.latency: dict[str, Histogram] = {}
        self.credentials: Counter[str] = Counter()

    def observe(self, access: AccessRecord) -> None:
        """One answered request, as its access record tells it."""
        self.requests[(access.account, access.operation, str(access.status), access.origin)] += 1
        if access.upstream_ms is not None:
            histogram = self.latency.get(access.operation)
            if histogram is None:
                histogram = self.latency[access.operation] = Histogram()
            histogram.observe(access.upstream_ms / 1000)
        if access.credential is not None:
            self.credentials[access.credential] += 1

    def render(
        self,
        *,
        lwa_exchanges: int,
        rdt_mints: int,
        client_rdts_replaced: int,
        buckets: Mapping[BucketKey, Bucket],
        throttled: Mapping[BucketKey, int],
        retries: Mapping[str, int],
    ) -> str:
        lines: list[str] = []
        _family(lines, "spproxy_requests_total", "counter", "Requests answered.")
        for (account, operation, status, origin), n in sorted(self.requests.items()):
            labels = _labels(account=account, operation=operation, status=status, origin=origin)
            lines.append(f"spproxy_requests_total{labels} {n}")
        _family(lines, "spproxy_upstream_latency_seconds", "histogram", "Amazon's answer time.")
        for operation, histogram in sorted(self.latency.items()):
            cumulative = 0
            for bound, count in zip((*LATENCY_BUCKETS, "+Inf"), histogram.counts, strict=True):
                cumulative += count
                labels = _labels(operation=operation, le=str(bound))
                lines.append(f"spproxy_upstream_latency_seconds_bucket{labels} {cumulative}")
            labels = _labels(operation=operation)
            lines.append(f"spproxy_upstream_latency_seconds_sum{labels} {histogram.sum}")
            lines.append(f"spproxy_upstream_latency_seconds_count{labels} {cumulative}")
        _family(lines, "spproxy_credentials_total", "counter", "Credentials used, by kind.")
        for kind, n in sorted(self.credentials.items()):
            lines.append(f"spproxy_credentials_total{_labels(kind=kind)} {n}")
        _family(lines, "spproxy_lwa_exchanges_total", "counter", "LWA token exchanges.")
        lines.append(f"spproxy_lwa_exchanges_total {lwa_exchanges}")
        _family(lines, "spproxy_rdt_mints_total", "counter", "Restricted Data Tokens minted.")
        lines.append(f"spproxy_rdt_mints_total {rdt_mints}")
        _family(
            lines,
            "spproxy_client_rdts_replaced_total",
            "counter",
            "Requests that brought an RDT the client minted itself (a wasted Tokens API call "
            "each); spproxy sent its own credential.",
        )
        lines.append(f"spproxy_client_rdts_replaced_total {client_rdts_replaced}")
        _per_bucket(lines, "spproxy_upstream_throttled_total", "Amazon's 429s.", throttled.items())
        _family(lines, "spproxy_upstream_retries_total", "counter", "Retries, by reason.")
        for reason, n in sorted(retries.items()):
            lines.append(f"spproxy_upstream_retries_total{_labels(reason=reason)} {n}")
        waits = [(key, bucket.waits) for key, bucket in buckets.items()]
        _per_bucket(lines, "spproxy_rate_limit_waits_total", "Requests that waited.", waits)
        waited = [(key, bucket.waited_s) for key, bucket in buckets.items()]
        _per_bucket(lines, "spproxy_rate_limit_wait_seconds_total", "Time waited.", waited)
        waiting = [(key, bucket.waiting) for key, bucket in buckets.items()]
        _per_bucket(lines, "spproxy_rate_limit_waiting", "Waiting now.", waiting, kind="gauge")
        return "\n".join(lines) + "\n"


def _family(lines: list[str], name: str, kind: str, help_text: str) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def _per_bucket(
    lines: list[str],
    name: str,
    help_text: str,
    values: Iterable[tuple[BucketKey, float]],
    kind: str = "counter",
) -> None:
    _family(lines, name, kind, help_text)
    for (account, operation), value in sorted(values):
        lines.append(f"{name}{_labels(account=account, operation=operation)} {value}")


def _labels(**labels: str) -> str:
    escaped = (
        f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for name, value in labels.items()
    )
    return "{" + ",".join(escaped) + "}"
