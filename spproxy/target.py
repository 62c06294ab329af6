"""The request target, normalised once: exactly what is classified is what is sent.

Only origin-form targets (`/path?query`, RFC 9112 3.2.1) are accepted: absolute-form and
authority-form (CONNECT) could otherwise name another host. Each path segment is percent-decoded
and re-encoded in RFC 3986's strictest form (only unreserved characters literal), duplicate
slashes are folded, and `.`/`..` segments, plain or encoded, are refused: no SP-API path has
them and they are the classic way to make a proxy classify one path and send another. The query
is re-encoded in AWS's canonical form, which is what SigV4 signs and what goes on the wire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spproxy.errors import BadRequest
from spproxy.urlcanon import canonical_query, decode_component, encode_component

_SLASHES = re.compile(r"/{2,}")
# Already in normal form, as nearly every client's path and query are: nothing to re-encode.
_PLAIN_PATH = re.compile(r"/|(?:/(?!\.\.?(?:/|$))[A-Za-z0-9\-._~]+)+/?")
_PLAIN_QUERY = re.compile(
    r"[A-Za-z0-9\-._~]+=[A-Za-z0-9\-._~]*(?:&[A-Za-z0-9\-._~]+=[A-Za-z0-9\-._~]*)*"
)


@dataclass(frozen=True, slots=True)
class Target:
    path: str  # normalised and percent-encoded, as sent upstream
    query: str  # AWS canonical encoding, as sent upstream ("" when none)

    @property
    def path_and_query(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


def parse_target(method: str, raw_target: str) -> Target:
    if method == "CONNECT":
        raise BadRequest("CONNECT is not supported: spproxy is a reverse proxy for SP-API")
    if not raw_target.startswith("/"):
        raise BadRequest(
            "Only origin-form request targets are accepted (GET /orders/v0/orders?...).",
            "spproxy always forwards to the account's configured endpoint.",
        )
    raw_path, _, raw_query = raw_target.partition("?")
    if "#" in raw_target:
        raise BadRequest("A request target must not contain a fragment ('#').")
    path = raw_path if _PLAIN_PATH.fullmatch(raw_path) else normalise_path(raw_path)
    if not raw_query or _PLAIN_QUERY.fullmatch(raw_query):
        return Target(path, raw_query)
    try:
        return Target(path, canonical_query(raw_query))
    except ValueError:
        raise BadRequest("The query string has an invalid percent-escape.") from None


def normalise_path(raw_path: str) -> str:
    segments = [_segment(raw) for raw in _SLASHES.sub("/", raw_path).split("/")[1:]]
    return "/" + "/".join(segments)


def _segment(raw: str) -> str:
    try:
        decoded = decode_component(raw)
    except ValueError:
        raise BadRequest("The path has an invalid percent-escape.") from None
    if decoded in (b".", b".."):
        raise BadRequest("The path must not contain '.' or '..' segments.")
    if any(byte < 0x20 or byte == 0x7F for byte in decoded):
        raise BadRequest("The path must not contain control characters.")
    return encode_component(decoded)
