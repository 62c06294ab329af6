"""`spproxy serve --workers N`: real processes on one port, sharing state through a real Redis."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import os
import signal
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from spproxy.emulator import make_emulator_app
from tests.harness import Served, ServerFactory, finish, serve, serve_yaml, start_spproxy

STATE_KEY = base64.b64encode(os.urandom(32)).decode()
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"


def with_state(redis_url: str) -> str:
    return f"state:\n  url: {redis_url}\n  key: {STATE_KEY}\n"


@pytest.fixture
async def emulator(aiohttp_server: ServerFactory) -> TestServer:
    server: TestServer = await aiohttp_server(make_emulator_app())
    return server


async def pid_answering(base: str) -> int:
    """The pid of the worker a fresh connection reaches."""
    connector = aiohttp.TCPConnector(force_close=True)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(f"{base}/_spproxy/status") as response,
    ):
        status = await response.json()
        assert status["shared_state"]["up"] is True  # every worker reaches the Redis
        return int(status["pid"])


@pytest.mark.parametrize(
    ("args", "env", "problem"),
    [
        (["--workers", "3"], {}, "--workers 3: needs shared state (state.url)"),
        (["--workers", "0"], {}, "--workers: must be a number from 1 to 64, got '0'"),
        ([], {"SPPROXY_WORKERS": "many"}, "SPPROXY_WORKERS: must be a number from 1 to 64"),
    ],
)
async def test_workers_that_cannot_share_are_refused_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], problem: str
) -> None:
    config = tmp_path / "spproxy.yaml"
    config.write_text(serve_yaml("http://127.0.0.1:9", 0))
    process = await start_spproxy("serve", "--config", str(config), *args, env=env)
    code, _, err = await finish(process)
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith(f"spproxy: config: {problem}")


def two_workers(
    tmp_path: Path, redis_url: str, emulator: TestServer
) -> AsyncContextManager[Served]:
    """`spproxy serve --workers 2` in front of the emulator, sharing state through the Redis."""
    url = str(emulator.make_url("")).rstrip("/")
    config = partial(serve_yaml, url, extra=with_state(redis_url))
    return serve(tmp_path, config, "--workers", "2")


async def test_workers_share_one_port_and_stop_together(
    tmp_path: Path, redis_url: str, emulator: TestServer
) -> None:
    async with two_workers(tmp_path, redis_url, emulator) as proxy:
        pids = {await pid_answering(proxy.base) for _ in range(40)}  # the kernel spreads them
        assert len(pids) == 2 and proxy.process.pid not in pids
        async with (
            aiohttp.ClientSession(proxy.base) as session,
            session.get(PARTICIPATIONS) as answer,
        ):
            assert answer.status == 200
    assert "worker 1 of 2" in proxy.log and "worker 2 of 2" in proxy.log
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert proxy.log.count(f"; event loop {loop}\n") == 2  # each worker runs it


async def test_a_worker_that_dies_is_started_again(
    tmp_path: Path, redis_url: str, emulator: TestServer
) -> None:
    async with two_workers(tmp_path, redis_url, emulator) as proxy:
        pids = {await pid_answering(proxy.base) for _ in range(40)}
        victim = pids.pop()
        os.kill(victim, signal.SIGKILL)
        seen: set[int] = set()
        for _ in range(200):  # bounded: ~20 s for the parent to start a new worker
            # the dead worker's socket refuses while the kernel still routes to it
            with contextlib.suppress(aiohttp.ClientConnectionError):
                seen.add(await pid_answering(proxy.base))
            if seen - pids - {victim}:
                break
            await asyncio.sleep(0.1)
        assert seen - pids - {victim}, "no new worker answered"
    assert "starting it again" in proxy.log
