"""Forwarding through the proxy to the emulated Amazon: what the user sees, what reached Amazon."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import os
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict, CIMultiDictProxy

from spproxy.config import Account, Secret, UpstreamConfig
from spproxy.emulator import EmulatorConfig
from spproxy.errors import BadRequest
from spproxy.http1pool import Http1Client
from spproxy.ratelimit import RateLimiter
from spproxy.target import parse_target
from spproxy.upstream import Upstream
from spproxy.wire import UpstreamRequest
from tests.harness import MARKETPLACE, Harness, StartHarness

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
USER_AGENT = re.compile(r"^spproxy/\d+\.\d+\.\d+ \(Language=Python/3\.\d+\.\d+; Platform=[^)]+\)$")


async def test_ordinary_call_gets_a_seller_token_and_amazons_answer(harness: Harness) -> None:
    response = await harness.proxy.get("/sellers/v1/marketplaceParticipations")
    assert response.status == 200
    body = await response.json()
    assert body["payload"][0]["marketplace"]["id"] == MARKETPLACE
    assert response.headers["x-spproxy-operation"] == "getMarketplaceParticipations"
    assert response.headers["x-spproxy-credential"] == "lwa"
    assert "x-spproxy-origin" not in response.headers
    received = harness.amazon.requests[-1]
    assert received.token_kind == "lwa"
    assert response.headers["x-amzn-RequestId"]  # relayed unchanged
    assert response.headers["x-amzn-RateLimit-Limit"]
    assert USER_AGENT.match(received.headers["user-agent"])
    assert re.fullmatch(r"\d{8}T\d{6}Z", received.headers["x-amz-date"])
    assert received.signature == "absent"


async def test_grantless_operation_gets_a_scoped_client_credentials_token(harness: Harness) -> None:
    response = await harness.proxy.get("/notifications/v1/destinations")
    assert response.status == 200
    assert response.headers["x-spproxy-credential"] == "grantless"
    assert harness.amazon.requests[-1].token_kind == "grantless"
    assert harness.amazon.lwa_exchanges["client_credentials"] == 1
    response = await harness.proxy.post("/applications/2023-11-30/clientSecret")
    assert response.status == 204
    assert response.headers["x-spproxy-operation"] == "rotateApplicationClientSecret"
    assert harness.amazon.lwa_exchanges["client_credentials"] == 2  # another scope
    response = await harness.proxy.post(
        "/notifications/v1/subscriptions/ANY_OFFER_CHANGED/testNotification",
        json={"destinationId": "3acafc7e-121b-1329-8ae8-1571be663aa2"},
    )
    assert response.headers["x-spproxy-operation"] == "sendTestNotification"
    assert response.headers["x-spproxy-credential"] == "grantless"
    assert response.status == 400  # Amazon's, past its token check: no example matches
    assert harness.amazon.requests[-1].token_kind == "grantless"
    assert harness.amazon.lwa_exchanges["client_credentials"] == 2  # the notifications token


async def test_sixty_concurrent_cold_requests_cost_one_exchange(harness: Harness) -> None:
    responses = await asyncio.gather(*(harness.proxy.get(PARTICIPATIONS) for _ in range(60)))
    assert [r.status for r in responses] == [200] * 60
    for response in responses:
        response.release()
    assert harness.amazon.lwa_exchanges["refresh_token"] == 1
    tokens = {r.headers["x-amz-access-token"] for r in harness.amazon.requests}
    assert len(tokens) == 1
    await harness.proxy.get(PARTICIPATIONS)  # and later ones reuse it
    assert harness.amazon.lwa_exchanges["refresh_token"] == 1


async def test_accounts_are_chosen_by_header(start: StartHarness) -> None:
    emulator = EmulatorConfig(refresh_tokens={"Atzr|one": "A1ONE", "Atzr|two": "A2TWO"})
    harness = await start(emulator, accounts={"one": "Atzr|one", "two": "Atzr|two"})
    await harness.proxy.get("/sellers/v1/marketplaceParticipations")
    await harness.proxy.get(
        "/sellers/v1/marketplaceParticipations", headers={"x-spproxy-account": "two"}
    )
    first, second = (
        harness.amazon.tokens[r.headers["x-amz-access-token"]] for r in harness.amazon.requests
    )
    assert (first.selling_partner_id, second.selling_partner_id) == ("A1ONE", "A2TWO")
    assert "x-spproxy-account" not in harness.amazon.requests[-1].headers

    response = await harness.proxy.get(
        "/sellers/v1/marketplaceParticipations", headers={"x-spproxy-account": "three"}
    )
    assert response.status == 400
    assert response.headers["x-spproxy-origin"] == "proxy"
    error = (await response.json())["errors"][0]
    assert error["code"] == "InvalidInput"
    assert "'three'" in error["message"] and error["details"] == "Configured: one, two."
    assert len(harness.amazon.requests) == 2


async def test_client_credentials_and_local_headers_never_reach_amazon(harness: Harness) -> None:
    response = await harness.proxy.get(
        "/sellers/v1/marketplaceParticipations",
        headers={
            "Authorization": "Bearer client-made",
            "x-amz-access-token": "Atza|client-made",
            "x-amz-security-token": "client-made",
            "x-amz-date": "20000101T000000Z",
            "x-spproxy-anything": "local",
            "X-Forwarded-For": "10.1.2.3",
            "Host": "evil.example",
            "Connection": "keep-alive, x-secret-hop",
            "x-secret-hop": "hop-by-hop",
            "Proxy-Authorization": "Basic abc",
            "Accept-Language": "de-DE",
            "User-Agent": "curl/8.0",
        },
    )
    assert response.status == 200
    received = harness.amazon.requests[-1]
    assert received.token_kind == "lwa"
    assert received.headers["x-amz-access-token"] != "Atza|client-made"
    assert received.headers["x-amz-date"] != "20000101T000000Z"
    for name in (
        "authorization",
        "x-amz-security-token",
        "x-spproxy-anything",
        "x-forwarded-for",
        "x-secret-hop",
        "proxy-authorization",
    ):
        assert name not in received.headers, name
    assert received.headers["host"] == f"127.0.0.1:{harness.emulator.port}"
    assert received.headers["accept-language"] == "de-DE"  # end-to-end headers pass
    assert USER_AGENT.match(received.headers["user-agent"])


async def test_a_client_that_expects_100_continue_gets_it_from_spproxy(harness: Harness) -> None:
    """spproxy reads the whole body before it forwards: the 100 is its own, and Amazon is not
    asked for another."""
    body = json.dumps({"contentType": "text/tab-separated-values"}).encode()
    response = await harness.proxy.post("/feeds/2021-06-30/documents", data=body, expect100=True)
    assert response.status == 201
    received = harness.amazon.requests[-1]
    assert "expect" not in received.headers
    assert received.headers["content-length"] == str(len(body))


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_bodies_go_and_come_back_byte_for_byte(harness: Harness, method: str) -> None:
    body = os.urandom(3 * 1024 * 1024 + 17)
    response = await harness.proxy.request(
        method,
        "/_emulator/echo/some/path",
        data=io.BytesIO(body),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status == 200
    assert await response.read() == body
    received = harness.amazon.requests[-1]
    assert received.method == method
    assert hashlib.sha256(received.body).digest() == hashlib.sha256(body).digest()
    assert received.headers["content-type"] == "application/octet-stream"


async def test_json_body_and_created_status(harness: Harness) -> None:
    response = await harness.proxy.post(
        "/feeds/2021-06-30/documents", json={"contentType": "text/xml; charset=UTF-8"}
    )
    assert response.status == 201
    assert "feedDocumentId" in await response.json()
    assert json.loads(harness.amazon.requests[-1].body) == {
        "contentType": "text/xml; charset=UTF-8"
    }


async def test_query_goes_upstream_in_canonical_encoding(harness: Harness) -> None:
    response = await harness.proxy.get(
        f"/catalog/2022-04-01/items?marketplaceIds={MARKETPLACE}&keywords=red shoe"
        "&includedData=summaries,images&pageToken=a:b+c%2cd"
    )
    assert response.status == 200
    assert harness.amazon.requests[-1].query_string == (
        f"marketplaceIds={MARKETPLACE}&keywords=red%20shoe"
        "&includedData=summaries%2Cimages&pageToken=a%3Ab%20c%2Cd"
    )


async def test_path_is_normalised_once_and_classified_as_sent(harness: Harness) -> None:
    assert harness.proxy.port is not None
    status, _ = await asyncio.to_thread(
        _raw_http,
        harness.proxy.port,
        b"GET //sellers/v1//marketplace%50articipations HTTP/1.1\r\nHost: x\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert status == 200
    assert harness.amazon.requests[-1].raw_path == "/sellers/v1/marketplaceParticipations"
    response = await harness.proxy.get("/listings/2021-08-01/items/A1/SKU%2fwith%20slash:x")
    assert response.headers["x-spproxy-operation"] == "getListingsItem"
    assert (
        harness.amazon.requests[-1].raw_path
        == "/listings/2021-08-01/items/A1/SKU%2Fwith%20slash%3Ax"
    )


def _raw_http(port: int, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.find(b"\r\n\r\n") + 4 + _length(data):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def _length(data: bytes) -> int:
    match = re.search(rb"(?i)content-length: (\d+)", data)
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize(
    ("request_line", "message"),
    [
        (b"GET http://evil.example/sellers/v1/marketplaceParticipations HTTP/1.1", b"origin-form"),
        (b"GET https://127.0.0.1:1/orders/v0/orders HTTP/1.1", b"origin-form"),
        (b"CONNECT evil.example:443 HTTP/1.1", b"CONNECT"),
        (b"OPTIONS * HTTP/1.1", b"origin-form"),
        (b"GET /orders/v0/orders/../../sellers/v1/marketplaceParticipations HTTP/1.1", b"'..'"),
        (b"GET /orders/v0/orders/%2e%2E/x HTTP/1.1", b"'..'"),
        (b"GET /orders/v0/./orders HTTP/1.1", b"'..'"),
        (b"GET /orders/v0/%2E/orders HTTP/1.1", b"'..'"),
        (b"GET /orders/v0/orders/%zz HTTP/1.1", b"percent-escape"),
        (b"GET /orders/v0/orders?x=%g1 HTTP/1.1", b"percent-escape"),
        (b"GET /orders/v0/orders/%00 HTTP/1.1", b"control characters"),
    ],
)
async def test_bad_targets_get_400_and_reach_no_host(
    harness: Harness,
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
    request_line: bytes,
    message: bytes,
) -> None:
    port = harness.proxy.port
    assert port is not None
    status, body = await asyncio.to_thread(
        _raw_http, port, request_line + b"\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    )
    assert status == 400
    error = json.loads(body)["errors"][0]
    assert error["code"] == "InvalidInput" and message.decode() in error["message"]
    assert harness.amazon.requests == []
    assert (await harness.proxy.get("/_spproxy/health")).status == 200  # still serving


async def test_oversized_bodies_get_413_declared_or_streamed(start: StartHarness) -> None:
    harness = await start(upstream=UpstreamConfig(max_body_bytes=1000))
    response = await harness.proxy.put("/_emulator/echo/x", data=b"x" * 1001)
    assert response.status == 413
    assert response.headers["x-spproxy-origin"] == "proxy"
    assert (await response.json())["errors"][0]["code"] == "RequestEntityTooLarge"

    async def chunked() -> object:  # no Content-Length: the limit applies to what arrives
        for _ in range(3):
            yield b"y" * 400

    response = await harness.proxy.put("/_emulator/echo/x", data=chunked())
    assert response.status == 413
    assert harness.amazon.requests == []
    response = await harness.proxy.put("/_emulator/echo/x", data=b"z" * 1000)
    assert response.status == 200 and await response.read() == b"z" * 1000


async def test_dead_upstream_is_a_502(start: StartHarness) -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    harness = await start(endpoint=f"http://127.0.0.1:{dead_port}")
    response = await harness.proxy.get("/sellers/v1/marketplaceParticipations")
    assert response.status == 502
    assert response.headers["x-spproxy-origin"] == "proxy"
    error = (await response.json())["errors"][0]
    assert error["code"] == "UpstreamUnreachable" and "127.0.0.1" in error["message"]
    assert (await harness.proxy.get("/_spproxy/health")).status == 200


async def test_slow_upstream_is_a_504(
    start: StartHarness, aiohttp_server: Callable[[web.Application], Awaitable[TestServer]]
) -> None:
    answered = asyncio.Event()  # never set: the upstream holds every request

    async def hold(request: web.Request) -> web.Response:
        await answered.wait()
        return web.Response()

    slow = web.Application()
    slow.router.add_get("/{path:.*}", hold)
    server = await aiohttp_server(slow)
    harness = await start(
        endpoint=str(server.make_url("")).rstrip("/"), upstream=UpstreamConfig(timeout_s=0.2)
    )
    response = await harness.proxy.get("/sellers/v1/marketplaceParticipations")
    assert response.status == 504
    error = (await response.json())["errors"][0]
    assert error["code"] == "UpstreamTimeout" and "0.2 s" in error["message"]
    answered.set()


QUICK_RETRIES = UpstreamConfig(pacing=False, backoff_s=0.01, max_backoff_s=5)


def statuses(harness: Harness) -> list[int | None]:
    """What Amazon answered to each call that reached it (None: the connection was dropped)."""
    return [r.status for r in harness.amazon.requests]


async def test_a_get_that_meets_two_503s_succeeds(start: StartHarness) -> None:
    harness = await start(upstream=QUICK_RETRIES)
    harness.amazon.faults.fail(503, times=2)
    response = await harness.proxy.get(PARTICIPATIONS)
    assert response.status == 200
    assert statuses(harness) == [503, 503, 200]


async def test_a_post_that_meets_a_503_reaches_amazon_once_and_the_503_is_relayed(
    start: StartHarness,
) -> None:
    harness = await start(upstream=QUICK_RETRIES)
    harness.amazon.faults.fail(503)
    response = await harness.proxy.post(
        "/feeds/2021-06-30/documents", json={"contentType": "text/xml"}
    )
    assert response.status == 503
    assert "x-spproxy-origin" not in response.headers  # Amazon's answer, relayed
    assert statuses(harness) == [503]


async def test_a_post_that_meets_amazons_429_is_retried_like_a_get(start: StartHarness) -> None:
    """Amazon throttled it, so did not act on it: sending it again cannot make it act twice."""
    harness = await start(upstream=QUICK_RETRIES)
    harness.amazon.faults.fail(429, times=2)
    response = await harness.proxy.post(
        "/feeds/2021-06-30/documents", json={"contentType": "text/xml"}
    )
    assert response.status == 201
    assert statuses(harness) == [429, 429, 201]
    harness.amazon.faults.fail(429, times=None)  # bounded as a GET's retries are
    response = await harness.proxy.post(
        "/feeds/2021-06-30/documents", json={"contentType": "text/xml"}
    )
    assert response.status == 429 and "x-spproxy-origin" not in response.headers
    assert statuses(harness) == [429, 429, 201] + [429] * (1 + QUICK_RETRIES.retries)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_idempotent_methods_are_retried(start: StartHarness, method: str) -> None:
    harness = await start(upstream=QUICK_RETRIES)
    harness.amazon.faults.fail(500)
    response = await harness.proxy.request(method, "/_emulator/echo/x", data=b"same body")
    assert response.status == 200
    assert statuses(harness) == [500, 200]
    assert (
        harness.amazon.requests[0].body
        == harness.amazon.requests[1].body
        == (b"" if method == "HEAD" else b"same body")
    )


async def test_retries_are_bounded(start: StartHarness) -> None:
    harness = await start(upstream=replace(QUICK_RETRIES, retries=2))
    harness.amazon.faults.fail(502, times=None)
    response = await harness.proxy.get(PARTICIPATIONS)
    assert response.status == 502 and "x-spproxy-origin" not in response.headers
    assert statuses(harness) == [502, 502, 502]


async def test_retry_after_is_honoured_or_the_429_relayed(start: StartHarness) -> None:
    harness = await start(upstream=QUICK_RETRIES)
    harness.amazon.faults.fail(429, retry_after="0")
    assert (await harness.proxy.get(PARTICIPATIONS)).status == 200
    harness.amazon.faults.fail(429, retry_after="120")  # longer than max_backoff_s: not our wait
    response = await harness.proxy.get(PARTICIPATIONS)
    assert response.status == 429 and response.headers["Retry-After"] == "120"
    assert statuses(harness) == [429, 200, 429]


async def test_other_4xx_are_not_retried(start: StartHarness) -> None:
    harness = await start(upstream=QUICK_RETRIES)
    harness.amazon.faults.fail(500, times=None, path="/nowhere")  # not hit: a control
    response = await harness.proxy.get("/catalog/2022-04-01/items")  # 400: marketplaceIds missing
    assert response.status == 400
    assert statuses(harness) == [400]


async def test_a_dropped_connection_is_retried_for_a_get_but_not_for_a_post(
    start: StartHarness,
) -> None:
    harness = await start(upstream=QUICK_RETRIES)
    harness.amazon.faults.drop()
    assert (await harness.proxy.get(PARTICIPATIONS)).status == 200
    assert statuses(harness) == [None, 200]
    harness.amazon.faults.drop()
    response = await harness.proxy.post("/feeds/2021-06-30/documents", json={"contentType": "x"})
    assert response.status == 502
    assert (await response.json())["errors"][0]["code"] == "UpstreamUnreachable"
    assert statuses(harness) == [None, 200, None]  # the POST reached Amazon once


async def test_a_post_is_retried_when_the_connection_never_opened(
    start: StartHarness, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    harness = await start(endpoint=f"http://127.0.0.1:{dead_port}", upstream=QUICK_RETRIES)
    caplog.set_level(logging.INFO, logger="spproxy.upstream")
    response = await harness.proxy.post("/feeds/2021-06-30/documents", json={"contentType": "x"})
    assert response.status == 502
    retries = [r for r in caplog.records if r.getMessage().startswith("retry ")]
    assert len(retries) == QUICK_RETRIES.retries


async def test_a_header_with_a_line_break_never_reaches_the_wire() -> None:
    """aiohttp's server refuses such a header from a client; a value from elsewhere (a token
    source gone wrong) is refused here too, before a byte is sent."""
    connections: list[int] = []

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.close()

    server = await asyncio.start_server(count, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    account = Account("main", Secret("Atzr|x"), "na", f"http://127.0.0.1:{port}", "us-east-1")
    upstream = Upstream(
        Http1Client(proxy=None, trust_env=False),
        config=UpstreamConfig(pacing=False, retries=0),
        user_agent="t/1 (Language=Python/3)",
        signers={},
        limiter=RateLimiter(queue_timeout_s=1),
    )
    headers = CIMultiDictProxy(CIMultiDict({"x-note": "a\r\nx-amz-access-token: forged"}))
    try:
        with pytest.raises(BadRequest, match="line break"):
            await upstream.send(
                UpstreamRequest(account, None, "GET", parse_target("GET", "/x"), headers),
                "Atza|token",
            )
    finally:
        await upstream.aclose()
        server.close()
        await server.wait_closed()
    assert connections == []
