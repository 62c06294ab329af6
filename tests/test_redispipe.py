"""The pipe against a real Redis: replies in order to concurrent commands, an error reply to its
command alone, a lost connection failing what was in flight and the next command connecting
again, a silent server bounded by the timeout, a script Redis has lost loaded again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from spproxy.redispipe import Pipe
from tests.harness import free_port

TIMEOUT_S = 5.0  # what the tests never reach, except the silent server's
SCRIPT = "return {KEYS[1], ARGV[1]}"


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url, socket_timeout=TIMEOUT_S)
    yield client
    await client.aclose()


@pytest.fixture
async def pipe(client: redis.asyncio.Redis) -> AsyncIterator[Pipe]:
    pipe = Pipe(client.connection_pool, TIMEOUT_S)
    yield pipe
    await pipe.aclose()


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Polls Redis's own view (a client blocked, a key written), bounded."""
    async with asyncio.timeout(TIMEOUT_S):
        while not await condition():  # noqa: ASYNC110 - Redis is another process
            await asyncio.sleep(0.01)


async def blocked(client: redis.asyncio.Redis, count: int) -> bool:
    return int((await client.info("clients"))["blocked_clients"]) == count


async def test_concurrent_commands_each_get_their_own_reply_on_one_connection(
    pipe: Pipe, client: redis.asyncio.Redis
) -> None:
    connected = int((await client.info("clients"))["connected_clients"])
    replies = await asyncio.gather(*(pipe.execute(pipe.pack("ECHO", f"r{i}")) for i in range(300)))
    assert replies == [f"r{i}".encode() for i in range(300)]
    assert int((await client.info("clients"))["connected_clients"]) == connected + 1


async def test_an_error_reply_goes_to_its_command_alone_and_the_connection_stays(
    pipe: Pipe, client: redis.asyncio.Redis
) -> None:
    await client.hset("pipe:hash", "f", "v")
    before = await pipe.execute(pipe.pack("CLIENT", "ID"))
    replies = await asyncio.gather(
        pipe.execute(pipe.pack("ECHO", "a")),
        pipe.execute(pipe.pack("INCR", "pipe:hash")),  # WRONGTYPE
        pipe.execute(pipe.pack("ECHO", "b")),
        return_exceptions=True,
    )
    assert replies[0] == b"a" and replies[2] == b"b"
    assert isinstance(replies[1], redis.exceptions.ResponseError)
    assert await pipe.execute(pipe.pack("CLIENT", "ID")) == before


async def test_a_lost_connection_fails_what_was_in_flight_and_the_next_command_reconnects(
    pipe: Pipe, client: redis.asyncio.Redis
) -> None:
    first = await pipe.execute(pipe.pack("CLIENT", "ID"))
    waiting = asyncio.gather(
        pipe.execute(pipe.pack("BLPOP", "pipe:never", 0)),  # in flight until the kill
        pipe.execute(pipe.pack("ECHO", "behind it")),
        return_exceptions=True,
    )
    await until(lambda: blocked(client, 1))
    await client.client_kill_filter(_id=first)
    failures = await waiting
    assert all(isinstance(f, redis.exceptions.ConnectionError) for f in failures), failures
    assert await pipe.execute(pipe.pack("ECHO", "again")) == b"again"
    assert await pipe.execute(pipe.pack("CLIENT", "ID")) != first


async def test_a_caller_that_gives_up_leaves_the_order_of_the_others_intact(
    pipe: Pipe, client: redis.asyncio.Redis
) -> None:
    await client.delete("pipe:list")
    gone = asyncio.ensure_future(pipe.execute(pipe.pack("BLPOP", "pipe:list", 0)))
    behind = asyncio.ensure_future(pipe.execute(pipe.pack("ECHO", "mine")))
    await until(lambda: blocked(client, 1))
    gone.cancel()
    await client.rpush("pipe:list", "x")  # the BLPOP's reply comes, for nobody
    assert await behind == b"mine"
    assert gone.cancelled()


async def test_a_silent_server_fails_the_call_at_the_timeout() -> None:
    accepted: list[asyncio.StreamWriter] = []
    silent = await asyncio.start_server(lambda _, w: accepted.append(w), "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    client = redis.asyncio.Redis(host="127.0.0.1", port=port, protocol=2)
    pipe = Pipe(client.connection_pool, 0.2)
    try:
        with pytest.raises(redis.exceptions.TimeoutError):
            await pipe.execute(pipe.pack("PING"))
    finally:
        await pipe.aclose()
        await client.aclose()
        for writer in accepted:
            writer.close()
        silent.close()
        await silent.wait_closed()


async def test_nothing_listening_is_a_connection_error() -> None:
    # No retry, as sharedstate.connect makes its client: the pipe's connection is the same.
    client = redis.asyncio.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))
    pipe = Pipe(client.connection_pool, TIMEOUT_S)
    try:
        with pytest.raises(redis.exceptions.ConnectionError):
            await pipe.execute(pipe.pack("PING"))
    finally:
        await pipe.aclose()
        await client.aclose()


async def test_a_script_redis_has_lost_is_loaded_again(
    pipe: Pipe, client: redis.asyncio.Redis
) -> None:
    script = pipe.script(SCRIPT)
    command = script.command(["pipe:k"], ["v"])
    assert await script(command) == [b"pipe:k", b"v"]
    await client.script_flush()
    assert await script(command) == [b"pipe:k", b"v"]


async def test_close_fails_what_is_in_flight(pipe: Pipe, client: redis.asyncio.Redis) -> None:
    waiting = asyncio.ensure_future(pipe.execute(pipe.pack("BLPOP", "pipe:never", 0)))
    await until(lambda: blocked(client, 1))
    await pipe.aclose()
    with pytest.raises(redis.exceptions.ConnectionError):
        await waiting
