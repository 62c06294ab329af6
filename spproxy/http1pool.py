"""Keep-alive connections to each SP-API endpoint, and the way there: direct, or through the
configured forward proxy (or, with upstream.trust_env, the environment's HTTP(S)_PROXY and
NO_PROXY): a CONNECT tunnel for https, the absolute form for http.

Bounds: at most `limit` calls in flight over all endpoints (more wait, within their timeout);
an idle connection older than KEEP_ALIVE_S is closed instead of reused; at most MAX_ENDPOINTS
endpoints are kept (the configured ones; a reload's old ones fall out).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import ssl
import urllib.request
from collections import OrderedDict, deque
from collections.abc import Coroutine, Mapping
from typing import Any

import aiohttp
from yarl import URL

from spproxy.http1 import LARGE_BODY, ConnectFailed, Connection, Http1Response

KEEP_ALIVE_S = 15.0  # aiohttp's default; well inside servers' own (nginx 75 s, AWS's ALB 60 s)
MAX_ENDPOINTS = 64
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})  # Content-Length: 0 even when empty (no 411)
_NOT_IN_TARGET = re.compile(r"[\x00-\x20\x7f]")  # whitespace and controls: a request smuggled in


class Http1Client:
    """The calls to SP-API endpoints, each over a kept-alive HTTP/1.1 connection."""

    def __init__(self, *, proxy: str | None, trust_env: bool, limit: int = 256) -> None:
        self._proxy = proxy
        self._trust_env = trust_env
        self._slots = Slots(limit)
        self._tls: ssl.SSLContext | None = None
        self._endpoints: OrderedDict[str, Endpoint] = OrderedDict()

    def request(
        self,
        endpoint: str,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        timeout_s: float,
    ) -> Coroutine[Any, Any, Http1Response]:
        """`method target` (origin-form: path and query) at `endpoint` (scheme://host[:port]);
        Host and Content-Length are added. Each wait (a free slot, connecting, each byte of
        the answer) lasts at most `timeout_s`."""
        at = self._endpoints.get(endpoint) or self._add(endpoint)
        return at.request(method, target, headers, body, timeout_s)  # one coroutine less

    def _add(self, endpoint: str) -> Endpoint:
        url = URL(endpoint)
        proxy = URL(self._proxy) if self._proxy else _environment_proxy(url, self._trust_env)
        tls = None
        if url.scheme == "https" or (proxy is not None and proxy.scheme == "https"):
            # The system's trust store, as aiohttp's; loaded for the first https endpoint only.
            tls = self._tls = self._tls or ssl.create_default_context()
        added = self._endpoints[endpoint] = Endpoint(url, proxy, self._slots, tls)
        if len(self._endpoints) > MAX_ENDPOINTS:
            _, dropped = self._endpoints.popitem(last=False)
            dropped.close()
        return added

    async def aclose(self) -> None:
        for endpoint in self._endpoints.values():
            endpoint.close()
        self._endpoints.clear()


def _environment_proxy(url: URL, trust_env: bool) -> URL | None:
    if not trust_env:
        return None
    proxies = urllib.request.getproxies_environment()
    chosen = proxies.get(url.scheme)
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # not in typeshed
    if chosen is None or bypass(url.host or "", proxies):
        return None
    return URL(chosen)


class Slots:
    """At most `limit` calls in flight; more wait their turn, each within its timeout.

    Not asyncio.Semaphore: its `locked()` alone cost more than the rest of a free slot's path.
    """

    def __init__(self, limit: int) -> None:
        self._free = limit
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def take(self, timeout_s: float) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            async with asyncio.timeout(timeout_s):
                await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # handed one, gone anyway: pass it on
                self.give()
            else:  # unless `give` passed it over already
                with contextlib.suppress(ValueError):
                    self._waiting.remove(waiter)
            raise

    def give(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class Endpoint:
    """One endpoint's idle connections (the newest reused first), and how to open one."""

    def __init__(
        self, url: URL, proxy: URL | None, slots: Slots, tls: ssl.SSLContext | None
    ) -> None:
        self.host = url.host or ""
        self._port = url.port or 80  # yarl gives the scheme's default
        self._loop = asyncio.get_running_loop()
        self._tls = tls if url.scheme == "https" else None
        self._proxy_tls = tls if proxy is not None and proxy.scheme == "https" else None
        self._proxy = proxy
        self._slots = slots
        self._idle: deque[Connection] = deque()
        self._closed = False
        authority = url.host_port_subcomponent or ""
        # Through a proxy, plain http goes in absolute form; https goes through a tunnel.
        self._prefix = f"http://{authority}" if proxy is not None and not self._tls else ""
        fixed = {"Host": authority}
        if url.user is not None:  # credentials in the endpoint's URL, sent as aiohttp sent them
            fixed["Authorization"] = aiohttp.BasicAuth(url.user, url.password or "").encode()
        credentials = aiohttp.BasicAuth.from_url(proxy) if proxy is not None else None
        self._proxy_authorization = credentials.encode() if credentials else None
        if self._proxy_authorization and not self._tls:  # a tunnel's CONNECT carries it instead
            fixed["Proxy-Authorization"] = self._proxy_authorization
        self._fixed_lines = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())

    async def request(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, timeout_s: float
    ) -> Http1Response:
        head = self._head(method, target, headers, body)
        await self._slots.take(timeout_s)
        try:
            connection = self._take() or await self._connect(timeout_s)
        except BaseException:
            self._slots.give()
            raise
        try:
            answer = connection.send(head, body, with_body=method != "HEAD", timeout_s=timeout_s)
            if len(body) > LARGE_BODY:  # may have filled the socket's buffer: wait for it
                await connection.drain()
            message, content = await answer
        except BaseException:  # cancelled too: the answer would arrive for nobody
            connection.close()
            self._slots.give()
            raise
        return Http1Response(
            message, content, self.host, functools.partial(self._give_back, connection)
        )

    def _head(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> bytes:
        """The request line and header fields, refused if a value would end its line early."""
        fields = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
        count = len(headers)
        if (
            fields.count("\n") != count
            or fields.count("\r") != count
            or "\0" in fields
            or target[:1] != "/"  # origin-form only: nothing to read as another host
            or _NOT_IN_TARGET.search(target)
            or _NOT_IN_TARGET.search(method)
        ):
            raise ValueError("a header, the method or the target holds a line break or control")
        length = f"Content-Length: {len(body)}\r\n" if body or method in _WITH_BODY else ""
        head = (
            f"{method} {self._prefix}{target} HTTP/1.1\r\n{self._fixed_lines}{length}{fields}\r\n"
        )
        return head.encode("utf-8", "surrogateescape")

    def _take(self) -> Connection | None:
        idle = self._idle
        now = self._loop.time()
        while idle:
            connection = idle.pop()
            if now - connection.idle_since > KEEP_ALIVE_S:  # it, and every older one, expired
                connection.close()
                while idle:
                    idle.pop().close()
                return None
            if connection.transport is not None:
                return connection
        return None

    def _give_back(self, connection: Connection) -> None:
        self._slots.give()
        if connection.reusable and not self._closed:
            connection.idle_since = self._loop.time()
            self._idle.append(connection)
        else:
            connection.close()

    def _forget(self, connection: Connection) -> None:
        """The server closed it: an idle connection is no longer one to reuse."""
        with contextlib.suppress(ValueError):
            self._idle.remove(connection)

    async def _connect(self, timeout_s: float) -> Connection:
        loop = self._loop
        connection = Connection(loop, self._forget)
        proxy = self._proxy
        try:
            async with asyncio.timeout(timeout_s):
                if proxy is None:
                    await loop.create_connection(
                        lambda: connection,
                        self.host,
                        self._port,
                        ssl=self._tls,
                        server_hostname=self.host if self._tls else None,
                    )
                else:
                    await loop.create_connection(
                        lambda: connection,
                        proxy.host or "",
                        proxy.port or 80,
                        ssl=self._proxy_tls,
                        server_hostname=proxy.host if self._proxy_tls else None,
                    )
                    if self._tls is not None:
                        await self._tunnel(connection, timeout_s)
        except ConnectFailed:
            connection.close()
            raise
        except TimeoutError:
            connection.close()
            raise aiohttp.ConnectionTimeoutError(f"{self.host}: no connection") from None
        except (OSError, aiohttp.ClientError) as exc:
            connection.close()
            raise ConnectFailed(f"{self.host}: {type(exc).__name__}") from None
        return connection

    async def _tunnel(self, connection: Connection, timeout_s: float) -> None:
        """CONNECT through the proxy, then TLS with the endpoint inside the tunnel."""
        assert self._tls is not None and connection.transport is not None
        authority = f"{self.host}:{self._port}"
        lines = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
        if self._proxy_authorization:
            lines += f"Proxy-Authorization: {self._proxy_authorization}\r\n"
        # Read as an answer with a body: a refusal's (407, 403) runs to its length or the close.
        answer = connection.send(f"{lines}\r\n".encode(), b"", with_body=True, timeout_s=timeout_s)
        message, _ = await answer
        if not 200 <= message.code < 300:
            raise ConnectFailed(f"the proxy refused a tunnel to {self.host} (HTTP {message.code})")
        connection.tunnelled(
            await self._loop.start_tls(
                connection.transport, connection, self._tls, server_hostname=self.host
            )
        )

    def close(self) -> None:
        self._closed = True
        while self._idle:
            self._idle.pop().close()
