"""Forwarding to the account's SP-API endpoint: pacing, retries, and the renew-once loop.

Header hygiene follows RFC 9110 7.6.1 (hop-by-hop fields, and any the client names in
`Connection`, are not forwarded) plus SP-API's own rules: credentials come only from spproxy,
never from the client; `x-spproxy-*` headers stay local; no `X-Forwarded-For` leaks the local
network. `relay` sends the answer on to the client.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import platform
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, TypeVar

import aiohttp
from aiohttp import hdrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from spproxy import __version__
from spproxy.config import Account, UpstreamConfig
from spproxy.errors import BadRequest, GatewayTimeout, UpstreamUnreachable
from spproxy.headers import ACCESS_TOKEN_HEADER, RATE_LIMIT_HEADER, SPPROXY_PREFIX
from spproxy.http1 import ConnectFailed
from spproxy.http1pool import Http1Client
from spproxy.operations import UNKNOWN, usage_plan
from spproxy.ratelimit import BucketKey, RateLimiter
from spproxy.wire import REFUSALS, UpstreamAnswer, UpstreamRequest

if TYPE_CHECKING:
    from spproxy.signing import SigV4Signer

log = logging.getLogger("spproxy.upstream")

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
# Client-sent credentials, proxy-identifying headers, what is derived from the URL and body, and
# Expect (spproxy has read the whole body already: waiting for a 100 again only costs a trip).
NOT_FORWARDED = HOP_BY_HOP | {
    "expect",
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
_PLAIN_CONNECTION = frozenset({"keep-alive", "close"})  # name no header to drop
PEEK_LIMIT = 64 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
# Amazon throttles a call before acting on it (SP-API's 429 QuotaExceeded; RFC 6585 4): any
# method may go again, a POST too.
NOT_ACTED_ON = frozenset({429})


def default_user_agent() -> str:
    """Amazon's format: AppName/Version (Language=LanguageName/Version; Platform=OS/Version)."""
    return (
        f"spproxy/{__version__} (Language=Python/{platform.python_version()}; "
        f"Platform={platform.system()}/{platform.release()})"
    )[:500]


def forwarded_headers(client: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    connection = client.getall(hdrs.CONNECTION, ())
    dropped = NOT_FORWARDED
    if connection and not (len(connection) == 1 and connection[0].lower() in _PLAIN_CONNECTION):
        dropped = dropped | {name.strip().lower() for v in connection for name in v.split(",")}
    return CIMultiDict(
        [
            (name, value)
            for name, value in client.items()
            if (lower := name.lower()) not in dropped and not lower.startswith(SPPROXY_PREFIX)
        ]
    )


def amz_date() -> str:
    """The x-amz-date header value (formatted once per second, not per request)."""
    return _amz_date_at(int(time.time()))


@functools.lru_cache(maxsize=1)
def _amz_date_at(second: int) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))


T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded; Retry-After honoured up to `max_backoff_s`."""

    retries: int
    backoff_s: float
    max_backoff_s: float

    def delay(self, retry: int, retry_after: str | None) -> float | None:
        """Seconds before retry number `retry` (1, 2, ...), or None: do not retry."""
        if retry > self.retries:
            return None
        if retry_after:
            wanted = _retry_after_seconds(retry_after)
            return wanted if wanted is not None and wanted <= self.max_backoff_s else None
        ceiling = min(self.max_backoff_s, self.backoff_s * 2.0 ** (retry - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not secrecy


def _retry_after_seconds(value: str) -> float | None:
    """Retry-After as delay-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if value.strip().isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class Upstream:
    def __init__(
        self,
        client: Http1Client,
        *,
        config: UpstreamConfig,
        user_agent: str,
        signers: Mapping[str, SigV4Signer],  # by account name, when aws: is configured
        limiter: RateLimiter,
    ) -> None:
        self._client = client
        self._limiter = limiter
        self.throttled: Counter[BucketKey] = Counter()  # Amazon's 429s, each attempt
        self.retries: Counter[str] = Counter()  # by reason: a status, or "connection"
        self.reconfigure(config, user_agent, signers)

    def reconfigure(
        self, config: UpstreamConfig, user_agent: str, signers: Mapping[str, SigV4Signer]
    ) -> None:
        """A reloaded config applies from the next attempt on."""
        self._user_agent = user_agent
        self.signers = signers
        # Connecting, and each wait for bytes (the answer's headers first), within timeout_s.
        self._timeout_s = config.timeout_s
        self._pacing = config.pacing
        self._retry = RetryPolicy(config.retries, config.backoff_s, config.max_backoff_s)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send_renewing(
        self,
        request: UpstreamRequest,
        credential: T,
        *,
        token: Callable[[T], str],
        renew: Callable[[T, UpstreamAnswer], Awaitable[T | None]],
    ) -> tuple[T, UpstreamAnswer]:
        """Send; if `renew` makes another credential of Amazon's answer (a token it says expired
        or was revoked; a report document that wants an RDT), send once more with that one.

        "Send, see the refusal, renew, resend once", as httpx's auth_flow: written here only.
        """
        answer = await self.send(request, token(credential))
        if answer.response.status not in REFUSALS:
            return credential, answer
        renewed = await renew(credential, answer)
        if renewed is None:
            return credential, answer
        answer.response.release()
        return renewed, await self.send(request, token(renewed))

    async def send(self, request: UpstreamRequest, access_token: str) -> UpstreamAnswer:
        """Pace, send, and retry what is safe to retry; the answer to relay.

        GET, HEAD, PUT and DELETE are retried on 429 and 5xx answers and on connection errors;
        a POST only on Amazon's 429 (it throttled the call, so did not act on it) or when the
        connection failed before anything was sent, since Amazon may have acted on it otherwise
        (and would act twice). Each attempt waits for its own slot.
        """
        account, operation, method = request.account, request.operation, request.method
        body = request.body
        headers = forwarded_headers(request.headers)
        headers[ACCESS_TOKEN_HEADER] = access_token
        headers[hdrs.USER_AGENT] = self._user_agent
        target = request.target.path_and_query
        bucket = (account.name, operation.qualified if operation else UNKNOWN)
        idempotent = method in IDEMPOTENT
        retry = 0
        while True:
            if self._pacing:
                rate, burst = usage_plan(operation, sandbox=account.sandbox)
                await self._limiter.acquire(bucket, rate, burst)
            headers["x-amz-date"] = amz_date()
            retry += 1
            try:
                answer = await self._attempt(account, method, target, headers, body)
            except UpstreamUnreachable as exc:
                delay = self._retry.delay(retry, None)
                if delay is None or not (idempotent or exc.before_sending):
                    raise
                log.info("retry %d of %s %s in %.2f s: %s", retry, method, bucket[1], delay, exc)
                self.retries["connection"] += 1
                await asyncio.sleep(delay)
                continue
            response = answer.response
            if response.status == 429:
                self.throttled[bucket] += 1
            if response.status in RETRY_STATUSES and (
                idempotent or response.status in NOT_ACTED_ON
            ):
                delay = self._retry.delay(retry, response.headers.get(hdrs.RETRY_AFTER))
                if delay is not None:
                    log.info(
                        "retry %d of %s %s in %.2f s: HTTP %d",
                        retry,
                        method,
                        bucket[1],
                        delay,
                        response.status,
                    )
                    self.retries[str(response.status)] += 1
                    response.release()
                    await asyncio.sleep(delay)
                    continue
            await self._limiter.learn(bucket, response.headers.get(RATE_LIMIT_HEADER))
            if response.status in REFUSALS and (response.content_length or 0) <= PEEK_LIMIT:
                answer.body = await response.read()
            return answer

    async def _attempt(
        self, account: Account, method: str, target: str, headers: CIMultiDict[str], body: bytes
    ) -> UpstreamAnswer:
        signer = self.signers.get(account.name)
        if signer is not None:
            await signer.sign(method, account.endpoint + target, headers, body)
        started = time.perf_counter()
        try:
            response = await self._client.request(
                account.endpoint, method, target, headers, body, timeout_s=self._timeout_s
            )
        except TimeoutError:  # connecting, or waiting for the answer
            raise GatewayTimeout(
                f"{URL(account.endpoint).host} did not answer within {self._timeout_s:g} s.",
                "Amazon may be slow; retry, or raise upstream.timeout_s.",
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamUnreachable(
                f"{URL(account.endpoint).host} could not be reached ({type(exc).__name__}).",
                "Check the account's endpoint and the network.",
                # The connection never opened: nothing was sent, so even a POST may go again.
                before_sending=isinstance(exc, ConnectFailed),
            ) from None
        except ValueError:  # a header value with a line break: never on the wire
            raise BadRequest(
                "A header to forward holds a line break or a control character; nothing was sent.",
                "Send each header on one line.",
            ) from None
        return UpstreamAnswer(response, time.perf_counter() - started)
