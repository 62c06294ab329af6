"""The request target, normalised once: exactly what is classified is what is sent.

Only origin-form targets (`/path?query`, RFC 9112 3.2.1) are accepted: absolute-form and
authority-form (CONNECT) could otherwise name another host. Each path segment is percent-decoded
and re-encoded in RFC 3986's strictest form (only unreserved characters literal), duplicate
slashes are folded, and `.`/`..` segments, plain or encoded, are refused: no SP-API path has
them and they are the classic way to make a proxy classify one path and send another. A segment
that decodes to `../../finances` is refused too: a server that decodes `%2F` before resolving
dot segments would otherwise walk out of the operation a grant was checked for (an encoded
slash alone, as in a SKU, is fine). The query is re-encoded in AWS's canonical form, which is
what SigV4 signs and what goes on the wire.

`/_spproxy/` is spproxy's own: a target that normalises into it (`//_spproxy/status`,
`/_SPPROXY/x`, `/_spproxy%2Fstatus`) is answered 404 here and never forwarded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spproxy.errors import BadRequest, NotFound
from spproxy.urlcanon import canonical_query, decode_component, encode_component

RESERVED_PREFIX = "/_spproxy/"
_SLASHES = re.compile(r"/{2,}")
_INNER_SEPARATORS = re.compile(rb"[/\\]")  # what a decoding server may take for a slash
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
    if _reserved(path):
        raise reserved_not_found(method, path)
    if not raw_query or _PLAIN_QUERY.fullmatch(raw_query):
        return Target(path, raw_query)
    try:
        return Target(path, canonical_query(raw_query))
    except ValueError:
        raise BadRequest("The query string has an invalid percent-escape.") from None


def normalise_path(raw_path: str) -> str:
    segments = [_segment(raw) for raw in _SLASHES.sub("/", raw_path).split("/")[1:]]
    return "/" + "/".join(segments)


def reserved_not_found(method: str, path: str) -> NotFound:
    return NotFound(
        f"{method} {path} is not an spproxy endpoint.",
        f"{RESERVED_PREFIX} paths are spproxy's own and never forwarded; see the README.",
    )


def _reserved(path: str) -> bool:
    """Whether a normalised path lies in /_spproxy/, whatever its case or encoded slashes."""
    first = path[1:].partition("/")[0].lower()  # '_' and letters are literal once normalised
    return first == "_spproxy" or first.startswith("_spproxy%2f")


def _segment(raw: str) -> str:
    try:
        decoded = decode_component(raw)
    except ValueError:
        raise BadRequest("The path has an invalid percent-escape.") from None
    if decoded in (b".", b"..") or (
        _INNER_SEPARATORS.search(decoded)
        and any(part in (b".", b"..") for part in _INNER_SEPARATORS.split(decoded))
    ):
        raise BadRequest("The path must not contain '.' or '..' segments, plain or encoded.")
    if any(byte < 0x20 or byte == 0x7F for byte in decoded):
        raise BadRequest("The path must not contain control characters.")
    return encode_component(decoded)
