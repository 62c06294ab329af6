"""Replicas for the tests of shared state: each with its own Redis client, on one namespace and
one sealing key, as spproxy processes configured with the same `state:` are."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import redis.asyncio

from spproxy.redispipe import Pipe
from spproxy.sealing import Sealer
from spproxy.sharedstate import SharedState
from tests.harness import free_port

SEALING_KEY = bytes(range(32))
NAMESPACE = "test-app"


def shared_state(
    url: str, *, key: bytes = SEALING_KEY, clock: Callable[[], float] = time.monotonic
) -> SharedState:
    """As `sharedstate.connect` makes it, with a pipe for the reservations."""
    client = redis.asyncio.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    pipe = Pipe(client.connection_pool, 2.0)
    return SharedState(client, NAMESPACE, Sealer(key), clock=clock, pipe=pipe)


def unreachable_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


@asynccontextmanager
async def shared_states(url: str, count: int) -> AsyncIterator[list[SharedState]]:
    """`count` replicas' shared states on `url`, each with a client of its own; closed after."""
    async with AsyncExitStack() as stack:
        states = [shared_state(url) for _ in range(count)]
        for state in states:
            stack.push_async_callback(state.aclose)
        yield states


class Waiting:
    """Which replicas wait for another's token, told by their sleeps (they poll Redis): so a
    test releases a holder once the others wait, not after a guessed delay."""

    def __init__(self, replicas: int) -> None:
        self._replicas = replicas
        self._waiting: set[int] = set()
        self.all_wait = asyncio.Event()  # all but the holder

    def sleep(self, replica: int) -> Callable[[float], Awaitable[None]]:
        async def sleep(seconds: float) -> None:
            self._waiting.add(replica)
            if len(self._waiting) == self._replicas - 1:
                self.all_wait.set()
            await asyncio.sleep(seconds)

        return sleep


async def redis_snapshot(url: str) -> dict[bytes, bytes]:
    """Every key in the database and its value, as someone who copies Redis would see them."""
    client = redis.asyncio.Redis.from_url(url)
    try:
        snapshot = {}
        for key in await client.keys("*"):
            value = await client.get(key)
            assert isinstance(key, bytes) and isinstance(value, bytes)
            snapshot[key] = value
        return snapshot
    finally:
        await client.aclose()
