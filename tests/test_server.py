"""The server under the app: SP-API answers where aiohttp would answer alone, a header deadline."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from spproxy.server import ProxyRunner
from tests.harness import free_port


@pytest.fixture
async def port() -> AsyncIterator[int]:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"hello": "world"})

    app = web.Application()
    app.router.add_get("/hello", hello)
    runner = ProxyRunner(app, header_timeout_s=0.2, access_log=None)
    await runner.setup()
    chosen = free_port()
    await web.TCPSite(runner, "127.0.0.1", chosen).start()
    yield chosen
    await runner.cleanup()


async def _exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    async with asyncio.timeout(10):
        answer = await reader.read()  # until the server closes the connection
    writer.close()
    await writer.wait_closed()
    return answer


async def test_keep_alive_requests_are_served_and_slow_headers_get_408(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    async with asyncio.timeout(10):
        for _ in range(2):  # the deadline starts with each request's first byte, not before
            writer.write(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200 OK")
            await reader.readexactly(len(b'{"hello": "world"}'))
            await asyncio.sleep(0.3)  # idle longer than the header deadline: no 408 for that
        writer.write(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
        answer = await reader.read()  # until the server closes the connection
    writer.close()
    await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"x-spproxy-origin: proxy" in head and b"Connection: close" in head
    assert json.loads(body)["errors"][0]["code"] == "RequestTimeout"


async def test_a_request_right_after_another_still_gets_its_408(port: int) -> None:
    """The connection's one timer, set for the first request's deadline, sleeps on to the next
    request's when it fires."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    async with asyncio.timeout(10):
        writer.write(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200 OK")
        await reader.readexactly(len(b'{"hello": "world"}'))
        writer.write(b"GET /hello HTTP/1.1\r\n")  # at once: the first timer is still set
        answer = await reader.read()  # until the server closes the connection
    writer.close()
    await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout")


async def test_what_aiohttp_cannot_parse_gets_an_sp_api_error_that_quotes_nothing(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="spproxy.access")
    answer = await _exchange(port, b"GET /hello?q=secret-value HTTP/1.1 junk\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 400 " in head.split(b"\r\n")[0]
    assert b"x-spproxy-origin: proxy" in head
    assert json.loads(body)["errors"][0]["code"] == "InvalidInput"
    assert b"secret-value" not in answer
    (line,) = [r.getMessage() for r in caplog.records if r.name == "spproxy.access"]
    assert "status=400" in line and "secret-value" not in line
