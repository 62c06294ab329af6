"""One connection to Redis on which commands are written as they come and answered in order.

redis-py's asyncio client takes a connection from its pool for each command and gives it back,
checks the socket, times the write in a task of its own and packs the command each time: about
140 us of CPU per command, several times the round trip on loopback (about 25 us). The
rate-limit reservation runs on every request, so it goes through a `Pipe` instead. Its
connection is redis-py's own (connect, TLS, AUTH, SELECT, Sentinel's master, the reply parser),
held for the process. A command, packed once by its caller, is written at once, even while
others await their replies (Redis answers a connection's commands in the order they came), and
one reader task hands each reply to its caller; the caller bounds the whole call.

An error reply (NOSCRIPT, a wrong type) goes to its command alone. Anything else (the
connection lost, Redis silent past the timeout) fails every command in flight and drops the
connection; the next command connects again. redis-py has no such "auto-pipelining" of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import Sequence
from typing import Any

import redis.exceptions
from redis.asyncio.connection import AbstractConnection, ConnectionPool


class Pipe:
    def __init__(self, pool: ConnectionPool, timeout_s: float) -> None:
        # The pool's settings without its socket timeout: `execute` bounds each call instead.
        self._settings = {**pool.connection_kwargs, "socket_timeout": None}
        self._connection_class = pool.connection_class
        self._timeout_s = timeout_s
        # One connection at a time, with the replies it owes; a failed one is replaced whole,
        # so nothing of it (its reader, a late reply) can touch the next.
        self._connection: AbstractConnection = self._connection_class(**self._settings)
        self._ready: AbstractConnection | None = None  # the connection whose handshake is done
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._reader: asyncio.Task[None] | None = None
        self._connecting = asyncio.Lock()

    def script(self, source: str) -> PipedScript:
        return PipedScript(self, source)

    def pack(self, *args: str | bytes | int | float) -> bytes:
        """A command's bytes, for `execute` (pack once, send many times)."""
        return b"".join(self._connection.pack_command(*args))

    async def execute(self, command: bytes) -> Any:
        """Redis's reply to `command`; a RedisError when it fails or does not come in time."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._send(command)
        except TimeoutError:
            failure = redis.exceptions.TimeoutError("Redis did not answer in time")
            await self._drop(failure)
            raise failure from None

    async def _send(self, command: bytes) -> Any:
        # Not `is_connected`: that is true once the socket opens, while redis-py still reads
        # the replies of its handshake (HELLO, AUTH, SELECT); a command written then takes one.
        while not (self._ready is self._connection and self._connection.is_connected):
            if self._ready is self._connection:  # redis-py dropped it (an error being read)
                await self._retire(self._connection, self._waiting, ConnectionError("dropped"))
                continue
            async with self._connecting:
                connection = self._connection
                if self._ready is not connection:
                    await connection.connect()  # type: ignore[no-untyped-call]  # redis-py
                    self._ready = connection
        # No await from here to the write: replies come in the order of `waiting`.
        connection, waiting = self._connection, self._waiting
        reply = asyncio.get_running_loop().create_future()
        waiting.append(reply)
        try:
            await connection.send_packed_command(command, check_health=False)
        except BaseException as error:
            await self._retire(connection, waiting, error)
            raise
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(connection, waiting))
        return await reply

    async def _read(
        self, connection: AbstractConnection, waiting: deque[asyncio.Future[Any]]
    ) -> None:
        """Hand `connection`'s replies out in order while commands wait for them."""
        try:
            while waiting:
                try:
                    reply: Any = await connection.read_response(timeout=float("inf"))
                except redis.exceptions.ResponseError as error:  # this command's own
                    reply = error
                waiter = waiting.popleft()
                if waiter.done():  # its caller gave up (went away, timed out)
                    continue
                if isinstance(reply, Exception):
                    waiter.set_exception(reply)
                else:
                    waiter.set_result(reply)
        except BaseException as error:
            await self._retire(connection, waiting, error)
            if isinstance(error, asyncio.CancelledError):
                raise
        finally:
            if self._reader is asyncio.current_task():
                self._reader = None

    async def _retire(
        self,
        connection: AbstractConnection,
        waiting: deque[asyncio.Future[Any]],
        error: BaseException,
    ) -> None:
        """Fail what `connection` owes and close it; the next command opens another."""
        if self._connection is connection:
            self._connection = self._connection_class(**self._settings)
            self._waiting = deque()
            self._reader = None
        failure = (
            error
            if isinstance(error, redis.exceptions.RedisError)
            else redis.exceptions.ConnectionError(f"Redis connection lost ({type(error).__name__})")
        )
        while waiting:
            waiter = waiting.popleft()
            if not waiter.done():
                waiter.set_exception(failure)
        await connection.disconnect(nowait=True)

    async def aclose(self) -> None:
        await self._drop(redis.exceptions.ConnectionError("closed"))

    async def _drop(self, failure: redis.exceptions.RedisError) -> None:
        """Retire the connection in use, and stop its reader (it may wait on a silent Redis)."""
        reader = self._reader
        await self._retire(self._connection, self._waiting, failure)
        if reader is not None:
            reader.cancel()


class PipedScript:
    """A Lua script run by EVALSHA through a `Pipe`, loaded again if Redis has lost it."""

    def __init__(self, pipe: Pipe, source: str) -> None:
        self._pipe = pipe
        self._load = pipe.pack("SCRIPT", "LOAD", source)
        self._sha = hashlib.sha1(source.encode()).hexdigest()  # noqa: S324 - Redis's script id

    def command(self, keys: Sequence[str], args: Sequence[str | int | float]) -> bytes:
        return self._pipe.pack("EVALSHA", self._sha, len(keys), *keys, *args)

    async def __call__(self, command: bytes) -> Any:
        try:
            return await self._pipe.execute(command)
        except redis.exceptions.NoScriptError:  # Redis restarted, or its scripts were flushed
            await self._pipe.execute(self._load)
            return await self._pipe.execute(command)
