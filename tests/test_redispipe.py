"""The pipe against a real Redis: replies in order to concurrent commands, an error reply to its
command alone, a lost connection failing what was in flight and the next command connecting
again, a silent server bounded by the timeout, a script Redis has lost loaded again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

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


class HeldReplies:
    """A TCP relay to Redis that holds Redis's bytes until released: the handshake redis-py
    makes on connecting (HELLO, CLIENT SETINFO, ...) stays unanswered meanwhile."""

    def __init__(self, redis_url: str) -> None:
        self._target = urlsplit(redis_url)
        self.released = asyncio.Event()
        self.received = asyncio.Event()  # the client sent its first bytes
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = self._target.hostname or "127.0.0.1", self._target.port or 6379
        upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        self._writers += [writer, upstream_writer]
        for task in (
            self._pump(reader, upstream_writer, self.received, None),
            self._pump(upstream_reader, writer, None, self.released),
        ):
            self._tasks.add(asyncio.create_task(task))

    @staticmethod
    async def _pump(
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        seen: asyncio.Event | None,
        gate: asyncio.Event | None,
    ) -> None:
        while data := await source.read(65536):
            if seen is not None:
                seen.set()
            if gate is not None:
                await gate.wait()
            sink.write(data)
        sink.close()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for writer in self._writers:
            writer.close()
        self._server.close()
        await self._server.wait_closed()


async def test_a_command_waits_for_the_handshake_of_a_connection_being_opened(
    redis_url: str,
) -> None:
    """redis-py says connected once the socket opens, before its handshake's replies are read:
    a command written then would take one of them, and every reply after would be off by one."""
    relay = HeldReplies(redis_url)
    client = redis.asyncio.Redis(host="127.0.0.1", port=await relay.start())
    pipe = Pipe(client.connection_pool, TIMEOUT_S)
    try:
        first = asyncio.ensure_future(pipe.execute(pipe.pack("ECHO", "first")))
        async with asyncio.timeout(TIMEOUT_S):
            await relay.received.wait()  # the handshake is sent, its replies held
        second = asyncio.ensure_future(pipe.execute(pipe.pack("ECHO", "second")))
        relay.released.set()
        assert await first == b"first" and await second == b"second"
    finally:
        await pipe.aclose()
        await client.aclose()
        await relay.close()


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
