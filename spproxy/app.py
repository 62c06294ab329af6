"""The aiohttp application: one request's whole path on one screen.

    normalise -> client + account -> classify -> marketplaces -> body -> grants -> credential
    -> pace + forward -> relay

Everything the pipeline needs is built once at start-up (`Proxy`) and shared; the hot path does
no work that could be done once. spproxy's own endpoints live in `reserved`.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import hdrs, web
from multidict import CIMultiDict, CIMultiDictProxy

from spproxy import documents, feeddocuments, onboardingroutes, reserved
from spproxy.body import read_body
from spproxy.config import Config
from spproxy.credentials import Credential
from spproxy.errors import ProxyError
from spproxy.headers import (
    ACCOUNT_HEADER,
    CREDENTIAL_HEADER,
    OPERATION_HEADER,
    ORIGIN_HEADER,
    REQUEST_ID_HEADER,
)
from spproxy.logs import NOT_CLASSIFIED, AccessRecord, quiet_third_party_loggers
from spproxy.marketplaces import check_marketplaces
from spproxy.onboarding import onboarding_for
from spproxy.operations import UNKNOWN, Kind, QualifiedName
from spproxy.proxy import PROXY, ConfigLoader, Proxy
from spproxy.relay import relay
from spproxy.target import parse_target
from spproxy.wire import UpstreamAnswer, UpstreamRequest

if TYPE_CHECKING:
    from spproxy.storedaccounts import StoredAccounts

log = logging.getLogger("spproxy")

ACCESS = web.RequestKey("access", AccessRecord)
OPERATION = web.RequestKey("operation", QualifiedName)  # for the metrics, once classified
Observer = Callable[[bytes], Awaitable[None]]  # reads a successful answer (relay)
UNCLASSIFIED = QualifiedName(NOT_CLASSIFIED)  # answered before classification, as logged
CLIENT_CLOSED = 499  # nginx's status for a client that went away before its answer


async def forward(request: web.Request) -> web.StreamResponse:
    answer, observe = await _call_amazon(request, request.method, request.raw_path)
    return await relay(request, answer, _debug_headers(request[ACCESS]), observe)


async def _document_call(
    request: web.Request, method: str, raw_path: str, json_body: bytes | None
) -> documents.Called:
    """getReportDocument, createFeedDocument, ... for the documents endpoints, through the same
    pipeline as `forward`; `json_body` is sent instead of the request's own (a feed's content)."""
    answer, _ = await _call_amazon(request, method, raw_path, json_body)
    return answer, _debug_headers(request[ACCESS])


async def _call_amazon(
    request: web.Request, method: str, raw_path: str, json_body: bytes | None = None
) -> tuple[UpstreamAnswer, Observer | None]:
    """The pipeline up to Amazon's answer: `method raw_path` with the request's headers and body
    (or `json_body`), for its client, account, grants and credential, paced and renewed once."""
    proxy = request.app[PROXY]
    access = request[ACCESS]
    target = parse_target(method, raw_path)
    client = await proxy.clients.identify(request.headers)
    account = proxy.account(request.headers.get(ACCOUNT_HEADER))
    operation = proxy.table.classify(method, target.path)
    access.client, access.account = client.name if client else "-", account.name
    request[OPERATION] = named = operation.qualified if operation else UNKNOWN
    access.operation = named.name
    access.path = operation.path if operation else target.path
    access.restricted = operation is not None and operation.kind is Kind.RESTRICTED
    check_marketplaces(target.query, account)  # another region's: a 400 that says so
    headers, body = await _sent(request, json_body)
    await proxy.clients.authorize(client, account, operation, target, headers, body)
    credentials = proxy.credentials
    credential = credentials.cached(account, operation) or await credentials.choose(
        account, operation, target, headers, proxy.clients.data_elements(client)
    )
    _chose(access, credential)

    async def renew(refused: Credential, answer: UpstreamAnswer) -> Credential | None:
        renewed = await credentials.after_refusal(account, refused, answer)
        if renewed is not None:  # an expired token, or a report document that needs an RDT
            _chose(access, renewed)
        return renewed

    call = UpstreamRequest(account, operation, method, target, headers, body)
    credential, answer = await proxy.upstream.send_renewing(
        call, credential, token=lambda c: c.token, renew=renew
    )
    access.upstream_ms = answer.latency_s * 1000
    access.request_id = answer.response.headers.get(REQUEST_ID_HEADER)
    observe = credentials.report_types.observer(operation) or proxy.clients.observer(
        operation, client
    )
    return answer, observe


async def _sent(
    request: web.Request, json_body: bytes | None
) -> tuple[CIMultiDictProxy[str], bytes]:
    """The headers and body to send Amazon: the request's, or `json_body` as application/json."""
    if json_body is None:
        if not request.body_exists:  # a GET's: no coroutine to read nothing
            return request.headers, b""
        config = request.app[PROXY].config
        limit, timeout_s = config.upstream.max_body_bytes, config.listen.body_timeout_s
        return request.headers, await read_body(request, limit, timeout_s)
    headers = CIMultiDict(request.headers)
    for sent_with_the_content in (hdrs.CONTENT_LENGTH, hdrs.EXPECT, hdrs.CONTENT_ENCODING):
        headers.popall(sent_with_the_content, None)
    headers[hdrs.CONTENT_TYPE] = "application/json"
    return CIMultiDictProxy(headers), json_body


def _chose(access: AccessRecord, credential: Credential) -> None:
    access.token_kind, access.credential = credential.token_kind, credential.kind
    access.data_elements = credential.resource.data_elements if credential.resource else ()


def _debug_headers(access: AccessRecord) -> dict[str, str]:
    """x-spproxy-operation and x-spproxy-credential, as far as the request got: on Amazon's
    answers and on spproxy's own (a 429 from the queue, a 403 from grants, a 502)."""
    headers = {}
    if access.operation != NOT_CLASSIFIED:
        headers[OPERATION_HEADER] = access.operation
    if access.credential is not None:
        headers[CREDENTIAL_HEADER] = access.credential
    return headers


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def proxy_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into SP-API's error shape, and write the access log line."""
    # The path as sent (percent-encoded), until the pipeline knows the operation's template.
    access = request[ACCESS] = AccessRecord(request.method, request.raw_path.partition("?")[0])
    proxy = request.app[PROXY]
    counted = not reserved.is_probe(request)  # probes would drown the log and the metrics
    if counted:
        proxy.metrics.in_flight += 1
    try:
        response = await _answer(request, handler, access)
        if request.transport is None:  # the client went away before its answer
            access.status, access.origin = CLIENT_CLOSED, "client"
        else:
            access.status = response.status
            access.origin = "proxy" if ORIGIN_HEADER in response.headers else "amazon"
        return response
    except asyncio.CancelledError:  # the client went away (aiohttp cancels its handler)
        access.status, access.origin = CLIENT_CLOSED, "client"
        raise
    finally:
        if counted:
            proxy.metrics.in_flight -= 1
            _record(proxy, access, request.get(OPERATION, UNCLASSIFIED))


def _record(proxy: Proxy, access: AccessRecord, operation: QualifiedName) -> None:
    """The access log line, the audit line of a restricted call, the metrics."""
    access.emit()
    if access.restricted and proxy.audit is not None:
        proxy.audit.record(access)
    proxy.metrics.observe(access, operation)


async def _answer(
    request: web.Request, handler: Handler, access: AccessRecord
) -> web.StreamResponse:
    try:
        return await handler(request)
    except ProxyError as exc:
        return exc.to_response(_debug_headers(access))
    except ConnectionResetError:  # the client went away mid-request: nobody to answer
        return web.Response(status=CLIENT_CLOSED)
    except web.HTTPException:
        # The router found no route: the target is not origin-form (CONNECT, asterisk-form).
        return _target_error(request).to_response()
    except Exception as exc:  # a bug: say so without the message, which may quote request data
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        log.error("internal error %s at %s:%d", type(exc).__name__, frame.filename, frame.lineno)
        failed = ProxyError("spproxy failed to handle the request.", "See the log.")
        return failed.to_response(_debug_headers(access))


def _target_error(request: web.Request) -> ProxyError:
    try:
        parse_target(request.method, request.raw_path)
    except ProxyError as refused:
        return refused
    return reserved.not_found(request)


def make_app(
    config: Config, *, loader: ConfigLoader | None = None, rdt_bundle_limit: int = 50
) -> web.Application:
    """The proxy for `config`.

    `loader` re-reads the configuration for SIGHUP and POST /_spproxy/reload (none: no reload);
    `rdt_bundle_limit=1` turns RDT bundling off (the benchmark compares).
    """
    app = web.Application(middlewares=[proxy_answers])

    async def start_and_stop(app: web.Application) -> AsyncIterator[None]:
        quiet_third_party_loggers()
        stored = await _stored_accounts(config)
        proxy = app[PROXY] = Proxy.build(
            stored.config if stored else config,
            loader=stored.reloading(loader) if stored and loader else loader,
            rdt_bundle_limit=rdt_bundle_limit,
        )
        if stored is not None:
            proxy.stored = stored
            stored.follow(proxy.reconfigure)
            proxy.onboarding = onboarding_for(proxy, stored)
        # warm-up, then refresh ahead, on a timer
        proxy.keeper.start(proxy.config.accounts.values())
        yield
        if stored is not None:  # first: no change of accounts reaches parts being closed
            await stored.aclose()
        await proxy.aclose()

    app.cleanup_ctx.append(start_and_stop)
    documents.add_routes(app, _document_call)  # before reserved's catch-all under /_spproxy/
    feeddocuments.add_routes(app)
    reserved.add_routes(app)
    onboardingroutes.add_routes(app)
    app.router.add_route("*", "/{path:.*}", forward)
    return app


async def _stored_accounts(config: Config) -> StoredAccounts | None:
    """The account store's accounts merged with the file's; ConfigError if that fails."""
    if config.account_store is None:
        return None
    from spproxy.storedaccounts import StoredAccounts  # SQLAlchemy loads only with a store

    return await StoredAccounts.open(config)
