"""SigV4 verification against AWS's test vectors and botocore's signatures."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from multidict import CIMultiDict

from spproxy.emulator.sigv4 import SignatureCheck, verify_sigv4
from tests.vectors import SIGV4_SUITE, SIGV4_VECTORS

# Vectors whose signed request this verifier refuses on purpose, and why.
EXPECTED_INVALID = {
    "post-sts-header-after": "the session token is sent but was added after signing "
    "(omit_session_token); the emulator requires temporary credentials to sign their token",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: CIMultiDict[str]
    body: bytes


def parse_request(data: bytes) -> Request:
    """An HTTP/1.1 request as the test suite writes it (LF line ends, obs-fold allowed)."""
    head, _, body = data.partition(b"\n\n")
    lines = [line for line in head.decode().split("\n") if line]
    method, _, rest = lines[0].partition(" ")
    target = rest.rsplit(" ", 1)[0]  # the target itself may hold a space
    path, _, query = target.partition("?")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[0] in " \t":  # obs-fold: continues the previous header's value
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
        else:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
    return Request(method, path, query, CIMultiDict(headers), body)


def context(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((SIGV4_SUITE / name / "context.json").read_text())
    return result


def signed_request(name: str) -> Request:
    return parse_request((SIGV4_SUITE / name / "header-signed-request.txt").read_bytes())


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def keys_of(ctx: dict[str, Any]) -> Callable[[str], tuple[str, str | None] | None]:
    creds = ctx["credentials"]
    known = {creds["access_key_id"]: (creds["secret_access_key"], creds.get("token"))}
    return known.get


def verify(
    request: Request,
    ctx: dict[str, Any],
    *,
    credentials_for: Callable[[str], tuple[str, str | None] | None] | None = None,
    now: float | None = None,
    service: str | None = None,
    region: str | None = None,
) -> SignatureCheck:
    return verify_sigv4(
        method=request.method,
        raw_path=request.path,
        query_string=request.query,
        headers=request.headers,
        body=request.body,
        credentials_for=credentials_for or keys_of(ctx),
        service=service or ctx["service"],
        now=epoch(ctx["timestamp"]) if now is None else now,
        region=region,
        normalize_path=ctx["normalize"],
    )


def _with_header(request: Request, name: str, value: str) -> Request:
    headers = request.headers.copy()
    headers[name] = value
    return replace(request, headers=headers)


def _shift_date(request: Request) -> Request:
    when = datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    return _with_header(
        request, "X-Amz-Date", (when + timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
    )


def _flip_signature(request: Request) -> Request:
    auth = request.headers["Authorization"]
    flipped = auth[:-1] + ("0" if auth[-1] != "0" else "1")
    return _with_header(request, "Authorization", flipped)


TAMPERINGS: dict[str, Callable[[Request], Request]] = {
    "signature": _flip_signature,
    "method": lambda r: replace(r, method="PUT" if r.method != "PUT" else "GET"),
    "path": lambda r: replace(r, path=r.path + "x"),
    "query": lambda r: replace(r, query=r.query + ("&" if r.query else "") + "extra=1"),
    "host": lambda r: _with_header(r, "Host", "example.amazonaws.org"),
    "date": _shift_date,
    "body": lambda r: replace(r, body=r.body + b"x"),
}


# What the verifier refuses, and the reason it gives.
VANILLA = "get-vanilla"
T0 = epoch(context(VANILLA)["timestamp"])


# Requests signed by botocore directly (not through spproxy's signer).
SECRET = "botocore-secret"
NOW = datetime(2024, 5, 1, 12, 0, 0)


def botocore_signed(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> CIMultiDict[str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: NOW)
    aws_request = AWSRequest(method=method, url=url, headers=headers or {}, data=body)
    SigV4Auth(Credentials("AKIDBOTO", SECRET), "execute-api", "us-east-1").add_auth(aws_request)
    return CIMultiDict({"Host": "example.com", **dict(aws_request.headers.items())})


def check_botocore(
    headers: CIMultiDict[str], path: str, query: str, *, method: str = "GET", body: bytes = b""
) -> SignatureCheck:
    return verify_sigv4(
        method=method,
        raw_path=path,
        query_string=query,
        headers=headers,
        body=body,
        credentials_for={"AKIDBOTO": (SECRET, None)}.get,
        now=NOW.replace(tzinfo=UTC).timestamp(),
        region="us-east-1",
    )


@pytest.mark.parametrize("name", SIGV4_VECTORS)
def test_vector_signed_request_verifies(name: str) -> None:
    check = verify(signed_request(name), context(name))
    if name in EXPECTED_INVALID:
        assert check.outcome == "invalid", EXPECTED_INVALID[name]
        assert "x-amz-security-token" in check.reason
    else:
        assert check == SignatureCheck("valid")


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
@pytest.mark.parametrize("name", SIGV4_VECTORS)
def test_tampered_vector_is_invalid(name: str, tampering: str) -> None:
    check = verify(TAMPERINGS[tampering](signed_request(name)), context(name))
    assert check.outcome == "invalid"
    assert check.reason


def test_vector_with_a_changed_signed_header_is_invalid() -> None:
    request = signed_request("get-header-value-order")
    headers = CIMultiDict((k, v) for k, v in request.headers.items() if v != "value3")
    assert verify(replace(request, headers=headers), context("get-header-value-order")) == (
        SignatureCheck("invalid", "the signature does not match the request")
    )


def test_plain_dict_headers_are_case_insensitive() -> None:
    request = signed_request("get-vanilla")
    headers = {name.upper(): value for name, value in request.headers.items()}
    check = verify_sigv4(
        method="GET",
        raw_path="/",
        query_string="",
        headers=headers,
        body=b"",
        credentials_for=keys_of(context("get-vanilla")),
        service="service",
        now=epoch(context("get-vanilla")["timestamp"]),
    )
    assert check.outcome == "valid"


def test_a_query_left_on_raw_path_is_ignored() -> None:
    request = signed_request("post-vanilla-query")
    ctx = context("post-vanilla-query")
    assert verify(replace(request, path="/?ignored=1"), ctx).outcome == "valid"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"now": T0 + 301}, "the request time is more than 5 minutes away from the server's time"),
        ({"now": T0 - 301}, "the request time is more than 5 minutes away from the server's time"),
        ({"service": "execute-api"}, "the credential scope names service service, not execute-api"),
        ({"region": "eu-west-1"}, "the credential scope names region us-east-1, not eu-west-1"),
        ({"credentials_for": {}.get}, "the access key id is unknown or its credentials expired"),
        (
            {
                "credentials_for": {
                    "AKIDEXAMPLE": ("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "t")
                }.get
            },
            "temporary credentials need a signed x-amz-security-token",
        ),
        (
            {"credentials_for": {"AKIDEXAMPLE": ("wrong-secret", None)}.get},
            "the signature does not match the request",
        ),
    ],
)
def test_refusals(change: dict[str, Any], reason: str) -> None:
    assert verify(signed_request(VANILLA), context(VANILLA), **change) == SignatureCheck(
        "invalid", reason
    )


def test_within_the_five_minute_window_is_valid() -> None:
    for now in (T0 - 300, T0 + 300):
        assert verify(signed_request(VANILLA), context(VANILLA), now=now).outcome == "valid"


def test_missing_authorization_is_absent() -> None:
    request = signed_request(VANILLA)
    del request.headers["Authorization"]
    assert verify(request, context(VANILLA)) == SignatureCheck("absent")


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("Bearer abc", "the Authorization header is not AWS4-HMAC-SHA256"),
        ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE", "the Authorization header needs Credential,"),
        ("AWS4-HMAC-SHA256 garbage", "the Authorization header is malformed"),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, "
            "SignedHeaders=host;x-amz-date, Signature=00",
            "the Credential is not",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=x-amz-date;host, Signature=00",
            "SignedHeaders must be lowercase, sorted",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=x-amz-date, Signature=00",
            "the host header must be signed",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host, Signature=00",
            "x-amz-date must be signed",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;my-header;x-amz-date, Signature=00",
            "signed header my-header is missing",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=00",
            "the credential scope's date is not the request's date",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_requesx, "
            "SignedHeaders=host;x-amz-date, Signature=00",
            "the credential scope does not end in aws4_request",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=\u00e9",
            "the signature does not match the request",
        ),
    ],
)
def test_malformed_authorization(authorization: str, reason: str) -> None:
    request = _with_header(signed_request(VANILLA), "Authorization", authorization)
    check = verify(request, context(VANILLA))
    assert check.outcome == "invalid"
    assert check.reason.startswith(reason)


def test_session_token_sent_with_long_term_key_is_refused() -> None:
    request = _with_header(signed_request(VANILLA), "X-Amz-Security-Token", "stale")
    assert verify(request, context(VANILLA)).reason == (
        "a security token was sent with long-term credentials"
    )


def test_session_token_must_be_the_issued_one() -> None:
    name = "get-vanilla-with-session-token"
    ctx = context(name)
    secret = ctx["credentials"]["secret_access_key"]
    check = verify(
        signed_request(name), ctx, credentials_for={"AKIDEXAMPLE": (secret, "other")}.get
    )
    assert check.reason == "the security token does not belong to the access key id"


def test_content_sha256_must_match_the_body() -> None:
    name = "post-x-www-form-urlencoded"
    request = replace(signed_request(name), body=b"Param1=value2")
    assert verify(request, context(name)).reason == (
        "x-amz-content-sha256 is not the SHA-256 of the body"
    )


def test_malformed_query_is_invalid() -> None:
    request = replace(signed_request(VANILLA), query="a=%zz")
    assert verify(request, context(VANILLA)).reason == (
        "the query string has a malformed percent-escape"
    )


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/orders/v0/orders", "MarketplaceIds=ATVPDKIKX0DER&CreatedAfter=2024-01-01T00%3A00%3A00Z"),
        ("/listings/2021-08-01/items/A1/SKU%2F1", "marketplaceIds=ATVPDKIKX0DER"),
        ("/a%20b/%E1%88%B4", "z=1&a=2&a=1&k="),
        ("", ""),
    ],
)
def test_botocore_signed_requests_verify(
    monkeypatch: pytest.MonkeyPatch, path: str, query: str
) -> None:
    url = f"https://example.com{path}" + (f"?{query}" if query else "")
    headers = botocore_signed(monkeypatch, url)
    assert check_botocore(headers, path, query) == SignatureCheck("valid")


def test_botocore_date_header_form_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    body = b'{"a": 1}'
    headers = botocore_signed(
        monkeypatch,
        "https://example.com/x",
        method="POST",
        headers={"Date": "Wed, 01 May 2024 11:00:00 GMT", "Content-Type": "application/json"},
        body=body,
    )
    assert "X-Amz-Date" not in headers
    assert check_botocore(headers, "/x", "", method="POST", body=body) == SignatureCheck("valid")


def test_query_signed_in_a_non_canonical_form_is_invalid(monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore signs a URL's query as it stands; the verifier re-encodes it canonically, so a
    # request whose wire query is not canonical verifies only if the canonical form was signed.
    headers = botocore_signed(monkeypatch, "https://example.com/x?includedData=a,b")
    check = check_botocore(headers, "/x", "includedData=a,b")
    assert check == SignatureCheck("invalid", "the signature does not match the request")
    headers = botocore_signed(monkeypatch, "https://example.com/x?includedData=a%2Cb")
    assert check_botocore(headers, "/x", "includedData=a,b").outcome == "valid"


def test_payload_hash_is_the_body_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    body = os.urandom(1000)
    headers = botocore_signed(monkeypatch, "https://example.com/x", method="PUT", body=body)
    assert check_botocore(headers, "/x", "", method="PUT", body=body).outcome == "valid"
    assert check_botocore(headers, "/x", "", method="PUT", body=body[:-1]).outcome == "invalid"


def test_undecodable_path_is_invalid_not_an_error() -> None:
    request = replace(signed_request(VANILLA), path="/\udcff")
    assert verify(request, context(VANILLA)).reason == "the path is not valid UTF-8"
