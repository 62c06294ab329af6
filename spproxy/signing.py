"""AWS Signature Version 4 for outgoing requests: `SigV4Signer.sign` puts the signature into
the headers of a call about to go out (upstream's, over `http1pool`); the signer is an aiohttp
client middleware too (STS's AssumeRole call, through the session).

Spec: AWS SigV4, "Create a signed AWS API request"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), computed by
botocore's `SigV4Auth`. SP-API has ignored signatures since 2023-10-02, so signing is a
compatibility option that is on only when `aws:` is configured; botocore is imported on first
use, never by `import spproxy.signing`, and so never on the unsigned path.

The signer signs the request as it stands: method, URL (path and query exactly as they will go
on the wire), every header but those botocore leaves out (user-agent, hop-by-hop; Host comes
from the URL), and the body. Sign last, after every change to the request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol
from xml.etree import ElementTree

import aiohttp
from aiohttp import ClientHandlerType, ClientRequest, ClientResponse
from aiohttp.payload import Payload
from multidict import CIMultiDict

from spproxy.addresses import redact_url
from spproxy.config import Account, AwsConfig
from spproxy.errors import SigningError
from spproxy.tokencache import TokenCache

if TYPE_CHECKING:
    from collections.abc import Mapping

# Headers the signature itself sets; stale copies (a retry, a client's) must not be signed.
_SIGNATURE_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
_STS_NS = {"sts": "https://sts.amazonaws.com/doc/2011-06-15/"}


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        # Credentials end up in tracebacks and debug logs; only the key id may show.
        token = None if self.session_token is None else "***"
        return (
            f"AwsCredentials(access_key_id={self.access_key_id!r}, "
            f"secret_access_key='***', session_token={token!r})"
        )


class CredentialsProvider(Protocol):
    async def get(self) -> AwsCredentials: ...


class StaticCredentials:
    """Long-term keys from the configuration."""

    def __init__(self, credentials: AwsCredentials) -> None:
        self._credentials = credentials

    async def get(self) -> AwsCredentials:
        return self._credentials


class SigV4Signer:
    """Adds `Authorization`, `X-Amz-Date` (and the session token) to a request's headers."""

    def __init__(
        self, credentials: CredentialsProvider, *, region: str, service: str = "execute-api"
    ) -> None:
        self._credentials = credentials
        self._region = region
        self._service = service

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        """As an aiohttp client middleware (STS's AssumeRole call)."""
        # SigV4 hashes the whole body, so a streamed body is read here; aiohttp payloads
        # cache what they read and send the same bytes afterwards.
        body = await request.body.as_bytes() if isinstance(request.body, Payload) else b""
        await self.sign(request.method, str(request.url), request.headers, body)
        return await handler(request)

    async def sign(self, method: str, url: str, headers: CIMultiDict[str], body: bytes) -> None:
        """Put this request's signature into `headers`, replacing any stale one."""
        credentials = await self._credentials.get()
        for name in _SIGNATURE_HEADERS:
            headers.popall(name, None)
        headers.update(
            _sign(
                credentials,
                method=method,
                url=url,
                headers=headers,
                body=body,
                region=self._region,
                service=self._service,
            )
        )


def _sign(
    credentials: AwsCredentials,
    *,
    method: str,
    url: str,
    headers: CIMultiDict[str],
    body: bytes,
    region: str,
    service: str,
) -> Mapping[str, str]:
    """The headers botocore's SigV4Auth adds for this request."""
    # Imported here so that proxies that do not sign never load botocore.
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    aws_request = AWSRequest(method=method, url=url, data=body)
    # AWSRequest's headers are an email.message.Message: item assignment appends, so
    # repeated headers stay repeated and botocore joins them with ',' as SigV4 says.
    for name, value in headers.items():
        aws_request.headers[name] = value
    botocore_credentials = Credentials(
        credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    SigV4Auth(botocore_credentials, service, region).add_auth(aws_request)
    # botocore signs with `Date` instead of `X-Amz-Date` when the request already has one.
    return {
        name: str(aws_request.headers[name])
        for name in (*_SIGNATURE_HEADERS, "Date")
        if name in aws_request.headers
    }


class AssumeRoleCredentials:
    """Temporary credentials from STS AssumeRole, refreshed shortly before they expire.

    However many requests wait on an empty or stale cache, one AssumeRole call serves them all.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base: CredentialsProvider,
        *,
        role_arn: str,
        sts_endpoint: str = "https://sts.amazonaws.com",
        sts_region: str = "us-east-1",
        session_name: str = "spproxy",
        duration_s: int = 3600,
        refresh_margin_s: int = 300,
        timeout_s: float = 10.0,
    ) -> None:
        self._session = session
        self._role_arn = role_arn
        self._sts_endpoint = sts_endpoint
        self._session_name = session_name
        self._duration_s = duration_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        # The STS call is signed with the long-term keys, service "sts".
        self._signer = SigV4Signer(base, region=sts_region, service="sts")
        # One set of credentials, renewed `refresh_margin_s` before they expire; every request
        # waits for that one AssumeRole call (no stale serving: SigV4 with expired keys fails).
        self._cache: TokenCache[None, _Assumed] = TokenCache(
            margin_s=refresh_margin_s, refresh_ahead_s=refresh_margin_s, clock=time.time, what="STS"
        )

    async def get(self) -> AwsCredentials:
        assumed, _ = await self._cache.get(
            None,
            wait=lambda: self._cache.fetch(None, self._assume_role),
            renew=lambda: None,  # never: no window between refresh_ahead_s and margin_s
        )
        return assumed.credentials

    async def _assume_role(self) -> _Assumed:
        form = {
            "Action": "AssumeRole",
            "Version": "2011-06-15",
            "RoleArn": self._role_arn,
            "RoleSessionName": self._session_name,
            "DurationSeconds": str(self._duration_s),
        }
        try:
            # Request-level middlewares replace the session's: a session that signs its
            # SP-API calls with credentials from this provider must not sign this call too.
            async with self._session.post(
                self._sts_endpoint,
                data=form,
                middlewares=(self._signer,),
                timeout=self._timeout,
                raise_for_status=False,  # STS's error body names the problem; read it
            ) as response:
                status, text = response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SigningError(
                f"STS AssumeRole could not reach {redact_url(self._sts_endpoint)} "
                f"({type(exc).__name__}); check the network and the STS endpoint",
                str(exc),
            ) from exc
        if status != 200:
            code, message = _sts_error(text)
            raise SigningError(
                f"STS AssumeRole for {self._role_arn} was refused with {code} (HTTP {status}); "
                "check aws.role_arn, that the role's trust policy allows the IAM user of "
                "aws.access_key_id, and that aws.access_key_id and aws.secret_access_key are valid",
                message,
            )
        try:
            return _Assumed(*_parse_credentials(text))
        except (ElementTree.ParseError, ValueError) as exc:
            raise SigningError(
                f"STS AssumeRole at {redact_url(self._sts_endpoint)} answered 200 without usable "
                "credentials; "
                "check that the STS endpoint is really STS",
                str(exc),
            ) from None


@dataclass(frozen=True, slots=True)
class _Assumed:
    credentials: AwsCredentials
    expires_at: float  # time.time()


def _parse_credentials(text: str) -> tuple[AwsCredentials, float]:
    # The endpoint is the operator's configuration, and expat expands no external entities.
    root = ElementTree.fromstring(text)  # noqa: S314
    node = root.find("sts:AssumeRoleResult/sts:Credentials", _STS_NS)
    if node is None:
        raise ValueError("no AssumeRoleResult/Credentials element")

    def field(name: str) -> str:
        value = node.findtext(f"sts:{name}", namespaces=_STS_NS)
        if not value:
            raise ValueError(f"no {name} element")
        return value.strip()

    credentials = AwsCredentials(
        field("AccessKeyId"), field("SecretAccessKey"), field("SessionToken")
    )
    expiration = datetime.fromisoformat(field("Expiration"))  # ISO 8601, "Z" or offset
    if expiration.tzinfo is None:  # STS writes UTC
        expiration = expiration.replace(tzinfo=UTC)
    return credentials, expiration.timestamp()


def _sts_error(text: str) -> tuple[str, str]:
    """(code, message) of an STS ErrorResponse, or placeholders when the body is not one."""
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 - see _parse_credentials
    except ElementTree.ParseError:
        return "an unreadable error", ""
    code = root.findtext("sts:Error/sts:Code", namespaces=_STS_NS) or "an unknown error"
    message = root.findtext("sts:Error/sts:Message", namespaces=_STS_NS) or ""
    return code.strip(), message.strip()


def signers(
    session: aiohttp.ClientSession, aws: AwsConfig, accounts: Mapping[str, Account]
) -> dict[str, SigV4Signer]:
    """Each account's SigV4 signer: its endpoint's region's, one per region, all sharing one
    credential (`session` carries STS's AssumeRole calls)."""
    keys = AwsCredentials(
        aws.access_key_id.reveal(),
        aws.secret_access_key.reveal(),
        aws.session_token.reveal() if aws.session_token else None,
    )
    credentials: CredentialsProvider = StaticCredentials(keys)
    if aws.role_arn:
        credentials = AssumeRoleCredentials(
            session,
            credentials,
            role_arn=aws.role_arn,
            sts_endpoint=aws.sts_endpoint,
            sts_region=aws.sts_region,
        )
    regions = {account.aws_region for account in accounts.values()}
    by_region = {region: SigV4Signer(credentials, region=region) for region in regions}
    return {name: by_region[account.aws_region] for name, account in accounts.items()}
