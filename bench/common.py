"""What the phases share: the loopback host, the emulator's fake AWS keys, the requests sent,
the one error the bench reports, and small helpers."""

from __future__ import annotations

import argparse
import math
import socket
import statistics
import sys
from collections.abc import Mapping, Sequence
from typing import Any

HOST = "127.0.0.1"
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
ORDERS = "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&CreatedAfter=2024-01-01T00:00:00Z"
KNOWN_ORDER_IDS = ("902-1845936-5435065", "902-8745147-1934268", "902-3159896-1390916")
AWS_KEY_ID = "AKIDSPPROXYBENCH0001"
AWS_SECRET = "spproxy-bench-aws-secret-access-key-0001"  # noqa: S105 - a fake for the emulator
AWS_REGION = "us-east-1"
REPORT_TYPE_HEADER = "x-spproxy-report-type"  # spproxy.credentials.REPORT_TYPE_HEADER
CREDENTIAL_HEADER = "x-spproxy-credential"  # spproxy.app.CREDENTIAL_HEADER: rdt-minted, ...

Message = dict[str, Any]  # what processes send each other, and what phases report


class BenchError(Exception):
    pass


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


def latency_summary(sorted_samples: Sequence[float]) -> Message:
    """How many, p50, p99 and mean of latencies in microseconds (already sorted)."""
    return {
        "n": len(sorted_samples),
        "p50_us": round(percentile(sorted_samples, 0.50), 1),
        "p99_us": round(percentile(sorted_samples, 0.99), 1),
        "mean_us": round(statistics.fmean(sorted_samples), 1),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def progress(args: argparse.Namespace, message: str) -> None:
    if not args.json:
        print(f"... {message}", file=sys.stderr, flush=True)


def sigv4_headers(method: str, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, str]:
    """The Authorization and X-Amz-Date headers botocore's SigV4Auth adds to this request (only
    with --signing: botocore is imported here, never at module level)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    SigV4Auth(Credentials(AWS_KEY_ID, AWS_SECRET), "execute-api", AWS_REGION).add_auth(request)
    return {name: str(request.headers[name]) for name in ("Authorization", "X-Amz-Date")}
