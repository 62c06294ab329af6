"""One keep-alive HTTP/1.1 connection and the answers read from it (spproxy.http1), each against
a raw loopback server that sends exactly the bytes under test."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType

import aiohttp
import pytest
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http import HttpVersion11, RawResponseMessage
from aiohttp.streams import StreamReader
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from spproxy.http1 import Http1Response
from spproxy.http1pool import Http1Client

Handler = Callable[["RawServer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@contextlib.asynccontextmanager
async def opened(
    proxy: str | None = None, *, trust_env: bool = False, limit: int = 256
) -> AsyncIterator[Http1Client]:
    """An Http1Client, closed afterwards."""
    client = Http1Client(proxy=proxy, trust_env=trust_env, limit=limit)
    try:
        yield client
    finally:
        await client.aclose()


class RawServer:
    """A loopback server that runs `handler` on each connection it accepts; it counts them,
    keeps every byte it read (`received`), and notes each connection the client closed."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._port = 0
        self.connections = 0
        self.received = bytearray()
        self.client_closed = asyncio.Event()  # a connection read EOF from the client
        self.requested = asyncio.Event()  # a whole request was read

    @property
    def port(self) -> int:
        return self._port

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for writer in self._writers:  # handlers still reading see EOF, and end
            writer.transport.abort()
        await asyncio.gather(*self._tasks)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.append(writer)
        self.connections += 1
        try:
            await self._handler(self, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def read_request(self, reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
        """One request's head and body (by its Content-Length); IncompleteReadError at EOF."""
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length)
        self.received += head + body
        self.requested.set()
        return head, body

    async def until_client_closes(self, reader: asyncio.StreamReader) -> None:
        """Read (and keep) whatever else comes until the client closes the connection."""
        while data := await reader.read(2**16):
            self.received += data
        self.client_closed.set()


def answering(*answers: bytes) -> Handler:
    """A handler that sends `answers` in turn, one for each request, then waits for EOF."""

    async def handle(
        server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        for answer in answers:
            await server.read_request(reader)
            writer.write(answer)
            await writer.drain()
        await server.until_client_closes(reader)

    return handle


async def keep_answering(
    server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Answers "ok" to every request, on one connection, until the client closes it."""
    while True:
        await server.read_request(reader)
        writer.write(OK)
        await writer.drain()


def first_connection(*answers: bytes, hold: bool = True) -> Handler:
    """The first connection reads a request, writes `answers` (each drained), then waits for
    the client to close it (`hold`) or closes it; every later one keeps answering OK."""

    async def handle(
        server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if server.connections > 1:
            await keep_answering(server, reader, writer)
            return
        await server.read_request(reader)
        for answer in answers:
            writer.write(answer)
            await writer.drain()
        if hold:
            await server.until_client_closes(reader)

    return handle


async def get(client: Http1Client, server: RawServer, timeout_s: float = 5.0) -> bytes:
    async with await client.request(
        server.endpoint, "GET", "/", {}, b"", timeout_s=timeout_s
    ) as response:
        return await response.read()


async def test_interim_answers_are_skipped_and_the_connection_is_kept() -> None:
    interim = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    )
    async with RawServer(answering(interim + OK, OK)) as server, opened() as client:
        async with await client.request(
            server.endpoint, "POST", "/feeds", {}, b"{}", timeout_s=5
        ) as response:
            assert response.status == 200
            assert await response.read() == b"ok"
        assert await get(client, server) == b"ok"
    assert server.connections == 1


async def test_an_interim_answer_split_from_the_final_one_is_skipped() -> None:
    async def handle(
        server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        writer.write(OK)
        await server.until_client_closes(reader)

    async with RawServer(handle) as server, opened() as client:
        assert await get(client, server) == b"ok"


async def test_an_answer_nobody_asked_for_closes_the_connection() -> None:
    """A second answer with no request outstanding means the stream is off by one: the
    connection must not carry the next call (which would read that stale answer)."""
    stale = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"

    handle = first_connection(OK, stale)

    async with RawServer(handle) as server, opened() as client:
        assert await get(client, server) == b"ok"
        async with asyncio.timeout(5):
            await server.client_closed.wait()
        assert await get(client, server) == b"ok"
    assert server.connections == 2


@pytest.mark.parametrize("size", [0, 11, 3 * 2**16 + 7])
async def test_a_body_delimited_by_the_close_is_read_whole(size: int) -> None:
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)

    handle = first_connection(b"HTTP/1.1 200 OK\r\n\r\n" + body, hold=False)

    async with RawServer(handle) as server, opened() as client:
        async with await client.request(
            server.endpoint, "GET", "/", {}, b"", timeout_s=5
        ) as response:
            assert response.content_length is None
            assert await response.read() == body
        assert await get(client, server) == b"ok"  # on a new connection
    assert server.connections == 2


async def test_a_chunked_body_is_read_whole_and_the_connection_kept() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n1;ext=1\r\n \r\n"
        b"a\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
    )

    async def handle(
        server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await server.read_request(reader)
        for piece in (chunked[:50], chunked[50:61], chunked[61:]):  # split mid-chunk
            writer.write(piece)
            await writer.drain()
        await keep_answering(server, reader, writer)

    async with RawServer(handle) as server, opened() as client:
        async with await client.request(
            server.endpoint, "GET", "/", {}, b"", timeout_s=5
        ) as response:
            assert response.content_length is None
            assert response.headers["Transfer-Encoding"] == "chunked"
            assert await response.read() == b"hello 0123456789"
        assert await get(client, server) == b"ok"
    assert server.connections == 1


async def test_a_chunked_body_broken_off_mid_chunk_fails_its_read() -> None:
    handle = first_connection(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n01234", hold=False
    )  # then closed
    async with (
        RawServer(handle) as server,
        opened() as client,
        await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=5) as response,
    ):
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


async def test_content_length_of_real_answers() -> None:
    async with (
        RawServer(
            answering(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                b"HTTP/1.1 204 No Content\r\n\r\n",
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            )
        ) as server,
        opened() as client,
    ):
        lengths = []
        for _ in range(3):
            async with await client.request(
                server.endpoint, "GET", "/", {}, b"", timeout_s=5
            ) as response:
                lengths.append(response.content_length)
                await response.read()
    assert lengths == [5, None, 0]
    assert server.connections == 1


def _response(headers: dict[str, str]) -> Http1Response:
    loop = asyncio.get_running_loop()
    fields = CIMultiDictProxy(CIMultiDict(headers))
    raw = tuple((name.encode(), value.encode()) for name, value in headers.items())
    message = RawResponseMessage(HttpVersion11, 200, "OK", fields, raw, False, None, False, False)
    content = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    content.feed_eof()
    released: list[bool] = []
    response = Http1Response(message, content, "example.com", lambda: released.append(True))
    response.release()
    assert released == [True]
    response.release()  # twice: released once only
    assert released == [True]
    return response


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("0", 0),
        ("1234", 1234),
        ("", None),
        ("abc", None),
        ("-1", None),
        ("+5", None),
        ("1.5", None),
        (" 7", None),
        ("5, 5", None),
    ],
)
async def test_content_length_of_any_header_value(value: str | None, expected: int | None) -> None:
    """Whatever the header holds, content_length is a length or None, never an exception
    (llhttp refuses such answers on the wire; Http1Response does not count on it)."""
    headers = {} if value is None else {"Content-Length": value}
    assert _response(headers).content_length == expected


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "\u0661\u0662"])
async def test_content_length_of_non_ascii_digits_is_none(value: str) -> None:
    """str.isdigit() holds for "²" (which int() refuses) and for Arabic-Indic digits (which
    int() reads): a Content-Length is ASCII digits only (RFC 9110, 8.6)."""
    assert _response({"Content-Length": value}).content_length is None


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("value", [b"abc", b"-1", "\u00b2".encode()])
async def test_an_answer_with_a_malformed_content_length_fails_the_call(
    method: str, value: bytes
) -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: " + value + b"\r\n\r\n"
    async with RawServer(answering(answer)) as server, opened() as client:
        with pytest.raises(aiohttp.ClientPayloadError):
            await client.request(server.endpoint, method, "/", {}, b"", timeout_s=5)


async def test_a_response_dropped_unreleased_frees_its_slot() -> None:
    async with RawServer(keep_answering) as server, opened(limit=1) as client:
        response = await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=5)
        assert response.status == 200
        del response
        gc.collect()
        assert await get(client, server) == b"ok"  # times out if the slot stayed taken


async def test_a_body_that_stalls_fails_its_read_with_a_timeout() -> None:
    async def handle(
        server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012")
        await server.until_client_closes(reader)

    async with RawServer(handle) as server:
        async with (
            opened() as client,
            await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=0.05) as response,
        ):
            with pytest.raises(TimeoutError):
                await response.read()
        async with asyncio.timeout(5):
            await server.client_closed.wait()  # the timed out connection was closed


async def test_a_reader_slower_than_the_timeout_is_not_timed_out() -> None:
    """Reading pauses when the caller has not taken the body yet: that wait is the caller's,
    not the server's, so it must not fail the answer."""
    body = b"b" * (2**20)

    async def handle(
        server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        await server.until_client_closes(reader)

    async with (
        RawServer(handle) as server,
        opened() as client,
        await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=0.1) as response,
    ):
        await asyncio.sleep(0.6)  # the caller is busy elsewhere, six timeouts long
        assert await response.read() == body


async def test_an_answer_that_is_not_http_fails_the_call() -> None:
    async with (
        RawServer(answering(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")) as server,
        opened() as client,
    ):
        with pytest.raises(aiohttp.ClientPayloadError):
            await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=5)
        async with asyncio.timeout(5):
            await server.client_closed.wait()


async def test_a_response_knows_its_host() -> None:
    async with (
        RawServer(keep_answering) as server,
        opened() as client,
        await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=5) as response,
    ):
        assert response.host == URL(server.endpoint).host == "127.0.0.1"
        assert response.reason == "OK"
        assert await response.read() == b"ok"
