"""The aiohttp application: one request's whole path, and the reserved /_spproxy/ paths.

    normalise -> account -> classify -> body -> credential -> forward -> relay

Everything the pipeline needs is built once at start-up (`Proxy`) and shared: one ClientSession,
one token cache, one operation table. The hot path does no work that could be done once.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial

import aiohttp
from aiohttp import web
from aiohttp.client_middlewares import ClientMiddlewareType

from spproxy import __version__
from spproxy.config import Account, Config
from spproxy.credentials import Credentials
from spproxy.errors import BadRequest, NotFound, PayloadTooLarge, ProxyError
from spproxy.logs import AccessRecord, quiet_third_party_loggers
from spproxy.lwa import LwaTokens
from spproxy.operations import OperationTable, load_table
from spproxy.rdt import RestrictedDataTokens, TokensApi
from spproxy.reports import ReportTypes
from spproxy.target import parse_target
from spproxy.upstream import Upstream, default_user_agent, relay

log = logging.getLogger("spproxy")

ACCOUNT_HEADER = "x-spproxy-account"
OPERATION_HEADER = "x-spproxy-operation"
CREDENTIAL_HEADER = "x-spproxy-credential"
RESERVED_PREFIX = "/_spproxy/"


@dataclass
class Proxy:
    """The parts of the pipeline, built once per process."""

    config: Config
    table: OperationTable
    tokens: LwaTokens
    rdts: RestrictedDataTokens
    credentials: Credentials
    upstream: Upstream

    def account(self, name: str | None) -> Account:
        if name is None:
            return self.config.default_account
        account = self.config.accounts.get(name)
        if account is None:
            known = ", ".join(self.config.accounts)
            raise BadRequest(
                f"Unknown account {name!r} in {ACCOUNT_HEADER}.", f"Configured: {known}."
            )
        return account


CONFIG = web.AppKey("config", Config)
BUNDLE_LIMIT = web.AppKey("rdt_bundle_limit", int)
PROXY = web.AppKey("proxy", Proxy)
ACCESS = web.RequestKey("access", AccessRecord)


async def forward(request: web.Request) -> web.StreamResponse:
    proxy = request.app[PROXY]
    access = request[ACCESS]
    target = parse_target(request.method, request.raw_path)
    account = proxy.account(request.headers.get(ACCOUNT_HEADER))
    operation = proxy.table.classify(request.method, target.path)
    access.account = account.name
    access.operation = operation.name if operation else "unknown"
    access.path = operation.path if operation else target.path
    body = await read_body(request, proxy.config.upstream.max_body_bytes)
    credential = await proxy.credentials.choose(account, operation, target, request.headers)
    send = partial(proxy.upstream.send, account, request.method, target, request.headers, body)
    answer = await send(credential.token)
    if answer.response.status == 403 and credential.retry_with_rdt:  # a report of unknown type
        answer.response.release()
        credential = await proxy.credentials.restricted(account, credential.retry_with_rdt)
        answer = await send(credential.token)
        if answer.response.status == 200:
            proxy.credentials.report_types.mark_restricted(target.path.rsplit("/", 1)[-1])
    access.token_kind = credential.token_kind
    access.upstream_ms = answer.latency_s * 1000
    access.request_id = answer.response.headers.get("x-amzn-RequestId")
    debug_headers = {OPERATION_HEADER: access.operation, CREDENTIAL_HEADER: credential.kind}
    observe = proxy.credentials.report_types.observer(operation)
    return await relay(request, answer.response, debug_headers, observe)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole request body, refused with 413 past `limit` (declared or actually sent).

    Buffered rather than streamed: SigV4 signs a hash of it, and a retry must send it again.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body exceeds upstream.max_body_bytes ({limit} bytes).",
        "Send a smaller body, or raise upstream.max_body_bytes.",
    )


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    failures = request.app[PROXY].tokens.failures
    if failures:
        return web.json_response({"status": "not ready", "accounts": failures}, status=503)
    return web.json_response({"status": "ready"})


async def status(request: web.Request) -> web.Response:
    """What spproxy holds, for operators: never a secret or a token."""
    proxy = request.app[PROXY]
    config = proxy.config
    accounts = {
        account.name: {
            "region": account.region,
            "endpoint": account.endpoint,
            "sandbox": account.sandbox,
            "data_elements": list(account.data_elements),
            "lwa_token_expires_at": _iso(proxy.tokens.expiry(account)),
            "last_token_failure": proxy.tokens.failures.get(account.name),
            "restricted_data_tokens": [
                {
                    "resources": [
                        {"method": r.method, "path": r.path, "dataElements": list(r.data_elements)}
                        for r in rdt.resources
                    ],
                    "expires_at": _iso(rdt.expires_at),
                }
                for rdt in proxy.rdts.cached(account)
            ],
        }
        for account in config.accounts.values()
    }
    return web.json_response(
        {
            "version": __version__,
            "signing": config.aws is not None,
            "accounts": accounts,
            "rdt_mints": proxy.rdts.mints,
            "lwa_exchanges": proxy.tokens.exchanges,
        }
    )


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def proxy_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into SP-API's error shape, and write the access log line."""
    access = request[ACCESS] = AccessRecord(request.method, request.path)
    try:
        response = await _answer(request, handler)
        access.status = response.status
        return response
    finally:
        if not request.path.startswith(RESERVED_PREFIX):  # health probes would drown the log
            access.emit()


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ProxyError as exc:
        return exc.to_response()
    except web.HTTPException:
        # The router found no route: the target is not origin-form (CONNECT, asterisk-form).
        return _target_error(request).to_response()
    except Exception as exc:  # a bug: say so without the message, which may quote request data
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        log.error("internal error %s at %s:%d", type(exc).__name__, frame.filename, frame.lineno)
        return ProxyError("spproxy failed to handle the request.", "See the log.").to_response()


def _target_error(request: web.Request) -> ProxyError:
    try:
        parse_target(request.method, request.raw_path)
    except BadRequest as bad_target:
        return bad_target
    return _not_an_endpoint(request)


def _not_an_endpoint(request: web.Request) -> NotFound:
    return NotFound(
        f"{request.method} {request.path} is not an spproxy endpoint.",
        f"{RESERVED_PREFIX} paths are spproxy's own and never forwarded; see the README.",
    )


async def _reserved_not_found(request: web.Request) -> web.Response:
    raise _not_an_endpoint(request)


async def _start_and_stop(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    quiet_third_party_loggers()
    timeout = config.upstream.timeout_s
    session = aiohttp.ClientSession(
        auto_decompress=False,  # relay the bytes Amazon sent, Content-Encoding and all
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout),
        connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300),
        trust_env=False,  # an HTTP(S)_PROXY in the environment must not reroute seller traffic
    )
    middlewares = _signers(session, config) if config.aws is not None else {}
    tokens = LwaTokens(session, config.lwa, timeout_s=timeout)
    upstream = Upstream(
        session,
        timeout_s=timeout,
        user_agent=config.user_agent or default_user_agent(),
        middlewares=middlewares,
    )
    rdts = RestrictedDataTokens(TokensApi(upstream, tokens).mint, bundle_limit=app[BUNDLE_LIMIT])
    credentials = Credentials(tokens, rdts, ReportTypes())
    app[PROXY] = Proxy(config, load_table(), tokens, rdts, credentials, upstream)
    warm_up = asyncio.create_task(_warm_up(tokens, config))
    yield
    warm_up.cancel()
    await rdts.aclose()
    await tokens.aclose()
    await session.close()


def _signers(
    session: aiohttp.ClientSession, config: Config
) -> dict[str, tuple[ClientMiddlewareType, ...]]:
    """A SigV4 signing middleware per account (its endpoint's region), sharing one credential."""
    from spproxy import signing  # imported only here: botocore loads only when signing is on

    aws = config.aws
    assert aws is not None
    keys = signing.AwsCredentials(
        aws.access_key_id.reveal(),
        aws.secret_access_key.reveal(),
        aws.session_token.reveal() if aws.session_token else None,
    )
    credentials: signing.CredentialsProvider = signing.StaticCredentials(keys)
    if aws.role_arn:
        credentials = signing.AssumeRoleCredentials(
            session,
            credentials,
            role_arn=aws.role_arn,
            sts_endpoint=aws.sts_endpoint,
            sts_region=aws.sts_region,
        )
    return {
        name: (signing.SigV4Signer(credentials, region=account.aws_region),)
        for name, account in config.accounts.items()
    }


async def _warm_up(tokens: LwaTokens, config: Config) -> None:
    """Exchange every account's refresh token at start-up, so /ready tells the truth at once."""
    started = time.perf_counter()
    await asyncio.gather(
        *(tokens.seller_token(account) for account in config.accounts.values()),
        return_exceptions=True,  # each failure is already logged and shown by /_spproxy/ready
    )
    log.debug("token warm-up took %.0f ms", (time.perf_counter() - started) * 1000)


def make_app(config: Config, *, rdt_bundle_limit: int = 50) -> web.Application:
    """The proxy for `config`; `rdt_bundle_limit=1` turns RDT bundling off (the benchmark)."""
    app = web.Application(middlewares=[proxy_answers])
    app[CONFIG] = config
    app[BUNDLE_LIMIT] = rdt_bundle_limit
    app.cleanup_ctx.append(_start_and_stop)
    app.router.add_get("/_spproxy/health", health)
    app.router.add_get("/_spproxy/ready", ready)
    app.router.add_get("/_spproxy/status", status)
    app.router.add_route("*", "/_spproxy/{name:.*}", _reserved_not_found)
    app.router.add_route("*", "/{path:.*}", forward)
    return app
