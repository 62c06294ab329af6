"""Independent SigV4 verifier: what AWS checks on a signed request, with hmac and hashlib only.

Spec: AWS SigV4, "Create a signed AWS API request" and "Elements of an AWS API request
signature" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html). Never
botocore: the emulator must catch mistakes in the botocore-based signer, not share them.

Deliberately strict where AWS leaves room, so that signer bugs show:
- the query is percent-decoded (`+` as space) and re-encoded canonically before sorting, so a
  request verifies only if its signer signed the canonical form of what is on the wire;
- a session token must be signed, and one sent with a long-term key is refused;
- a signed `x-amz-content-sha256` must be the body's hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, quote_from_bytes, unquote_to_bytes

from aiohttp import web
from multidict import CIMultiDict

from spproxy.emulator.state import SignatureOutcome

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_S = 300  # AWS refuses requests signed more than 5 minutes away from its clock
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
Scope = tuple[str, str, str, str]  # the credential scope: date, region, service, aws4_request


@dataclass(frozen=True)
class SignatureCheck:
    outcome: SignatureOutcome
    reason: str = ""  # why it is invalid, for the 403 message


class _Invalid(Exception):
    pass


def verify_request(
    request: web.Request,
    body: bytes,
    credentials_for: Callable[[str], tuple[str, str | None] | None],
    *,
    service: str = "execute-api",
    region: str | None = None,
) -> SignatureCheck:
    """`verify_sigv4` for a request as it reached an aiohttp server."""
    return verify_sigv4(
        method=request.method,
        raw_path=request.raw_path,
        query_string=request.rel_url.raw_query_string,
        headers=request.headers,
        body=body,
        credentials_for=credentials_for,
        service=service,
        region=region,
    )


def verify_sigv4(
    *,
    method: str,
    raw_path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials_for: Callable[[str], tuple[str, str | None] | None],
    service: str = "execute-api",
    now: float | None = None,
    region: str | None = None,
    normalize_path: bool = True,
) -> SignatureCheck:
    """Check a request's `Authorization: AWS4-HMAC-SHA256 ...` header.

    `raw_path` and `query_string` are as on the wire (aiohttp: `request.raw_path` and
    `request.rel_url.raw_query_string`; a query left on `raw_path` is ignored). `headers` may be
    a multidict, whose repeated headers are then signed joined by ','. `region`, when given,
    must match the credential scope. `normalize_path=False` signs the path without removing dot
    segments and duplicate slashes (S3 style; every other service normalises, as botocore does).
    """
    headers = CIMultiDict(headers)  # case-insensitive, repeats kept
    authorization = headers.get("authorization")
    if authorization is None:
        return SignatureCheck("absent")
    try:
        _verify(
            method=method,
            raw_path=raw_path.partition("?")[0],
            query_string=query_string,
            headers=headers,
            authorization=authorization,
            body=body,
            credentials_for=credentials_for,
            service=service,
            region=region,
            now=time.time() if now is None else now,
            normalize_path=normalize_path,
        )
    except _Invalid as exc:
        return SignatureCheck("invalid", str(exc))
    return SignatureCheck("valid")


def _verify(
    *,
    method: str,
    raw_path: str,
    query_string: str,
    headers: CIMultiDict[str],
    authorization: str,
    body: bytes,
    credentials_for: Callable[[str], tuple[str, str | None] | None],
    service: str,
    region: str | None,
    now: float,
    normalize_path: bool,
) -> None:
    access_key_id, scope, signed_headers, signature = _parse_authorization(authorization)
    known = credentials_for(access_key_id)
    if known is None:
        raise _Invalid("the access key id is unknown or its credentials expired")
    secret, required_token = known
    for name in signed_headers:
        if name not in headers:
            raise _Invalid(f"signed header {name} is missing from the request")
    if "host" not in signed_headers:
        raise _Invalid("the host header must be signed")
    timestamp, amz_date = _request_time(headers, signed_headers)
    if abs(now - timestamp) > MAX_SKEW_S:
        raise _Invalid("the request time is more than 5 minutes away from the server's time")
    _check_scope(scope, amz_date, service=service, region=region)
    _check_security_token(headers, signed_headers, required_token)
    payload_hash = _payload_hash(headers, signed_headers, body)
    canonical_request = "\n".join(
        [
            method.upper(),
            _canonical_uri(raw_path, normalize_path),
            _canonical_query(query_string),
            "".join(f"{name}:{_header_value(headers, name)}\n" for name in signed_headers),
            ";".join(signed_headers),
            payload_hash,
        ]
    )
    expected = _signature(secret, scope, amz_date, canonical_request)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise _Invalid("the signature does not match the request")


def _check_scope(scope: Scope, amz_date: str, *, service: str, region: str | None) -> None:
    scope_date, scope_region, scope_service, terminator = scope
    if scope_date != amz_date[:8]:
        raise _Invalid("the credential scope's date is not the request's date")
    if scope_service != service:
        raise _Invalid(f"the credential scope names service {scope_service}, not {service}")
    if region is not None and scope_region != region:
        raise _Invalid(f"the credential scope names region {scope_region}, not {region}")
    if terminator != "aws4_request":
        raise _Invalid("the credential scope does not end in aws4_request")


def _check_security_token(
    headers: CIMultiDict[str], signed_headers: list[str], required_token: str | None
) -> None:
    """`required_token`: the session token of temporary credentials, None for a long-term key."""
    token = headers.get("x-amz-security-token")
    if required_token is not None:
        if token is None or "x-amz-security-token" not in signed_headers:
            raise _Invalid("temporary credentials need a signed x-amz-security-token")
        if not hmac.compare_digest(token.encode(), required_token.encode()):
            raise _Invalid("the security token does not belong to the access key id")
    elif token is not None:
        raise _Invalid("a security token was sent with long-term credentials")


def _payload_hash(headers: CIMultiDict[str], signed_headers: list[str], body: bytes) -> str:
    payload_hash = hashlib.sha256(body).hexdigest()
    declared = headers.get("x-amz-content-sha256", payload_hash)
    if "x-amz-content-sha256" in signed_headers and declared != payload_hash:
        raise _Invalid("x-amz-content-sha256 is not the SHA-256 of the body")
    return payload_hash


def _signature(secret: str, scope: Scope, amz_date: str, canonical_request: str) -> str:
    """The signature the request should carry, made with the secret it claims to know."""
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    string_to_sign = "\n".join([ALGORITHM, amz_date, "/".join(scope), digest])
    key = f"AWS4{secret}".encode()
    for part in scope:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _parse_authorization(authorization: str) -> tuple[str, Scope, list[str], str]:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _Invalid(f"the Authorization header is not {ALGORITHM}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or name in fields:
            raise _Invalid("the Authorization header is malformed")
        fields[name] = value
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise _Invalid("the Authorization header needs Credential, SignedHeaders and Signature")
    credential = fields["Credential"].split("/")
    if len(credential) != 5 or not all(credential):
        raise _Invalid("the Credential is not AKID/date/region/service/aws4_request")
    signed_headers = fields["SignedHeaders"].split(";")
    # SigV4 lists signed headers lowercased and sorted; anything else is a signer bug.
    if signed_headers != sorted({name.lower() for name in signed_headers if name}):
        raise _Invalid("SignedHeaders must be lowercase, sorted and without repeats")
    scope = (credential[1], credential[2], credential[3], credential[4])
    return credential[0], scope, signed_headers, fields["Signature"]


def _request_time(headers: CIMultiDict[str], signed_headers: list[str]) -> tuple[float, str]:
    """(epoch seconds, ISO 8601 basic timestamp) from a signed x-amz-date or, else, date."""
    if "x-amz-date" in headers:
        if "x-amz-date" not in signed_headers:
            raise _Invalid("x-amz-date must be signed")
        amz_date = headers["x-amz-date"].strip()
        if not _AMZ_DATE.fullmatch(amz_date):
            raise _Invalid("x-amz-date is not YYYYMMDD'T'HHMMSS'Z'")
        try:
            when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise _Invalid("x-amz-date is not a valid time") from None
        return when.timestamp(), amz_date
    if "date" in headers:
        if "date" not in signed_headers:
            raise _Invalid("date must be signed")
        try:
            when = parsedate_to_datetime(headers["date"]).astimezone(UTC)
        except (TypeError, ValueError):
            raise _Invalid("the date header is not an HTTP date") from None
        return when.timestamp(), when.strftime("%Y%m%dT%H%M%SZ")
    raise _Invalid("the request has neither x-amz-date nor date")


def _canonical_uri(path: str, normalize: bool) -> str:
    # Non-S3 services encode the path a second time: each segment as it came on the wire
    # (so '%2F' -> '%252F', ' ' -> '%20'), slashes between segments kept.
    if normalize:
        path = _remove_dot_segments(path)
    if not path:
        return "/"
    try:
        return "/".join(quote(segment, safe="") for segment in path.split("/"))
    except UnicodeEncodeError:  # undecodable bytes in the request line
        raise _Invalid("the path is not valid UTF-8") from None


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, plus AWS's collapsing of empty segments ('//' -> '/')."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    trailing = "/" if path.endswith("/") and kept else ""
    return "/" + "/".join(kept) + trailing


def _canonical_query(query_string: str) -> str:
    pairs = []
    for field in query_string.split("&"):
        if not field:
            continue
        key, _, value = field.partition("=")
        pairs.append((_encode_query_part(key), _encode_query_part(value)))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def _encode_query_part(text: str) -> str:
    if _BAD_ESCAPE.search(text):
        raise _Invalid("the query string has a malformed percent-escape")
    try:
        raw = unquote_to_bytes(text.replace("+", " "))
    except UnicodeEncodeError:
        raise _Invalid("the query string is not valid UTF-8") from None
    return quote_from_bytes(raw, safe="")


def _header_value(headers: CIMultiDict[str], name: str) -> str:
    values = headers.getall(name)
    # Trimall: strip, and collapse inner whitespace runs to one space.
    return ",".join(" ".join(value.split()) for value in values)
