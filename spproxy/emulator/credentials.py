"""What the emulated Amazon issues: access tokens (a seller's, grantless, restricted data tokens)
and STS's temporary AWS credentials. A leaf: the state keeps them, faults expire them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

TokenKind = Literal["lwa", "grantless", "rdt"]


class RestrictedResource(NamedTuple):
    """What an RDT grants: an HTTP method and a path, specific or generic (`{orderId}`), and
    for Orders v0 getOrders/getOrder/getOrderItems the kinds of PII (`dataElements`)."""

    method: str
    path: str
    data_elements: frozenset[str] = frozenset()


@dataclass(frozen=True)
class IssuedToken:
    kind: TokenKind
    scope: str | None  # grantless tokens only
    selling_partner_id: str | None  # seller and restricted data tokens only
    expires_at: float  # time.time()
    restricted_resources: tuple[RestrictedResource, ...] = ()  # restricted data tokens only
    target_application: str | None = None  # an RDT delegated to another application


@dataclass(frozen=True)
class TemporaryCredentials:
    """Credentials handed out by the emulated STS AssumeRole."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float  # time.time()
