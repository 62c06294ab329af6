"""A real Redis for the tests that share state: the one CI started (SPPROXY_TEST_REDIS_URL), or
a redis-server (or valkey-server) from PATH started for this test session on a free port.
Tests that need it are skipped, saying why, only when neither is there."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio

from tests.harness import free_port

REDIS_URL_VARIABLE = "SPPROXY_TEST_REDIS_URL"
START_TIMEOUT_S = 10.0


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)  # a server starting: polled, bounded by START_TIMEOUT_S
    raise RuntimeError(f"redis-server did not listen on {port} within {START_TIMEOUT_S} s")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a Redis server for this test session (database 0 is the tests' own)."""
    if url := os.environ.get(REDIS_URL_VARIABLE):
        yield url
        return
    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if binary is None:
        pytest.skip(f"no Redis: neither {REDIS_URL_VARIABLE} nor redis-server on PATH")
    port = free_port()
    folder: Path = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=START_TIMEOUT_S)


@pytest.fixture
async def redis_url(redis_server: str) -> AsyncIterator[str]:
    """The session's Redis, emptied before each test."""
    client = redis.asyncio.Redis.from_url(redis_server)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    yield redis_server
