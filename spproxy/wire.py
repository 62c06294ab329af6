"""One call to Amazon as values: what goes out (UpstreamRequest) and what comes back
(UpstreamAnswer), and `Sender`, what sends one and renews a refused token once.

A leaf below the forwarding layer: token sources (the Tokens API's mint, the credential choice)
speak of calls and answers through these types without importing `upstream`, which implements
`Sender`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from multidict import CIMultiDictProxy

from spproxy.config import Account
from spproxy.http1 import Http1Response
from spproxy.operations import Operation
from spproxy.target import Target

# How Amazon says a token is no longer good: "The access token you provided has expired.",
# "... is revoked, malformed or invalid.", "The security token included in the request is expired".
TOKEN_REJECTED = re.compile(
    rb"(access|security) token[^.]{0,60}\b(expired|invalid|revoked|malformed)", re.IGNORECASE
)


REFUSALS = frozenset({401, 403})  # Amazon's refusals: the only answers renewing a token can change


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """One call to the account's SP-API endpoint, as the client made it (headers unfiltered)."""

    account: Account
    operation: Operation | None
    method: str
    target: Target
    headers: CIMultiDictProxy[str]
    body: bytes = b""


@dataclass
class UpstreamAnswer:
    response: Http1Response
    latency_s: float  # from sending to the answer's headers, the last attempt's
    body: bytes | None = None  # read ahead: the short error body of a 401/403, for credentials

    @property
    def token_rejected(self) -> bool:
        """Amazon says the access token (LWA or RDT) expired or was revoked."""
        return self.response.status in REFUSALS and bool(
            self.body and TOKEN_REJECTED.search(self.body)
        )


T = TypeVar("T")


class Sender(Protocol):
    async def send_renewing(
        self,
        request: UpstreamRequest,
        credential: T,
        *,
        token: Callable[[T], str],
        renew: Callable[[T, UpstreamAnswer], Awaitable[T | None]],
    ) -> tuple[T, UpstreamAnswer]: ...
