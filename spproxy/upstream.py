"""Forwarding to the account's SP-API endpoint and relaying the answer.

Header hygiene follows RFC 9110 7.6.1 (hop-by-hop fields, and any the client names in
`Connection`, are not forwarded) plus SP-API's own rules: credentials come only from spproxy,
never from the client; `x-spproxy-*` headers stay local; no `X-Forwarded-For` leaks the local
network. The answer is relayed as it came (status, headers, body bytes; no decompression),
streamed, so large report documents do not sit in memory.
"""

from __future__ import annotations

import asyncio
import io
import logging
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import aiohttp
from aiohttp import hdrs, web
from aiohttp.client_middlewares import ClientMiddlewareType
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from spproxy import __version__
from spproxy.config import Account
from spproxy.errors import GatewayTimeout, UpstreamUnreachable
from spproxy.target import Target

log = logging.getLogger("spproxy.upstream")

ACCESS_TOKEN_HEADER = "x-amz-access-token"  # noqa: S105 - a header name
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Client-sent credentials, proxy-identifying headers and what aiohttp derives from the URL/body.
NOT_FORWARDED = HOP_BY_HOP | {
    "authorization",
    "x-amz-access-token",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "host",
    "content-length",
    "user-agent",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "via",
}
# aiohttp adds these unless told not to; we forward exactly what the client sent.
SKIP_AUTO_HEADERS = frozenset({hdrs.ACCEPT, hdrs.ACCEPT_ENCODING, hdrs.CONTENT_TYPE})
RELAY_CHUNK = 64 * 1024
LARGE_BODY = 1024 * 1024
OBSERVE_LIMIT = 4 * 1024 * 1024


def default_user_agent() -> str:
    """Amazon's format: AppName/Version (Language=LanguageName/Version; Platform=OS/Version)."""
    return (
        f"spproxy/{__version__} (Language=Python/{platform.python_version()}; "
        f"Platform={platform.system()}/{platform.release()})"
    )[:500]


def forwarded_headers(client: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    named = {
        name.strip().lower()
        for value in client.getall(hdrs.CONNECTION, ())
        for name in value.split(",")
    }
    return CIMultiDict(
        (name, value)
        for name, value in client.items()
        if (lower := name.lower()) not in NOT_FORWARDED
        and lower not in named
        and not lower.startswith("x-spproxy-")
    )


def amz_date() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


@dataclass(frozen=True)
class UpstreamAnswer:
    response: aiohttp.ClientResponse
    latency_s: float  # from sending to the answer's headers


class Upstream:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout_s: float,
        user_agent: str,
        middlewares: Mapping[str, Sequence[ClientMiddlewareType]],  # by account name (signing)
    ) -> None:
        self._session = session
        self._timeout_s = timeout_s
        self._user_agent = user_agent
        self._middlewares = middlewares

    async def send(
        self,
        account: Account,
        method: str,
        target: Target,
        client_headers: CIMultiDictProxy[str],
        body: bytes,
        access_token: str,
    ) -> UpstreamAnswer:
        headers = forwarded_headers(client_headers)
        headers[ACCESS_TOKEN_HEADER] = access_token
        headers["x-amz-date"] = amz_date()
        headers[hdrs.USER_AGENT] = self._user_agent
        url = URL(account.endpoint + target.path_and_query, encoded=True)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._session.request(
                    method,
                    url,
                    headers=headers,
                    data=_payload(body),
                    allow_redirects=False,
                    skip_auto_headers=SKIP_AUTO_HEADERS,
                    middlewares=self._middlewares.get(account.name, ()),
                )
        except TimeoutError:
            raise GatewayTimeout(
                f"{url.host} did not answer within {self._timeout_s:g} s.",
                "Amazon may be slow; retry, or raise upstream.timeout_s.",
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamUnreachable(
                f"{url.host} could not be reached ({type(exc).__name__}).",
                "Check the account's endpoint and the network.",
            ) from None
        return UpstreamAnswer(response, time.perf_counter() - started)


def _payload(body: bytes) -> bytes | io.BytesIO | None:
    # aiohttp warns that writing a large bytes object at once can hold the event loop; a
    # BytesIO is written in chunks (and still re-readable for signing).
    if len(body) > LARGE_BODY:
        return io.BytesIO(body)
    return body or None


async def relay(
    request: web.Request,
    upstream: aiohttp.ClientResponse,
    extra_headers: Mapping[str, str],
    observe: Callable[[bytes], None] | None = None,
) -> web.StreamResponse:
    """Stream the upstream answer to the client unchanged, plus spproxy's debugging headers.

    `observe`, if given, is handed the whole body of a successful answer once it has gone out
    (bodies over OBSERVE_LIMIT are not kept): how report types are learned from getReport(s).
    """
    headers = CIMultiDict(
        (name, value) for name, value in upstream.headers.items() if name.lower() not in HOP_BY_HOP
    )
    headers.update(extra_headers)
    answer = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers=headers)
    await answer.prepare(request)
    kept: list[bytes] | None = [] if observe is not None and upstream.status == 200 else None
    size = 0
    try:
        async for chunk in upstream.content.iter_chunked(RELAY_CHUNK):
            if kept is not None:
                size += len(chunk)
                if size > OBSERVE_LIMIT:
                    kept = None
                else:
                    kept.append(chunk)
            try:
                await answer.write(chunk)
            except ConnectionResetError:
                log.debug("the client went away mid-answer")
                return answer
    except (aiohttp.ClientError, TimeoutError) as exc:
        # The status line is already sent: all we can do is cut the connection so the client
        # sees a truncated answer rather than a complete-looking one.
        log.warning("upstream broke off the answer mid-body (%s)", type(exc).__name__)
        if request.transport is not None:
            request.transport.close()
        return answer
    finally:
        upstream.release()
    await answer.write_eof()
    if observe is not None and kept is not None:
        observe(b"".join(kept))
    return answer
