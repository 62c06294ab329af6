"""SP-API's regions: each one's endpoint, its sandbox's, and the AWS region calls are signed for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Region:
    endpoint: str
    sandbox_endpoint: str
    aws_region: str  # SigV4 signing region


# Source: SP-API docs, "SP-API endpoints".
REGIONS: Mapping[str, Region] = MappingProxyType(
    {
        "na": Region(
            "https://sellingpartnerapi-na.amazon.com",
            "https://sandbox.sellingpartnerapi-na.amazon.com",
            "us-east-1",
        ),
        "eu": Region(
            "https://sellingpartnerapi-eu.amazon.com",
            "https://sandbox.sellingpartnerapi-eu.amazon.com",
            "eu-west-1",
        ),
        "fe": Region(
            "https://sellingpartnerapi-fe.amazon.com",
            "https://sandbox.sellingpartnerapi-fe.amazon.com",
            "us-west-2",
        ),
    }
)
