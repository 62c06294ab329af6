"""Keep-alive connections to each endpoint, and the way there (spproxy.http1pool): direct,
through a real forward proxy (proxy.py) or the environment's, over TLS with trustme's
certificates; every byte the servers see is checked."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from spproxy import http1pool
from spproxy.http1 import ConnectFailed
from spproxy.http1pool import Http1Client
from tests.forward_proxy import forward_proxy
from tests.harness import free_port
from tests.test_http1 import (
    OK,
    RawServer,
    answering,
    first_connection,
    get,
    keep_answering,
    opened,
)

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


def _lines(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    """A request head's request line, and its header fields in order."""
    first, *fields = head.decode().removesuffix("\r\n\r\n").split("\r\n")
    pairs = [field.split(": ", 1) for field in fields]
    return first, [(name, value) for name, value in pairs]


async def test_get_and_post_send_the_headers_given_with_host_and_content_length() -> None:
    heads: list[bytes] = []
    bodies: list[bytes] = []

    async def handle(
        server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            head, body = await server.read_request(reader)
            heads.append(head)
            bodies.append(body)
            writer.write(OK)
            await writer.drain()

    headers = CIMultiDict(
        [("X-Amz-Date", "20240101T000000Z"), ("x-amz-access-token", "Atza|t"), ("X-Two", "a")]
    )
    headers.add("X-Two", "b")
    posted = bytes(range(256)) * 3 + b"\r\n\r\n\0end"
    large = b"L" * (2**20 + 1)  # written apart from the head, with the transport's flow control
    async with RawServer(handle) as server:
        authority = f"127.0.0.1:{server.port}"
        async with opened() as client:
            calls = [
                ("GET", "/orders/v0/orders?MarketplaceIds=A1&x=%20", b""),
                ("POST", "/feeds/2021-06-30/feeds", posted),
                ("POST", "/empty", b""),
                ("PUT", "/large", large),
                ("DELETE", "/with-body", b"x"),
            ]
            for method, target, body in calls:
                async with await client.request(
                    server.endpoint, method, target, headers, body, timeout_s=5
                ) as response:
                    assert response.status == 200
                    assert await response.read() == b"ok"
    assert server.connections == 1
    given = list(headers.items())
    expected_lengths = [None, str(len(posted)), "0", str(len(large)), "1"]
    for head, (method, target, _body), length in zip(heads, calls, expected_lengths, strict=True):
        line, fields = _lines(head)
        assert line == f"{method} {target} HTTP/1.1"
        sent_length = [value for name, value in fields if name == "Content-Length"]
        assert sent_length == ([] if length is None else [length])
        rest = [(name, value) for name, value in fields if name not in ("Host", "Content-Length")]
        assert rest == given
        assert [value for name, value in fields if name == "Host"] == [authority]
    assert bodies == [b"", posted, b"", large, b"x"]


async def test_a_head_answer_has_a_length_but_no_body_and_the_connection_is_reused() -> None:
    async with (
        RawServer(
            answering(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",  # HEAD: the length a GET would get
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                OK,
            )
        ) as server,
        opened() as client,
    ):
        for method, body, length in [
            ("HEAD", b"", 5),
            ("GET", b"hello", 5),
            ("HEAD", b"", None),
            ("GET", b"ok", 2),
        ]:
            async with await client.request(
                server.endpoint, method, "/documents/1", {}, b"", timeout_s=5
            ) as response:
                assert response.content_length == length
                assert await response.read() == body
    assert server.connections == 1
    assert b"HEAD /documents/1 HTTP/1.1\r\n" in server.received
    assert b"Content-Length" not in server.received


async def test_sequential_requests_share_one_connection(aiohttp_server: ServerFactory) -> None:
    peers: list[object] = []

    async def answer(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        return web.Response(text="{}")

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", answer)
    server = await aiohttp_server(app)
    endpoint = str(server.make_url("")).rstrip("/")
    async with opened() as client:
        for method in ("GET", "POST", "GET"):
            async with await client.request(
                endpoint, method, "/sellers/v1/x", {}, b"", timeout_s=5
            ) as response:
                assert response.status == 200
                assert await response.read() == b"{}"
    assert len(peers) == 3 and len(set(peers)) == 1


async def test_a_response_released_before_its_body_arrived_closes_the_connection() -> None:
    handle = first_connection(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012")

    async with RawServer(handle) as server, opened() as client:
        response = await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=5)
        assert response.status == 200
        response.release()
        async with asyncio.timeout(5):
            await server.client_closed.wait()
        assert await get(client, server) == b"ok"
    assert server.connections == 2


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ],
)
async def test_an_answer_that_closes_is_not_reused(answer: bytes) -> None:
    """The server keeps its end open: the client must close it, and open another."""

    handle = first_connection(answer)

    async with RawServer(handle) as server, opened() as client:
        assert await get(client, server) == b"ok"
        async with asyncio.timeout(5):
            await server.client_closed.wait()
        assert await get(client, server) == b"ok"
    assert server.connections == 2


REFUSED_HEADERS = [
    {"X-A": "x\r\nInjected: 1"},
    {"X-A": "x\nInjected: 1"},
    {"X-A": "x\rInjected: 1"},
    {"X-A": "x\0y"},
    {"X-A\r\nInjected": "1"},
    {"X-A": "ok", "X-B": "x\r\n\r\nGET /smuggled HTTP/1.1"},
]
REFUSED_TARGETS = ["/a b", "/a\r\nInjected: 1", "/a\n", "/a\r", "/a\0", "/a\t", "/a\x7f"]


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [("GET", "/", headers) for headers in REFUSED_HEADERS]
    + [("GET", target, {}) for target in REFUSED_TARGETS]
    + [("GET /x HTTP/1.1\r\n", "/", {}), ("G T", "/", {})],
)
async def test_a_line_break_or_control_is_refused_before_anything_is_sent(
    method: str, target: str, headers: dict[str, str]
) -> None:
    async with RawServer(keep_answering) as server, opened() as client:
        with pytest.raises(ValueError, match="line break or control"):
            await client.request(server.endpoint, method, target, headers, b"", timeout_s=5)
        assert server.connections == 0
        assert await get(client, server) == b"ok"  # the slot and the endpoint still work
    assert server.connections == 1
    assert bytes(server.received) == (
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    )


async def test_a_port_nobody_listens_on_fails_to_connect() -> None:
    async with opened() as client:
        with pytest.raises(ConnectFailed) as failed:
            await client.request(
                f"http://127.0.0.1:{free_port()}", "GET", "/", {}, b"", timeout_s=5
            )
        assert isinstance(failed.value, aiohttp.ClientError)


async def test_a_server_that_never_answers_times_out() -> None:
    handle = first_connection()

    async with RawServer(handle) as server, opened(limit=1) as client:
        with pytest.raises(TimeoutError) as failed:
            await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=0.05)
        assert isinstance(failed.value, aiohttp.ServerTimeoutError)
        async with asyncio.timeout(5):
            await server.client_closed.wait()  # not kept for the next call
        assert await get(client, server, timeout_s=0.5) == b"ok"  # and its slot is free
    assert server.connections == 2


@pytest.mark.parametrize("target", ["", "@evil.example/x", "evil.example/x", "?a=b"])
async def test_a_target_not_in_origin_form_is_refused(target: str) -> None:
    """Through a proxy the target follows http://host: "@evil.example/x" would make that
    http://127.0.0.1@evil.example/x, another host; an empty one breaks the request line."""
    async with RawServer(keep_answering) as proxy, opened(proxy.endpoint) as client:
        with pytest.raises(ValueError):
            await client.request("http://127.0.0.1", "GET", target, {}, b"", timeout_s=5)
    assert proxy.received == b""


async def test_https_proxy_from_the_environment_is_used_for_https(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def handle(
        server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await server.until_client_closes(reader)

    async with RawServer(handle) as proxy, RawServer(keep_answering) as plain:
        _environment(monkeypatch, HTTPS_PROXY=proxy.endpoint)
        async with opened(proxy=None, trust_env=True) as client:
            with pytest.raises(ConnectFailed):
                await client.request(
                    "https://sellingpartnerapi-fe.amazon.com", "GET", "/", {}, b"", timeout_s=5
                )
            assert await get(client, plain) == b"ok"  # http: HTTPS_PROXY is not its proxy
    assert proxy.received.startswith(b"CONNECT sellingpartnerapi-fe.amazon.com:443 HTTP/1.1\r\n")
    assert plain.connections == 1


async def test_at_the_limit_a_call_waits_for_a_slot_within_its_timeout() -> None:
    async with RawServer(keep_answering) as server, opened(limit=1) as client:
        held = await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=5)
        with pytest.raises(TimeoutError):
            await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=0.05)
        waiting = asyncio.create_task(get(client, server))
        await asyncio.sleep(0)
        assert not waiting.done()
        assert await held.read() == b"ok"
        held.release()
        assert await waiting == b"ok"
    assert server.connections == 1


async def test_a_slot_is_freed_when_connecting_fails() -> None:
    async with opened(limit=1) as client:
        for _ in range(3):
            with pytest.raises(ConnectFailed):
                await client.request(
                    f"http://127.0.0.1:{free_port()}", "GET", "/", {}, b"", timeout_s=0.5
                )


async def test_a_slot_is_freed_when_a_call_fails() -> None:
    handle = first_connection(hold=False)

    async with RawServer(handle) as server, opened(limit=1) as client:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=5)
        assert await get(client, server, timeout_s=0.5) == b"ok"


async def test_a_cancelled_call_frees_its_slot_and_closes_its_connection() -> None:
    handle = first_connection()

    async with RawServer(handle) as server, opened(limit=1) as client:
        call = asyncio.create_task(
            client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=5)
        )
        async with asyncio.timeout(5):
            await server.requested.wait()  # the request is out: the call awaits its answer
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        async with asyncio.timeout(5):
            await server.client_closed.wait()
        assert await get(client, server, timeout_s=0.5) == b"ok"
    assert server.connections == 2


async def test_an_answer_broken_off_mid_body_fails_its_read() -> None:
    handle = first_connection(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012", hold=False
    )  # then closed
    async with (
        RawServer(handle) as server,
        opened() as client,
        await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=5) as response,
    ):
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


@pytest.mark.parametrize("partial", [b"", b"HTTP/1.1 200 OK\r\nContent-Le"])
async def test_a_server_that_closes_before_answering_fails_the_call(partial: bytes) -> None:
    handle = first_connection(partial, hold=False)  # then closed
    async with RawServer(handle) as server, opened() as client:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=5)


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    handle = first_connection(OK, hold=False)  # then closed
    async with RawServer(handle) as server, opened() as client:
        assert await get(client, server) == b"ok"
        idle = client._endpoints[server.endpoint]._idle
        async with asyncio.timeout(5):
            while idle:  # noqa: ASYNC110 - until the client read the server's FIN
                await asyncio.sleep(0)
        assert await get(client, server) == b"ok"
    assert server.connections == 2


async def test_aclose_closes_idle_connections() -> None:
    async with RawServer(answering(OK)) as server:
        async with opened() as client:
            assert await get(client, server) == b"ok"
            assert not server.client_closed.is_set()
        async with asyncio.timeout(5):
            await server.client_closed.wait()


async def test_a_response_released_after_aclose_closes_its_connection() -> None:
    async with RawServer(answering(OK)) as server:
        client = Http1Client(proxy=None, trust_env=False)
        response = await client.request(server.endpoint, "GET", "/", {}, b"", timeout_s=5)
        await client.aclose()
        assert await response.read() == b"ok"
        response.release()
        async with asyncio.timeout(5):
            await server.client_closed.wait()


# --- forward proxies ------------------------------------------------------------------------


@pytest.fixture
async def proxy_py(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """proxy.py, a real forward proxy, on loopback (with --basic-auth when parametrized)."""
    options: list[str] = list(getattr(request, "param", []))
    async with forward_proxy(tmp_path / "proxy.log", *options) as url:
        yield url


@pytest.fixture
def ca(tmp_path: Path) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    pem = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    return authority, pem


Seen = list[dict[str, str]]


async def _origin(
    aiohttp_server: ServerFactory, authority: trustme.CA | None = None
) -> tuple[str, Seen]:
    """An aiohttp server (TLS when given a CA) that records each request's headers."""
    seen: Seen = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(dict(request.headers) | {":target": request.path_qs})
        return web.Response(text="origin")

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", answer)
    if authority is None:
        server = await aiohttp_server(app)
    else:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        server = await aiohttp_server(app, ssl=context)  # type: ignore[call-arg]
    return str(server.make_url("")).rstrip("/"), seen


async def _call(client: Http1Client, endpoint: str, target: str = "/a?b=c") -> bytes:
    async with await client.request(
        endpoint, "GET", target, {"X-Amz-Access-Token": "Atza|t"}, b"", timeout_s=10
    ) as response:
        assert response.status == 200
        return await response.read()


async def test_plain_http_through_proxy_py(aiohttp_server: ServerFactory, proxy_py: str) -> None:
    endpoint, seen = await _origin(aiohttp_server)
    async with opened(proxy=proxy_py, trust_env=False) as client:
        assert await _call(client, endpoint) == b"origin"
        assert await _call(client, endpoint, "/second") == b"origin"
    assert [request[":target"] for request in seen] == ["/a?b=c", "/second"]
    assert seen[0]["Via"].startswith("1.1 proxy.py")  # it went through the proxy


async def test_plain_http_through_a_proxy_uses_the_absolute_form_with_credentials() -> None:
    async with RawServer(keep_answering) as proxy:
        proxy_url = f"http://user:p%40ss@127.0.0.1:{proxy.port}"
        async with opened(proxy=proxy_url, trust_env=False) as client:
            assert await _call(client, "http://sellingpartnerapi-eu.amazon.com") == b"ok"
            assert await _call(client, "http://sellingpartnerapi-eu.amazon.com:8080") == b"ok"
    heads = bytes(proxy.received).split(b"\r\n\r\n")[:2]
    first, fields = _lines(heads[0] + b"\r\n\r\n")
    assert first == "GET http://sellingpartnerapi-eu.amazon.com/a?b=c HTTP/1.1"
    expected = _basic("user:p@ss")
    assert ("Proxy-Authorization", expected) in fields
    assert ("Host", "sellingpartnerapi-eu.amazon.com") in fields
    second, _ = _lines(heads[1] + b"\r\n\r\n")
    assert second == "GET http://sellingpartnerapi-eu.amazon.com:8080/a?b=c HTTP/1.1"


async def test_https_through_proxy_py_tunnels_to_a_trusted_origin(
    aiohttp_server: ServerFactory,
    proxy_py: str,
    ca: tuple[trustme.CA, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    authority, pem = ca
    endpoint, seen = await _origin(aiohttp_server, authority)
    assert endpoint.startswith("https://")
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    async with opened(proxy=proxy_py, trust_env=False) as client:
        assert await _call(client, endpoint) == b"origin"
        assert await _call(client, endpoint, "/again") == b"origin"  # the same tunnel
    assert [request[":target"] for request in seen] == ["/a?b=c", "/again"]
    assert "Via" not in seen[0]  # inside the tunnel, the proxy sees nothing to add to


async def test_https_to_an_untrusted_origin_fails_to_connect(
    aiohttp_server: ServerFactory,
    proxy_py: str,
    ca: tuple[trustme.CA, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    authority, _ = ca
    endpoint, seen = await _origin(aiohttp_server, authority)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    for proxy in (None, proxy_py):
        async with opened(proxy=proxy, trust_env=False) as client:
            with pytest.raises(ConnectFailed):
                await client.request(endpoint, "GET", "/", {}, b"", timeout_s=10)
    assert seen == []


async def test_https_direct_to_a_trusted_origin(
    aiohttp_server: ServerFactory, ca: tuple[trustme.CA, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    authority, pem = ca
    endpoint, seen = await _origin(aiohttp_server, authority)
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    async with opened() as client:
        assert await _call(client, endpoint) == b"origin"
        assert await _call(client, endpoint.replace("127.0.0.1", "localhost")) == b"origin"
    assert len(seen) == 2


@pytest.mark.parametrize("proxy_py", [["--basic-auth", "user:secret"]], indirect=True)
async def test_proxy_credentials_go_to_the_proxy_and_never_to_the_origin(
    aiohttp_server: ServerFactory,
    proxy_py: str,
    ca: tuple[trustme.CA, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    authority, pem = ca
    endpoint, seen = await _origin(aiohttp_server, authority)
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    with_credentials = proxy_py.replace("http://", "http://user:secret@")
    async with opened(proxy=with_credentials, trust_env=False) as client:
        assert await _call(client, endpoint) == b"origin"
    assert len(seen) == 1
    assert "Proxy-Authorization" not in seen[0]
    for proxy in (proxy_py, proxy_py.replace("http://", "http://user:wrong@")):
        async with opened(proxy=proxy, trust_env=False) as client:
            with pytest.raises(ConnectFailed, match="HTTP 407"):  # proxy.py's, with a body
                await client.request(endpoint, "GET", "/", {}, b"", timeout_s=10)
    assert len(seen) == 1


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


async def test_the_connect_request_carries_the_proxy_credentials() -> None:
    """The proxy's refusal says so: "HTTP 407" tells a wrong password from a down proxy."""
    connects: list[bytes] = []

    async def handle(
        server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head, _ = await server.read_request(reader)
        connects.append(head)
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        await server.until_client_closes(reader)

    async with (
        RawServer(handle) as proxy,
        opened(f"http://user:secret@127.0.0.1:{proxy.port}") as client,
    ):
        with pytest.raises(ConnectFailed, match="HTTP 407"):
            await client.request(
                "https://sellingpartnerapi-na.amazon.com", "GET", "/", {}, b"", timeout_s=5
            )
    line, fields = _lines(connects[0])
    assert line == "CONNECT sellingpartnerapi-na.amazon.com:443 HTTP/1.1"
    assert fields == [
        ("Host", "sellingpartnerapi-na.amazon.com:443"),
        ("Proxy-Authorization", _basic("user:secret")),
    ]


# --- the environment's proxies (upstream.trust_env) ------------------------------------------


def _environment(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("trust_env", "no_proxy", "through_proxy"),
    [
        (True, None, True),
        (True, "127.0.0.1", False),
        (True, "localhost,127.0.0.1:1,127.0.0.1", False),
        (True, "example.com", True),
        (False, None, False),
    ],
)
async def test_the_environment_proxy_only_with_trust_env(
    monkeypatch: pytest.MonkeyPatch, trust_env: bool, no_proxy: str | None, through_proxy: bool
) -> None:
    async with RawServer(keep_answering) as proxy, RawServer(keep_answering) as origin:
        values = {"HTTP_PROXY": proxy.endpoint}
        if no_proxy is not None:
            values["NO_PROXY"] = no_proxy
        _environment(monkeypatch, **values)
        async with opened(proxy=None, trust_env=trust_env) as client:
            assert await get(client, origin) == b"ok"
    if through_proxy:
        assert (proxy.connections, origin.connections) == (1, 0)
        assert proxy.received.startswith(f"GET {origin.endpoint}/ HTTP/1.1\r\n".encode())
    else:
        assert (proxy.connections, origin.connections) == (0, 1)
        assert origin.received.startswith(b"GET / HTTP/1.1\r\n")


async def test_a_configured_proxy_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        RawServer(keep_answering) as configured,
        RawServer(keep_answering) as environment,
        RawServer(keep_answering) as origin,
    ):
        _environment(monkeypatch, HTTP_PROXY=environment.endpoint, NO_PROXY="127.0.0.1")
        async with opened(proxy=configured.endpoint, trust_env=True) as client:
            assert await get(client, origin) == b"ok"
    assert (configured.connections, environment.connections, origin.connections) == (1, 0, 0)


async def test_an_idle_connection_past_keep_alive_is_closed_not_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handle = first_connection(OK)

    async with RawServer(handle) as server, opened() as client:
        assert await get(client, server) == b"ok"
        monkeypatch.setattr(http1pool, "KEEP_ALIVE_S", -1.0)  # every idle one is too old
        assert await get(client, server) == b"ok"
        async with asyncio.timeout(5):
            await server.client_closed.wait()
    assert server.connections == 2


async def test_the_oldest_endpoint_past_the_bound_is_dropped_and_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http1pool, "MAX_ENDPOINTS", 1)
    async with (
        RawServer(answering(OK)) as first,
        RawServer(keep_answering) as second,
        opened() as client,
    ):
        assert await get(client, first) == b"ok"
        assert await get(client, second) == b"ok"
        async with asyncio.timeout(5):
            await first.client_closed.wait()
        assert not second.client_closed.is_set()
