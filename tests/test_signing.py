"""The SigV4 signer against AWS's test vectors and the emulator's verifier, and STS AssumeRole
credentials against the emulated STS. Everything goes over real sockets on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
from multidict import CIMultiDict
from pytest_aiohttp import AiohttpServer

from spproxy.emulator.sigv4 import verify_request
from spproxy.emulator.state import STATE_KEY, EmulatorConfig, EmulatorState
from spproxy.emulator.sts import assume_role
from spproxy.errors import SigningError
from spproxy.http1pool import Http1Client
from spproxy.signing import (
    AssumeRoleCredentials,
    AwsCredentials,
    CredentialsProvider,
    SigV4Signer,
    StaticCredentials,
)
from spproxy.urlcanon import canonical_query
from tests.vectors import SIGV4_SUITE, SIGV4_VECTORS

REPO = Path(__file__).resolve().parents[1]
SUITE, VECTORS = SIGV4_SUITE, SIGV4_VECTORS


def context(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((SUITE / name / "context.json").read_text())
    return result


def read_request(name: str, file: str) -> tuple[str, str, str, CIMultiDict[str], bytes]:
    """(method, path, query, headers, body) of a vector's request file (LF line ends)."""
    head, _, body = (SUITE / name / file).read_bytes().partition(b"\n\n")
    lines = [line for line in head.decode().split("\n") if line]
    method, _, rest = lines[0].partition(" ")
    path, _, query = rest.rsplit(" ", 1)[0].partition("?")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:  # no obs-fold: the one vector with it is skipped
        name_, _, value = line.partition(":")
        headers.add(name_, value.strip())
    return method, path, query, headers, body


def test_import_does_not_load_botocore() -> None:
    code = (
        "import sys, spproxy.signing, spproxy.urlcanon; "
        "assert 'botocore' not in sys.modules, 'botocore was imported'"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env)


def test_credentials_repr_masks_secrets() -> None:
    text = repr(AwsCredentials("AKIDEXAMPLE", "s3cr3t-key", "s3ss10n-token"))
    assert "AKIDEXAMPLE" in text
    assert "s3cr3t" not in text
    assert "s3ss10n" not in text
    assert "session_token=None" in repr(AwsCredentials("AKIDEXAMPLE", "s3cr3t-key"))


# AWS test vectors through the real middleware. A vector is skipped only for a reason below.
_UNNORMALIZED = (
    "signs the path without removing dot segments or duplicate slashes (S3 style); botocore "
    "normalises for every other service, and spproxy normalises paths before it signs"
)
_RAW_TARGET = (
    "the request target holds a character HTTP cannot carry unencoded; sent percent-encoded, "
    "non-S3 double encoding makes it a different canonical URI (%20 -> %2520)"
)
SIGNER_SKIPS = {
    "get-header-value-multiline": "obs-fold (a header value continued on the next line) "
    "cannot be sent: clients refuse newlines in header values (RFC 9112 5.2)",
    "get-relative-relative-unnormalized": _UNNORMALIZED,
    "get-relative-unnormalized": _UNNORMALIZED,
    "get-slash-dot-slash-unnormalized": _UNNORMALIZED,
    "get-slash-pointless-dot-unnormalized": _UNNORMALIZED,
    "get-slash-unnormalized": _UNNORMALIZED,
    "get-slashes-unnormalized": _UNNORMALIZED,
    "get-space-normalized": _RAW_TARGET,
    "get-space-unnormalized": _RAW_TARGET,
    "get-utf8": _RAW_TARGET,
    "post-sts-header-after": "adds the session token after signing (omit_session_token); "
    "botocore signs X-Amz-Security-Token, as temporary credentials require",
}


@pytest.mark.parametrize("name", VECTORS)
async def test_signer_matches_aws_vector(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if name in SIGNER_SKIPS:
        pytest.skip(SIGNER_SKIPS[name])
    ctx = context(name)
    method, path, raw_query, headers, body = read_request(name, "request.txt")
    expected = read_request(name, "header-signed-request.txt")[3]
    if ctx["sign_body"]:
        # The vector's signer adds the payload hash header; botocore's SigV4Auth signs it
        # when present but adds it only for S3, so the request carries it here.
        headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    when = datetime.fromisoformat(ctx["timestamp"]).replace(tzinfo=None)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: when)
    creds = ctx["credentials"]
    signer = SigV4Signer(
        StaticCredentials(
            AwsCredentials(creds["access_key_id"], creds["secret_access_key"], creds.get("token"))
        ),
        region=ctx["region"],
        service=ctx["service"],
    )
    query = canonical_query(raw_query)
    url = f"https://{headers['Host']}{path}" + (f"?{query}" if query else "")
    await signer.sign(method, url, headers, body)
    assert headers["Authorization"] == expected["Authorization"]
    assert headers["X-Amz-Date"] == expected["X-Amz-Date"]
    assert headers.get("X-Amz-Security-Token") == expected.get("X-Amz-Security-Token")


def test_every_skip_names_a_real_vector() -> None:
    assert set(SIGNER_SKIPS) <= set(VECTORS)
    assert len(VECTORS) - len(SIGNER_SKIPS) >= 27


# Signer -> real server running the emulator's verifier.
AKID, SECRET = "AKIDSPPROXYTEST", "spproxy/test+secret"
TEMP_AKID, TEMP_SECRET, TEMP_TOKEN = "ASIASPPROXYTEST", "temp-secret", "temp/token+=="
KEYS: dict[str, tuple[str, str | None]] = {
    AKID: (SECRET, None),
    TEMP_AKID: (TEMP_SECRET, TEMP_TOKEN),
}


def verifying_handler(
    credentials_for: Callable[[str], tuple[str, str | None] | None],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler answering what the emulator's verifier says about the request it got."""

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        check = verify_request(request, body, credentials_for, region="us-east-1")
        return web.json_response(
            {
                "outcome": check.outcome,
                "reason": check.reason,
                "raw_path": request.raw_path,
                "body_sha256": hashlib.sha256(body).hexdigest(),
            }
        )

    return handler


def verifying_app(
    credentials_for: Callable[[str], tuple[str, str | None] | None],
) -> web.Application:
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", verifying_handler(credentials_for))
    return app


async def send_signed(
    server: TestServer,
    signer: SigV4Signer,
    method: str,
    path: str,
    *,
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Signed and sent as upstream sends: `sign`, then the lean client that carries it."""
    canonical = canonical_query(query)
    endpoint, target = (
        f"http://127.0.0.1:{server.port}",
        path + (f"?{canonical}" if canonical else ""),
    )
    sp_api_headers = CIMultiDict(
        {
            "x-amz-access-token": "Atza|access-token",
            "user-agent": "spproxy-test/1.0 (Language=Python/3.11)",
            **(headers or {}),
        }
    )
    await signer.sign(method, endpoint + target, sp_api_headers, body)
    client = Http1Client(proxy=None, trust_env=False)
    try:
        async with await client.request(
            endpoint, method, target, sp_api_headers, body, timeout_s=10
        ) as response:
            assert response.status == 200
            result: dict[str, Any] = json.loads(await response.read())
    finally:
        await client.aclose()
    return result


def static_signer(akid: str = AKID, secret: str = SECRET, token: str | None = None) -> SigV4Signer:
    return SigV4Signer(StaticCredentials(AwsCredentials(akid, secret, token)), region="us-east-1")


async def test_get_with_a_query_that_needs_encoding(aiohttp_server: AiohttpServer) -> None:
    server = await aiohttp_server(verifying_app(KEYS.get))
    result = await send_signed(
        server,
        static_signer(),
        "GET",
        "/catalog/2022-04-01/items",
        query="includedData=summaries,images&keywords=red shoe&marketplaceIds=ATVPDKIKX0DER",
    )
    assert result["outcome"] == "valid", result["reason"]
    assert result["raw_path"] == (
        "/catalog/2022-04-01/items"
        "?includedData=summaries%2Cimages&keywords=red%20shoe&marketplaceIds=ATVPDKIKX0DER"
    )


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_json_body(aiohttp_server: AiohttpServer, method: str) -> None:
    server = await aiohttp_server(verifying_app(KEYS.get))
    body = json.dumps({"sku": "A-1", "note": "ü, ok"}).encode()
    result = await send_signed(
        server,
        static_signer(),
        method,
        "/listings/2021-08-01/items/A2SPPROXYDEMO1/A-1",
        query="marketplaceIds=ATVPDKIKX0DER",
        body=body,
        headers={"content-type": "application/json"},
    )
    assert result["outcome"] == "valid", result["reason"]
    assert result["body_sha256"] == hashlib.sha256(body).hexdigest()


async def test_large_random_body(aiohttp_server: AiohttpServer) -> None:
    server = await aiohttp_server(verifying_app(KEYS.get))
    body = os.urandom(3 * 1024 * 1024)
    result = await send_signed(
        server,
        static_signer(),
        "PUT",
        "/feeds/document",
        body=body,
        headers={"content-type": "application/octet-stream"},
    )
    assert result["outcome"] == "valid", result["reason"]
    assert result["body_sha256"] == hashlib.sha256(body).hexdigest()


async def test_encoded_slash_in_a_path_segment(aiohttp_server: AiohttpServer) -> None:
    server = await aiohttp_server(verifying_app(KEYS.get))
    path = "/listings/2021-08-01/items/A2SPPROXYDEMO1/SKU%2F1%20x"
    result = await send_signed(server, static_signer(), "GET", path, query="marketplaceIds=X")
    assert result["outcome"] == "valid", result["reason"]
    assert result["raw_path"] == path + "?marketplaceIds=X"


async def test_session_token(aiohttp_server: AiohttpServer) -> None:
    server = await aiohttp_server(verifying_app(KEYS.get))
    signer = static_signer(TEMP_AKID, TEMP_SECRET, TEMP_TOKEN)
    result = await send_signed(server, signer, "GET", "/orders/v0/orders", query="a=1")
    assert result["outcome"] == "valid", result["reason"]


async def test_stale_signature_headers_are_replaced(aiohttp_server: AiohttpServer) -> None:
    server = await aiohttp_server(verifying_app(KEYS.get))
    stale = {
        "Authorization": "AWS4-HMAC-SHA256 stale",
        "X-Amz-Date": "20000101T000000Z",
        "X-Amz-Security-Token": "stale",
    }
    result = await send_signed(server, static_signer(), "GET", "/x", headers=stale)
    assert result["outcome"] == "valid", result["reason"]


async def test_wrong_secret_is_invalid(aiohttp_server: AiohttpServer) -> None:
    server = await aiohttp_server(verifying_app(KEYS.get))
    result = await send_signed(server, static_signer(secret="not-the-secret"), "GET", "/x")
    assert result["outcome"] == "invalid"
    assert result["reason"] == "the signature does not match the request"


# STS AssumeRole against the emulated STS.
ROLE_ARN = "arn:aws:iam::123456789012:role/SellingPartnerAPI"


def sts_app(state: EmulatorState) -> web.Application:
    """The emulated STS, plus a catch-all that verifies signatures with the emulator's keys."""
    app = web.Application()
    app[STATE_KEY] = state
    app.router.add_post("/", assume_role)
    app.router.add_route("*", "/{tail:.+}", verifying_handler(state.credentials_for))
    return app


async def sts_server(aiohttp_server: AiohttpServer) -> tuple[TestServer, EmulatorState]:
    state = EmulatorState(EmulatorConfig(aws_keys={AKID: SECRET}))
    return await aiohttp_server(sts_app(state)), state


def assume_role_provider(
    session: aiohttp.ClientSession,
    server: TestServer,
    *,
    base: CredentialsProvider | None = None,
    **options: Any,
) -> AssumeRoleCredentials:
    return AssumeRoleCredentials(
        session,
        base or StaticCredentials(AwsCredentials(AKID, SECRET)),
        role_arn=ROLE_ARN,
        sts_endpoint=str(server.make_url("/")),
        **options,
    )


async def test_assumed_role_credentials_sign_calls_that_verify(
    aiohttp_server: AiohttpServer,
) -> None:
    server, state = await sts_server(aiohttp_server)
    async with aiohttp.ClientSession() as session:
        provider = assume_role_provider(session, server)
        creds = await provider.get()
        assert creds.access_key_id.startswith("ASIA")
        assert creds.session_token
        assert state.credentials_for(creds.access_key_id) == (
            creds.secret_access_key,
            creds.session_token,
        )
        signer = SigV4Signer(provider, region="us-east-1")
        result = await send_signed(server, signer, "GET", "/orders/v0/orders", query="a=b,c")
        assert result["outcome"] == "valid", result["reason"]
        assert await provider.get() is creds  # cached
    assert state.sts_calls == 1


async def test_one_sts_call_however_many_wait(aiohttp_server: AiohttpServer) -> None:
    server, state = await sts_server(aiohttp_server)
    async with aiohttp.ClientSession() as session:
        provider = assume_role_provider(session, server)
        results = await asyncio.gather(*(provider.get() for _ in range(50)))
    assert state.sts_calls == 1
    assert all(creds is results[0] for creds in results)


async def test_refresh_within_the_margin(aiohttp_server: AiohttpServer) -> None:
    server, state = await sts_server(aiohttp_server)
    async with aiohttp.ClientSession() as session:
        # A margin longer than the lifetime: every credential is already due for refresh.
        provider = assume_role_provider(session, server, duration_s=900, refresh_margin_s=1000)
        first = await provider.get()
        second = await provider.get()
        assert state.sts_calls == 2
        assert first.access_key_id != second.access_key_id
        await asyncio.gather(*(provider.get() for _ in range(20)))
        assert state.sts_calls == 3


async def test_sts_refusal_names_the_code_not_the_secret(aiohttp_server: AiohttpServer) -> None:
    server, state = await sts_server(aiohttp_server)
    wrong = "wrong-secret-value-123"
    async with aiohttp.ClientSession() as session:
        base = StaticCredentials(AwsCredentials(AKID, wrong))
        provider = assume_role_provider(session, server, base=base)
        with pytest.raises(SigningError) as excinfo:
            await provider.get()
    error = excinfo.value
    assert error.status == 502
    assert "SignatureDoesNotMatch" in error.message
    assert "role_arn" in error.message
    for text in (error.message, error.details, repr(error)):
        assert wrong not in text
        assert SECRET not in text
    assert state.sts_calls == 0


async def test_sts_validation_error(aiohttp_server: AiohttpServer) -> None:
    server, _ = await sts_server(aiohttp_server)
    async with aiohttp.ClientSession() as session:
        provider = AssumeRoleCredentials(
            session,
            StaticCredentials(AwsCredentials(AKID, SECRET)),
            role_arn="arn:aws:iam::1234:user/nobody",
            sts_endpoint=str(server.make_url("/")),
        )
        with pytest.raises(SigningError, match="refused with ValidationError"):
            await provider.get()


async def test_sts_unreachable() -> None:
    async with aiohttp.ClientSession() as session:
        provider = AssumeRoleCredentials(
            session,
            StaticCredentials(AwsCredentials(AKID, SECRET)),
            role_arn=ROLE_ARN,
            sts_endpoint=f"http://127.0.0.1:{unused_port()}/",
        )
        with pytest.raises(SigningError, match="could not reach") as excinfo:
            await provider.get()
    assert SECRET not in str(excinfo.value)


async def test_a_failure_is_not_cached(aiohttp_server: AiohttpServer) -> None:
    server, state = await sts_server(aiohttp_server)

    class RotatedKeys:
        """Base keys that are wrong the first time and right afterwards."""

        def __init__(self) -> None:
            self.calls = 0

        async def get(self) -> AwsCredentials:
            self.calls += 1
            return AwsCredentials(AKID, SECRET if self.calls > 1 else "old-secret")

    async with aiohttp.ClientSession() as session:
        provider = assume_role_provider(session, server, base=RotatedKeys())
        with pytest.raises(SigningError):
            await provider.get()
        assert (await provider.get()).session_token
    assert state.sts_calls == 1


async def test_a_cancelled_waiter_does_not_cancel_the_refresh(
    aiohttp_server: AiohttpServer,
) -> None:
    server, state = await sts_server(aiohttp_server)
    async with aiohttp.ClientSession() as session:
        provider = assume_role_provider(session, server)
        impatient = asyncio.ensure_future(provider.get())
        patient = asyncio.ensure_future(provider.get())
        await asyncio.sleep(0)  # both are waiting on the one STS call
        impatient.cancel()
        creds = await patient
        assert creds.session_token
    assert state.sts_calls == 1
