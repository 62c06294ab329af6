"""The application's own answers: reserved paths, and the error shape of everything it makes."""

from __future__ import annotations

import logging

import pytest

from tests.harness import Harness


async def test_health_and_ready(harness: Harness) -> None:
    health = await harness.proxy.get("/_spproxy/health")
    assert health.status == 200 and await health.json() == {"status": "ok"}
    await harness.proxy.get("/sellers/v1/marketplaceParticipations")  # a token is in, surely
    ready = await harness.proxy.get("/_spproxy/ready")
    assert ready.status == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_spproxy/"),
        ("GET", "/_spproxy/secrets"),
        ("POST", "/_spproxy/health"),
        ("DELETE", "/_spproxy/ready"),
    ],
)
async def test_reserved_paths_are_never_forwarded(harness: Harness, method: str, path: str) -> None:
    response = await harness.proxy.request(method, path)
    assert response.status == 404
    assert response.headers["x-spproxy-origin"] == "proxy"
    error = (await response.json())["errors"][0]
    assert error["code"] == "NotFound" and path in error["message"]
    assert set(error) == {"code", "message", "details"}
    assert harness.amazon.requests == []


async def test_reserved_paths_stay_out_of_the_access_log(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="spproxy.access")
    await harness.proxy.get("/_spproxy/health")
    await harness.proxy.get("/sellers/v1/marketplaceParticipations")
    lines = [r.getMessage() for r in caplog.records if r.name == "spproxy.access"]
    assert len(lines) == 1 and "getMarketplaceParticipations" in lines[0]
