"""Request bodies: whole, bounded in size and in time (the LWA stand-in reads them too)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from spproxy.app import make_app
from spproxy.emulator import STATE_KEY, EmulatorState, make_emulator_app
from spproxy.server import ProxyRunner
from tests.harness import Harness, free_port, proxy_config


async def test_a_body_over_the_limit_is_413_declared_or_sent(harness: Harness) -> None:
    limit = harness.config.upstream.max_body_bytes
    body = io.BytesIO(b"x" * (limit + 1))
    answer = await harness.proxy.post("/feeds/2021-06-30/documents", data=body)
    assert answer.status == 413
    assert (await answer.json())["errors"][0]["code"] == "RequestEntityTooLarge"


@pytest.fixture
async def served(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> AsyncIterator[tuple[int, EmulatorState]]:
    """The proxy app as `spproxy serve` runs it, with listen.body_timeout_s 0.2."""
    emulator = await aiohttp_server(make_emulator_app())
    config = proxy_config(str(emulator.make_url("")).rstrip("/"))
    config = replace(config, listen=replace(config.listen, body_timeout_s=0.2))
    runner = ProxyRunner(make_app(config), header_timeout_s=10, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port, emulator.app[STATE_KEY]
    await runner.cleanup()


@pytest.mark.parametrize("path", ["/feeds/2021-06-30/documents", "/auth/o2/token"])
async def test_a_body_that_stalls_is_408_and_the_connection_closed(
    served: tuple[int, EmulatorState], path: str
) -> None:
    port, amazon = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{{".encode())
    async with asyncio.timeout(10):
        answer = await reader.read()  # until spproxy closes the connection
    writer.close()
    await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"code": "RequestTimeout"' in answer
    assert amazon.requests == []
