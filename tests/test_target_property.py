"""Random request targets through a real `spproxy serve`, sent as raw bytes on a socket.

The property: whatever spproxy forwards reaches the configured endpoint with exactly the path an
independent RFC 3986 normaliser (below, not spproxy's) makes of the target, and that path has no
`.`/`..` segment (not even between encoded slashes) and is not one of spproxy's reserved
`/_spproxy` paths; everything else reaches nothing upstream and gets spproxy's own 400 or 404
(`x-spproxy-origin: proxy`), or the answer of one of spproxy's endpoints. The normaliser's
verdict (forward or refuse) must agree with what happened.

Targets go out as raw bytes because HTTP client libraries normalise them. Hypothesis runs
derandomized with a bounded number of examples, so CI sees the same targets every run; it runs
in a worker thread with blocking sockets while the test's event loop serves the emulator (LWA)
and the recording upstream. Explicit examples that fail at the same assertion are reported as
one, with a count; `pytest --hypothesis-verbosity=verbose` shows each.
"""

from __future__ import annotations

import asyncio
import re
import socket
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    EmulatorConfig,
    make_emulator_app,
)
from tests.harness import serve

# ---------------------------------------------------------------------------------------------
# The reference: RFC 3986 percent-encoding, written out here so spproxy is not its own oracle.

UNRESERVED = frozenset((string.ascii_letters + string.digits + "-._~").encode())
_TWO_HEX = re.compile(r"[0-9A-Fa-f]{2}")
ENDPOINTS = frozenset(f"/_spproxy/{name}" for name in ("health", "ready", "status", "metrics"))


class Invalid(Exception):
    """The target cannot be normalised: spproxy must refuse it with 400."""


def percent_decode(text: str) -> bytes:
    decoded = bytearray()
    index = 0
    while index < len(text):
        if text[index] == "%":
            escape = text[index + 1 : index + 3]
            if not _TWO_HEX.fullmatch(escape):
                raise Invalid("invalid escape")
            decoded.append(int(escape, 16))
            index += 3
        else:
            decoded.extend(text[index].encode())
            index += 1
    return bytes(decoded)


def percent_encode(raw: bytes) -> str:
    return "".join(chr(byte) if byte in UNRESERVED else f"%{byte:02X}" for byte in raw)


def has_dot_part(decoded: bytes) -> bool:
    """`.` or `..` as the segment, or between the (encoded) slashes or backslashes inside it."""
    return any(part in (b".", b"..") for part in re.split(rb"[/\\]", decoded))


def is_reserved(path: str) -> bool:
    """The first segment of a normalised path, decoded, starts with `_spproxy/` or is `_spproxy`."""
    try:
        first = percent_decode(path.split("/")[1])
    except Invalid:
        return False
    return first.split(b"/")[0].lower() == b"_spproxy"


@dataclass(frozen=True)
class Forward:
    path: str  # the normalised path, as the upstream must receive it
    query: bool  # whether a (non-empty, canonical) query must arrive with it


@dataclass(frozen=True)
class Refuse:
    reason: str
    endpoint: bool = False  # one of spproxy's own endpoints may answer (200) instead


def reference(target: str) -> Forward | Refuse:
    if not target.startswith("/"):
        return Refuse("not origin-form")
    if "#" in target:
        return Refuse("fragment")
    raw_path, _, raw_query = target.partition("?")
    folded = re.sub("/{2,}", "/", raw_path)
    if is_reserved(folded):
        try:
            whole = re.sub(b"/{2,}", b"/", percent_decode(folded)).decode("latin-1")
        except Invalid:
            whole = ""
        return Refuse("reserved", endpoint=whole.lower() in ENDPOINTS)
    try:
        segments = []
        for raw_segment in folded.split("/")[1:]:
            decoded = percent_decode(raw_segment)
            if has_dot_part(decoded):
                raise Invalid("dot segment")
            if any(byte < 0x20 or byte == 0x7F for byte in decoded):
                raise Invalid("control character")
            segments.append(percent_encode(decoded))
        fields = [field for field in raw_query.split("&") if field]
        for field in fields:  # key and value decode ('+' is a space there) or the query is bad
            percent_decode(field)
    except Invalid as invalid:
        return Refuse(str(invalid))
    return Forward("/" + "/".join(segments), query=bool(fields))


# ---------------------------------------------------------------------------------------------
# Targets built from pieces that find bugs: segments of dots, encoded dots, encoded slashes and
# backslashes, bad escapes, control bytes, spellings of `_spproxy`, ordinary SP-API words,
# delimiters and UTF-8, joined by one or more slashes. Printable ASCII only: a raw space or
# control byte makes the request line itself invalid HTTP.

PIECES = [
    *(".", "..", "%2e", "%2E", "%2e%2E", ".%2e", "%2F", "%2f", "%5C", "%5c", "\\"),
    *("%00", "%0d%0a", "%0A", "%09", "%7F", "%1f", "%", "%zz", "%2", "%25", "%20", "%FF", "#"),
    *("_spproxy", "_SPPROXY", "%5Fspproxy", "status", "health", "orders", "v0", "AB%2FCD"),
]
FIRST_SEGMENTS = [
    *("orders", "_spproxy", "_SPPROXY", "%5Fspproxy", "%5f%53PPROXY", "_spproxyx", "x_spproxy"),
    *("_spproxy%2Fstatus", "_Spproxy%2fhealth", "_spproxy%5Cstatus", "_spproxy%2F..", ".."),
]
QUERY_PIECES = ["a=b", "&", "=", "+", "%20", "%zz", "%", "%2F", "%2e%2e", "?", "/", "..", "#"]
# Mostly origin-form; now and then asterisk-form, absolute-form or no leading slash at all.
STARTS = [*["/"] * 12, "//", "*", "x", "%2F", "http://127.0.0.1/"]

_unreserved = st.text(string.ascii_letters + string.digits + "-._~", min_size=1, max_size=4)
_delimiter = st.sampled_from(list(":@!$&'()*+,;=[]"))
_utf8 = st.text(min_size=1, max_size=2).map(lambda text: quote(text, safe=""))
# `.`/`..` between encoded slashes or backslashes: a segment of its own once a server decodes it.
_dots_between_slashes = st.sampled_from(["%2F..", "..%2F", "%5C..", "..%5c", ".%2f", "%2F%2e%2E"])
_piece = st.one_of(st.sampled_from(PIECES), _dots_between_slashes, _unreserved, _delimiter, _utf8)
_segment = st.lists(_piece, max_size=3).map("".join)
_first_segment = st.one_of(_segment, st.sampled_from(FIRST_SEGMENTS))
_separator = st.sampled_from(["/", "/", "/", "//"])
_query_piece = st.one_of(st.sampled_from(QUERY_PIECES), _unreserved, _delimiter, _utf8)


@st.composite
def targets(draw: st.DrawFn) -> str:
    target = draw(st.sampled_from(STARTS)) + draw(_first_segment)
    for segment in draw(st.lists(_segment, max_size=4)):
        target += draw(_separator) + segment
    if draw(st.booleans()):
        target += "?" + "".join(draw(st.lists(_query_piece, max_size=4)))
    return target


EXAMPLES = [
    "/_spproxy%2Fstatus",
    "//_spproxy/status",
    "/_SPPROXY/status",
    "/%5Fspproxy/x",
    "/orders/v0/orders/..%2F..%2Ffinances",
    "/listings/2021-08-01/items/A1/AB%2FCD",
    "/x%0d%0aFORGED",
]

# ---------------------------------------------------------------------------------------------
# The servers: the emulator for LWA, a recording upstream as the account's endpoint, and a real
# `spproxy serve` process in front of it.

TOKENS_PATH = "/tokens/2021-03-01/restrictedDataToken"


def recording_upstream(received: list[str]) -> web.Application:
    """Answers everything 200 and records `raw_path` (path and query as they came on the wire)."""

    async def record(request: web.Request) -> web.Response:
        if request.method == "POST" and request.path == TOKENS_PATH:  # an RDT mint, not a target
            return web.json_response({"restrictedDataToken": "Atz.sprdt|x", "expiresIn": 3600})
        received.append(request.raw_path)
        return web.json_response({"payload": {}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    return app


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def __str__(self) -> str:
        origin = self.headers.get("x-spproxy-origin", "-")
        return f"{self.status} (x-spproxy-origin: {origin}) {self.body[:200]!r}"


def send_raw(port: int, target: str) -> Answer:
    """GET `target` exactly as written: no client library in between to normalise it."""
    request = (
        f"GET {target} HTTP/1.1\r\nHost: x\r\n"
        "x-spproxy-data-elements: none\r\nConnection: close\r\n\r\n"
    )
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request.encode("ascii"))
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split(" ")[1]), headers, body)


def check(target: str, verdict: Forward | Refuse, answer: Answer, received: list[str]) -> None:
    what = f"{target!r}: reference {verdict}; spproxy answered {answer}; upstream got {received}"
    if isinstance(verdict, Forward):
        assert answer.status == 200 and len(received) == 1, what
        path, question_mark, _ = received[0].partition("?")
        assert path == verdict.path, what
        if verdict.query:
            assert question_mark, what
        # What went upstream, checked on its own: no dot segment, nothing reserved.
        assert not any(has_dot_part(percent_decode(s)) for s in path.split("/")[1:]), what
        assert not is_reserved(path), what
    else:
        assert received == [], what
        if verdict.endpoint and answer.status == 200:
            return  # spproxy's own endpoint answered
        assert answer.status in (400, 404), what
        assert answer.headers.get("x-spproxy-origin") == "proxy", what


def property_test(port: int, received: list[str]) -> Callable[[], None]:
    @settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(targets())
    def run(target: str) -> None:
        received.clear()
        answer = send_raw(port, target)
        check(target, reference(target), answer, list(received))

    for target in reversed(EXAMPLES):
        run = example(target)(run)
    return run


async def test_random_targets_are_forwarded_exactly_normalised_or_refused(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]], tmp_path: Path
) -> None:
    received: list[str] = []
    emulator = await aiohttp_server(make_emulator_app(EmulatorConfig()))
    upstream = await aiohttp_server(recording_upstream(received))
    lwa = str(emulator.make_url("/auth/o2/token"))
    endpoint = str(upstream.make_url("")).rstrip("/")

    def config(port: int) -> str:
        return f"""
listen: {{port: {port}}}
lwa: {{client_id: {DEMO_CLIENT_ID}, client_secret: "{DEMO_CLIENT_SECRET}", endpoint: "{lwa}"}}
accounts:
  main: {{refresh_token: "{DEMO_REFRESH_TOKEN}", region: na, endpoint: "{endpoint}"}}
upstream: {{pacing: false, retries: 0}}
"""

    async with serve(tmp_path, config, ready="/_spproxy/ready") as proxy:
        await asyncio.to_thread(property_test(proxy.port, received))
