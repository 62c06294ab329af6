"""The container health check against a real proxy: 200 is healthy, anything else is not."""

from __future__ import annotations

import asyncio

import pytest

from spproxy.probe import main, probe_url
from tests.harness import Harness, StartHarness, free_port


def port_of(harness: Harness) -> str:
    return str(harness.proxy.server.port)


async def test_health_and_ready_of_a_serving_proxy(harness: Harness) -> None:
    env = {"SPPROXY_PORT": port_of(harness)}
    # urllib blocks: off the event loop, which serves the proxy.
    assert await asyncio.to_thread(main, [], env) == 0
    assert await asyncio.to_thread(main, ["health"], env) == 0
    assert await asyncio.to_thread(main, ["ready"], env) == 0


async def test_not_ready_when_the_token_exchange_failed(
    start: StartHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    harness = await start(accounts={"main": "Atzr|revoked"})
    env = {"SPPROXY_PORT": port_of(harness)}
    assert await asyncio.to_thread(main, ["health"], env) == 0  # alive all the same
    assert await asyncio.to_thread(main, ["ready"], env) == 1
    line = capsys.readouterr().out
    assert "/_spproxy/ready: 503" in line and "invalid_grant" in line
    assert "Atzr|revoked" not in line


def test_nothing_listening_is_unhealthy(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert main(["health"], {"SPPROXY_PORT": str(port)}) == 1
    assert f"http://127.0.0.1:{port}/_spproxy/health: " in capsys.readouterr().out


def test_the_port_defaults_to_8000_and_bad_arguments_are_refused() -> None:
    assert probe_url("ready", {}) == "http://127.0.0.1:8000/_spproxy/ready"
    assert probe_url("ready", {"SPPROXY_PORT": ""}) == "http://127.0.0.1:8000/_spproxy/ready"
    assert probe_url("health", {"SPPROXY_PORT": "9001"}) == "http://127.0.0.1:9001/_spproxy/health"
    assert main(["metrics"], {}) == 2
    assert main(["health", "ready"], {}) == 2
