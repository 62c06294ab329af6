"""Independent SigV4 verifier (hmac/hashlib only, never botocore). STUB: being written."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from spproxy.emulator.state import SignatureOutcome


@dataclass(frozen=True)
class SignatureCheck:
    outcome: SignatureOutcome
    reason: str = ""  # why it is invalid, for the 403 message


def verify_sigv4(
    *,
    method: str,
    raw_path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials_for: Callable[[str], tuple[str, str | None] | None],
    service: str = "execute-api",
    now: float | None = None,
) -> SignatureCheck:
    raise NotImplementedError
