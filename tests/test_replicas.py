"""Three real `spproxy serve` processes, one Redis, the emulator enforcing Amazon's usage plans:
one seller's quota and tokens shared, as if they were one process (issue 12)."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from spproxy.emulator import (
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    make_emulator_app,
)
from tests.harness import Served, ServerFactory, free_port, serve, serve_yaml
from tests.redis_server import wait_for_port

STATE_SECRET = base64.b64encode(os.urandom(32)).decode()
CLIENT_KEY = "replicated-client-key-0123456789"
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"  # Amazon's plan: 0.016/s, burst 15
ADDRESS = "/orders/v0/orders/902-1845936-5435065/address"  # restricted: an RDT
REPLICAS = 3


def replica_yaml(emulator: str, redis_url: str | None, port: int, state_options: str = "") -> str:
    """Pacing on as shipped, a short queue: a call beyond the plan is spproxy's 429 at once."""
    state = (
        f"state:\n  url: {redis_url}\n  key: {STATE_SECRET}\n{state_options}" if redis_url else ""
    )
    clients = f"clients:\n  app:\n    key: {CLIENT_KEY}\n    pii: true\n"
    return serve_yaml(
        emulator, port, pacing=True, upstream="  queue_timeout_s: 1", extra=state + clients
    )


@asynccontextmanager
async def replicas(
    tmp_path: Path, emulator: str, redis_url: str | None
) -> AsyncIterator[list[Served]]:
    async with AsyncExitStack() as stack:
        served = []
        for n in range(REPLICAS):
            folder = tmp_path / f"replica-{n}"
            folder.mkdir()
            config = lambda port: replica_yaml(emulator, redis_url, port)  # noqa: E731
            served.append(await stack.enter_async_context(serve(folder, config)))
        yield served
    for proxy in served:  # stopped: their logs are complete
        assert_no_secret_in(proxy.log)


def assert_no_secret_in(log: str) -> None:
    """No state key, client key, token or refresh token in what a replica logged."""
    for secret in (STATE_SECRET, CLIENT_KEY, DEMO_REFRESH_TOKEN, "Atza|", "Atz.sprdt", "Atzr|"):
        assert secret not in log


@pytest.fixture
async def amazon(aiohttp_server: ServerFactory) -> TestServer:
    server: TestServer = await aiohttp_server(make_emulator_app(EmulatorConfig(rate_limits=True)))
    return server


def state_of(server: TestServer) -> EmulatorState:
    return server.app[STATE_KEY]


async def get(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """(status, who answered: amazon or proxy)."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base}{path}", headers={"x-spproxy-key": CLIENT_KEY, **(headers or {})}) as r,
    ):
        await r.read()
        return r.status, r.headers.get("x-spproxy-origin", "amazon")


async def six_calls_each(served: list[Served]) -> Counter[tuple[int, str]]:
    """18 concurrent calls, six through each replica: three more than the plan's burst."""
    calls = [get(proxy.base, PARTICIPATIONS) for proxy in served for _ in range(6)]
    return Counter(await asyncio.gather(*calls))


async def test_three_replicas_on_redis_spend_one_plan_and_draw_no_429_from_amazon(
    tmp_path: Path, redis_url: str, amazon: TestServer
) -> None:
    url = str(amazon.make_url("")).rstrip("/")
    async with replicas(tmp_path, url, redis_url) as served:
        outcomes = await six_calls_each(served)
    assert outcomes == {(200, "amazon"): 15, (429, "proxy"): 3}  # the burst, then spproxy's 429s
    assert state_of(amazon).quota_refusals == 0


async def test_three_replicas_without_shared_state_each_spend_the_plan(
    tmp_path: Path, amazon: TestServer
) -> None:
    url = str(amazon.make_url("")).rstrip("/")
    async with replicas(tmp_path, url, None) as served:
        outcomes = await six_calls_each(served)
    assert outcomes == {(200, "amazon"): 15, (429, "amazon"): 3}  # Amazon's own 429s
    assert state_of(amazon).quota_refusals == 3 * 4  # each retried 3 times into the same wall


async def test_three_replicas_exchange_once_mint_once_and_honour_each_others_placeholders(
    tmp_path: Path, redis_url: str, amazon: TestServer
) -> None:
    url = str(amazon.make_url("")).rstrip("/")
    async with replicas(tmp_path, url, redis_url) as served:
        # Each replica's keeper wanted the seller's token at start-up: one exchange served all.
        assert state_of(amazon).lwa_exchanges["refresh_token"] == 1
        statuses = await asyncio.gather(*(get(p.base, ADDRESS) for p in served for _ in range(4)))
        assert set(statuses) == {(200, "amazon")}
        assert len(state_of(amazon).rdt_mints) == 1  # one RDT for twelve calls on three replicas
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{served[0].base}/auth/o2/token",
                data={"grant_type": "refresh_token", "refresh_token": CLIENT_KEY},
            ) as exchanged,
        ):
            placeholder = (await exchanged.json())["access_token"]
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{served[2].base}{PARTICIPATIONS}", headers={"x-amz-access-token": placeholder}
            ) as answer,
        ):
            assert answer.status == 200  # signed by replica 0, verified by replica 2
    assert state_of(amazon).lwa_exchanges["refresh_token"] == 1


async def test_no_request_fails_while_redis_is_down_and_shared_state_comes_back_by_itself(
    tmp_path: Path, amazon: TestServer
) -> None:
    url = str(amazon.make_url("")).rstrip("/")
    redis_port = free_port()  # nothing listens there yet: Redis is down at start
    state = f"redis://127.0.0.1:{redis_port}/0"

    def config(port: int) -> str:
        return replica_yaml(url, state, port, "  retry_s: 0.1\n  local_share: 0.2\n")

    async with serve(tmp_path, config) as proxy:
        statuses = [(await get(proxy.base, ADDRESS))[0] for _ in range(3)]
        assert statuses == [200, 200, 200]  # served on local state
        body = await ready_body(proxy.base)
        assert body["shared_state"] == "down: local state, 20% of each usage plan"
        redis_server = start_redis(tmp_path, redis_port)
        try:
            for _ in range(100):  # bounded: ~10 s for a call to find Redis back
                await get(proxy.base, PARTICIPATIONS)
                if (await ready_body(proxy.base))["shared_state"] == "up":
                    break
                await asyncio.sleep(0.1)
            assert (await ready_body(proxy.base))["shared_state"] == "up"
        finally:
            redis_server.terminate()
            redis_server.wait(timeout=10)
    assert_no_secret_in(proxy.log)
    assert proxy.log.count("Redis unavailable") == 1  # logged once, however many calls
    assert "Redis answers again" in proxy.log


async def ready_body(base: str) -> dict[str, object]:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/_spproxy/ready") as r:
        body: dict[str, object] = await r.json()
        assert r.status == 200  # ready with Redis down too: tokens are what readiness needs
        return body


def start_redis(folder: Path, port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server on PATH")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, process)
    return process
