"""The HTTP server under the app: aiohttp's, with spproxy's answers where aiohttp answers alone.

aiohttp reads a request's line and headers before any handler or middleware runs. Two things
happen there that a hostile local client could use, so they are spproxy's here:

- What aiohttp cannot parse (a bad request line, too many or too long headers) it answers itself,
  as text that quotes the offending line, and that line may carry query values (PII). Here it is
  SP-API's error shape with `x-spproxy-origin: proxy`, naming only what was wrong, and an access
  line like every other answer.
- aiohttp waits for a request's headers as long as its keep-alive timeout (an hour by default),
  so a client trickling header bytes holds a connection that long. Here the headers must be
  complete within `header_timeout_s` of the request's first byte, or the client gets 408 and the
  connection is closed (nginx's client_header_timeout). Idle keep-alive connections close after
  `KEEPALIVE_S`, silently, as HTTP allows.

aiohttp has no setting for either, so this subclasses its RequestHandler and Server; the runner
is aiohttp's AppRunner, asked to build that Server instead of its own (`_make_server`).
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from spproxy.config import Config, ConfigError, Listen
from spproxy.errors import BadRequest, ProxyError, RequestTimeout
from spproxy.logs import AccessRecord

KEEPALIVE_S = 75.0  # nginx's default keepalive_timeout


def _wire(error: ProxyError) -> bytes:
    """A whole HTTP/1.1 answer that closes the connection, for a request aiohttp never parsed."""
    response = error.to_response()
    assert isinstance(response.body, bytes)
    head = [
        f"HTTP/1.1 {error.status} {response.reason}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in response.headers.items() if name.startswith("x-")),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + response.body


class ProxyRequestHandler(RequestHandler):
    """One client connection: aiohttp's handler, with a header deadline and SP-API refusals."""

    def __init__(
        self, manager: web.Server, *, header_timeout_s: float, too_slow: bytes, **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout_s = header_timeout_s
        self._too_slow = too_slow  # the 408, written as it is
        self._awaiting_headers = True  # between requests: the next byte starts the clock
        # One timer per connection, not one per request: the deadline moves, and the timer,
        # when it fires, sleeps on to the current one (0: no headers awaited).
        self._headers_by = 0.0
        self._header_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers and not self._headers_by and data:
            self._headers_by = self._loop.time() + self._header_timeout_s
            if self._header_timer is None:
                self._header_timer = self._loop.call_at(self._headers_by, self._headers_due)
        super().data_received(data)

    def headers_received(self) -> None:
        self._awaiting_headers = False
        self._headers_by = 0.0

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        try:
            return await super().finish_response(request, resp, start_time)
        finally:
            self._awaiting_headers = True
            if resp.status == RequestTimeout.status:
                # A stalled body: no waiting for the rest of it (aiohttp's lingering close would
                # read on for 10 s). The answer is written; closing flushes it first.
                self.force_close()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # aiohttp's own: logs (held at CRITICAL: it quotes the request) and refuses if sent already
        super().handle_error(request, status, exc, message)
        self.headers_received()
        if status == 400:
            error: ProxyError = BadRequest(
                "The request line or headers could not be parsed, or exceed spproxy's limits.",
                "Send an origin-form HTTP/1.1 request with fewer, shorter headers.",
            )
        else:
            error = ProxyError("spproxy failed to handle the request.", "See the log.")
            error.status = status
        AccessRecord("-", "-", status=status, origin="proxy").emit()
        response = error.to_response()
        response.force_close()
        return response

    def _headers_due(self) -> None:
        self._header_timer = None
        if not self._headers_by:
            return
        if self._loop.time() < self._headers_by:  # a later request's deadline: sleep on
            self._header_timer = self._loop.call_at(self._headers_by, self._headers_due)
            return
        self._headers_by = 0.0
        if not self._awaiting_headers or self.transport is None:
            return
        AccessRecord("-", "-", status=408, origin="proxy").emit()
        self.transport.write(self._too_slow)
        self.force_close()  # closes the transport once the answer is written


class ProxyServer(web.Server):
    """aiohttp's Server, making ProxyRequestHandlers and telling them when headers are in."""

    def __init__(self, made: web.Server, *, header_timeout_s: float) -> None:
        super().__init__(
            made.request_handler,
            request_factory=self._headers_in,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,  # the handler options AppRunner gave aiohttp's own Server
        )
        self._request_factory = made.request_factory
        self._header_timeout_s = header_timeout_s
        self._too_slow = _wire(
            RequestTimeout(
                f"The request headers did not arrive within {header_timeout_s:g} s.",
                "Send the whole request at once; the connection is closed.",
            )
        )

    def _headers_in(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        if isinstance(protocol, ProxyRequestHandler):
            protocol.headers_received()
        return self._request_factory(message, payload, protocol, writer, task)

    def __call__(self) -> RequestHandler:
        return ProxyRequestHandler(
            self,
            loop=self._loop,
            header_timeout_s=self._header_timeout_s,
            too_slow=self._too_slow,
            **self._kwargs,
        )


class ProxyRunner(web.AppRunner):
    """aiohttp's AppRunner, serving the app through a ProxyServer."""

    def __init__(self, app: web.Application, *, header_timeout_s: float, **kwargs: Any) -> None:
        kwargs.setdefault("keepalive_timeout", KEEPALIVE_S)
        super().__init__(app, **kwargs)
        self._header_timeout_s = header_timeout_s

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()  # starts the app: on_startup, cleanup_ctx
        return ProxyServer(made, header_timeout_s=self._header_timeout_s)


def tls_context(listen: Listen) -> ssl.SSLContext | None:
    """The listener's TLS (and mutual TLS), or None for plain HTTP; ConfigError if unusable.

    Amazon's Data Protection Policy wants PII encrypted in transit: between containers or hosts,
    serve HTTPS, and with a client CA only clients holding a certificate it signed get in.
    """
    if listen.tls_cert_file is None or listen.tls_key_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    problems = []
    try:
        context.load_cert_chain(listen.tls_cert_file, listen.tls_key_file)
    except OSError as exc:  # ssl.SSLError is one
        problems.append(f"listen.tls_cert_file: cannot load it with its key: {_reason(exc)}")
    if listen.tls_client_ca_file:
        try:
            context.load_verify_locations(listen.tls_client_ca_file)
            context.verify_mode = ssl.CERT_REQUIRED
        except OSError as exc:
            problems.append(f"listen.tls_client_ca_file: cannot load it: {_reason(exc)}")
    if problems:
        raise ConfigError(problems)
    return context


def _reason(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLError):
        return str(exc.reason or exc)
    return exc.strerror or str(exc)


def serving(app: web.Application, config: Config) -> ProxyRunner:
    """The runner `spproxy serve` (and the benchmark) serve the proxy app with."""
    return ProxyRunner(
        app,
        header_timeout_s=config.listen.header_timeout_s,
        access_log=None,  # spproxy writes its own access line
        shutdown_timeout=config.upstream.timeout_s,  # requests in flight may finish
        handler_cancellation=True,  # a client gone: stop its wait for a slot, a token, Amazon
    )
