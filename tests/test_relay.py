"""Amazon's answers relayed to the client: unchanged, streamed when large, cut when broken off."""

from __future__ import annotations

import gzip
import os
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.harness import Harness, StartHarness


async def test_no_accept_encoding_is_invented_and_compressed_answers_pass_unchanged(
    harness: Harness,
) -> None:
    response = await harness.proxy.get(
        "/sellers/v1/marketplaceParticipations", skip_auto_headers={"Accept-Encoding"}
    )
    assert "accept-encoding" not in harness.amazon.requests[-1].headers
    response.release()
    payload = os.urandom(1000)
    compressed = gzip.compress(payload)
    response = await harness.proxy.put(
        "/_emulator/echo/gzip",
        data=compressed,
        headers={"Content-Type": "application/octet-stream", "Accept-Encoding": "gzip"},
        auto_decompress=False,
    )
    assert await response.read() == compressed


async def test_large_answers_stream_through(harness: Harness) -> None:
    size = 8 * 1024 * 1024
    response = await harness.proxy.get(f"/_emulator/blob/{size}")
    assert response.status == 200
    assert response.headers["Content-Length"] == str(size)
    received = 0
    async for chunk in response.content.iter_chunked(1 << 20):
        received += len(chunk)
    assert received == size


async def test_errors_from_amazon_are_relayed_not_rewritten(harness: Harness) -> None:
    response = await harness.proxy.get("/orders/v0/orders/999-0000000-0000000")
    assert response.status == 404
    assert "x-spproxy-origin" not in response.headers
    assert response.headers["x-spproxy-operation"] == "getOrder"
    response = await harness.proxy.get("/orders/v0/orders")  # Amazon wants MarketplaceIds
    assert response.status == 400
    assert (await response.json())["errors"][0]["code"] == "InvalidInput"
    assert "x-spproxy-origin" not in response.headers
    response = await harness.proxy.get("/no/such/api")
    assert response.headers["x-spproxy-operation"] == "unknown"
    assert response.headers["x-spproxy-credential"] == "lwa"


async def test_an_answer_broken_off_upstream_reaches_the_client_truncated_not_complete(
    start: StartHarness, aiohttp_server: Callable[[web.Application], Awaitable[TestServer]]
) -> None:
    async def break_off(request: web.Request) -> web.StreamResponse:
        answer = web.StreamResponse(headers={"Content-Length": "100000"})
        await answer.prepare(request)
        await answer.write(b"x" * 1000)
        assert request.transport is not None
        request.transport.close()
        return answer

    broken = web.Application()
    broken.router.add_get("/{path:.*}", break_off)
    server = await aiohttp_server(broken)
    harness = await start(endpoint=str(server.make_url("")).rstrip("/"))
    response = await harness.proxy.get("/sellers/v1/marketplaceParticipations")
    assert response.status == 200  # the status line had gone out before the break
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()
    assert (await harness.proxy.get("/_spproxy/health")).status == 200
