"""One keep-alive HTTP/1.1 connection to Amazon, and an answer read from it.

Why not aiohttp's ClientSession here: at saturation it cost about 100 us of CPU per call, more
than half of a whole bare pass-through (request objects, tracing, cookie and redirect handling,
middleware chains, a timer per request). spproxy's calls to SP-API need none of that: a request
is written in one call, and the answer is parsed by aiohttp's own llhttp parser (its C one), so
the bytes from the network are read by the same well-kept code as before. `http1pool` keeps
these connections; LWA, STS and document downloads still go through aiohttp's session.

Errors, all aiohttp's, so callers catch what they caught before:

    aiohttp.ClientError
      ConnectFailed            no connection (or proxy tunnel) opened: nothing was sent
      ServerDisconnectedError  the connection closed before the answer's headers
      ClientPayloadError       the answer broke off mid-body, or was not HTTP/1.1
    ServerTimeoutError         no byte for timeout_s (a TimeoutError too)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType

import aiohttp
from aiohttp import hdrs
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http import HttpResponseParser, RawResponseMessage
from aiohttp.streams import StreamReader
from multidict import CIMultiDictProxy

READ_LIMIT = 2**16  # bytes buffered per answer before reading pauses (aiohttp's default)
LARGE_BODY = 2**16  # a request's body past this is written on its own, and drained


class ConnectFailed(aiohttp.ClientConnectionError):
    """The connection, or the proxy's tunnel, never opened: nothing was sent."""


class Connection(BaseProtocol):
    """One connection: sends a request, hands over the answer's head, feeds its body.

    Timeouts cost no timer per request: `_deadline` moves, and one timer per connection, when
    it fires, sleeps on to the current deadline or fails the call.
    """

    __slots__ = (
        "_close_after",
        "_deadline",
        "_payload",
        "_timeout_s",
        "_timer",
        "_waiter",
        "_with_body",
        "idle_since",
        "lost",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, lost: Callable[[Connection], None]) -> None:
        super().__init__(loop, _parser(self, loop, with_body=True))
        self._waiter: asyncio.Future[tuple[RawResponseMessage, StreamReader]] | None = None
        self._payload: StreamReader | None = None
        self._with_body = True
        self._close_after = False  # the answer said Connection: close (or was HTTP/1.0)
        self._timeout_s = 0.0
        self._deadline = 0.0  # 0: nothing awaited
        self._timer: asyncio.TimerHandle | None = None
        self.lost = lost  # tells the pool, which forgets an idle connection the server closed
        self.idle_since = 0.0  # the loop's time it went back to the pool

    def send(
        self, head: bytes, body: bytes, *, with_body: bool, timeout_s: float
    ) -> asyncio.Future[tuple[RawResponseMessage, StreamReader]]:
        """Write the request; the future holds the answer's head and its body's reader."""
        assert self.transport is not None and self._waiter is None
        if with_body is not self._with_body:  # a HEAD's answer has headers only
            self._parser = _parser(self, self._loop, with_body=with_body)
            self._with_body = with_body
        self._waiter = waiter = self._loop.create_future()
        self._payload = None
        self._timeout_s = timeout_s
        self._deadline = self._loop.time() + timeout_s
        timer = self._timer
        if timer is None or timer.when() > self._deadline:  # none, or set for a longer timeout
            if timer is not None:
                timer.cancel()
            self._timer = self._loop.call_at(self._deadline, self._on_deadline)
        if len(body) <= LARGE_BODY:
            self.transport.write(head + body)  # one write: most requests in one segment
        else:
            self.transport.write(head)
            self.transport.write(body)
        return waiter

    def tunnelled(self, transport: asyncio.Transport | None) -> None:
        """Speak through `transport` (TLS inside a proxy's tunnel) from now on."""
        self.transport = transport
        self._parser = _parser(self, self._loop, with_body=True)
        self._with_body = True
        self._payload = None
        self._deadline = 0.0

    async def drain(self) -> None:
        """Wait while the transport holds more than its high-water mark (a large body)."""
        if self._paused:
            await self._drain_helper()

    @property
    def reusable(self) -> bool:
        payload = self._payload
        return (
            self.transport is not None
            and self._waiter is None
            and not self._close_after
            and payload is not None
            and payload.is_eof()
            and payload.exception() is None
        )

    def data_received(self, data: bytes) -> None:
        assert self._parser is not None
        try:
            messages, _, _ = self._parser.feed_data(data)
        except Exception as exc:  # not HTTP/1.1 as llhttp reads it
            self._fail(aiohttp.ClientPayloadError(f"Malformed answer: {type(exc).__name__}"))
            return
        for message, payload in messages:
            if 100 <= message.code < 200 and message.code != 101:  # interim: 100 Continue, ...
                continue
            waiter, self._waiter = self._waiter, None
            if waiter is None or waiter.done():  # an answer to no request: the stream is off
                self._fail(aiohttp.ClientPayloadError("An answer nobody asked for"))
                return
            self._close_after = message.should_close
            self._payload = payload
            waiter.set_result((message, payload))
        if self._payload is not None and self._payload.is_eof():
            self._deadline = 0.0  # the whole answer is here
        elif self._deadline:
            self._deadline = self._loop.time() + self._timeout_s  # bytes came: the wait restarts

    def eof_received(self) -> bool:
        return False  # close: an answer that ends at EOF ends here (connection_lost feeds it)

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        assert self._parser is not None
        with contextlib.suppress(Exception):  # an incomplete answer: failed just below
            self._parser.feed_eof()  # ends an answer delimited by the connection's close
        self._fail(aiohttp.ServerDisconnectedError())
        self.lost(self)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def _on_deadline(self) -> None:
        self._timer = None
        if not self._deadline:
            return
        if self._loop.time() < self._deadline or self._reading_paused:  # paused: ours to read
            self._timer = self._loop.call_at(
                max(self._deadline, self._loop.time() + 0.1), self._on_deadline
            )
            return
        self._fail(aiohttp.ServerTimeoutError(f"No answer within {self._timeout_s:g} s"))

    def _fail(self, exc: Exception) -> None:
        """Fail whatever waits on this connection, and close it."""
        self._deadline = 0.0
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        payload = self._payload
        if payload is not None and not payload.is_eof():
            if isinstance(exc, aiohttp.ServerDisconnectedError):
                exc = aiohttp.ClientPayloadError("The answer broke off")
            payload.set_exception(exc)
        self.close()


def _parser(
    protocol: BaseProtocol, loop: asyncio.AbstractEventLoop, *, with_body: bool
) -> HttpResponseParser:
    return HttpResponseParser(
        protocol,
        loop,
        READ_LIMIT,
        payload_exception=aiohttp.ClientPayloadError,
        response_with_body=with_body,
        read_until_eof=True,  # an answer with neither length nor chunks ends at close
        auto_decompress=False,  # Amazon's bytes, Content-Encoding and all
    )


class Http1Response:
    """Amazon's answer: status, headers, and its body read (`read`) or streamed (`content`).

    `release` gives the connection back for the next call when the body was read whole, and
    closes it otherwise; an answer dropped unreleased is released when collected.
    """

    __slots__ = ("_body", "_release", "content", "headers", "host", "reason", "status")

    def __init__(
        self,
        message: RawResponseMessage,
        content: StreamReader,
        host: str,
        release: Callable[[], None],
    ) -> None:
        self.status: int = message.code
        self.reason: str = message.reason
        self.headers: CIMultiDictProxy[str] = message.headers
        self.content = content
        self.host = host
        self._release: Callable[[], None] | None = release
        self._body: bytes | None = None

    @property
    def content_length(self) -> int | None:
        value = self.headers.get(hdrs.CONTENT_LENGTH)
        return int(value) if value is not None and value.isascii() and value.isdigit() else None

    async def read(self) -> bytes:
        """The whole body; read once, then the same bytes again."""
        if self._body is None:
            self._body = await self.content.read()
        return self._body

    def release(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def __del__(self) -> None:
        if self._release is not None:  # dropped unreleased: its connection is not kept
            with contextlib.suppress(RuntimeError):  # a closed loop: the connection is closed too
                self.release()

    async def __aenter__(self) -> Http1Response:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
