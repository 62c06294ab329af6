"""With `aws:` configured, every call reaches Amazon SigV4-signed, and a strict verifier agrees."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys

import pytest

from spproxy.emulator import EmulatorConfig
from tests.harness import AWS_KEY_ID, AWS_SECRET, MARKETPLACE, StartHarness

SIGNING_EMULATOR = EmulatorConfig(aws_keys={AWS_KEY_ID: AWS_SECRET})


@pytest.mark.parametrize("role_arn", [None, "arn:aws:iam::123456789012:role/SellingPartnerAPI"])
async def test_signed_calls_verify_and_come_back_byte_for_byte(
    start: StartHarness, role_arn: str | None
) -> None:
    harness = await start(SIGNING_EMULATOR, signing=True, role_arn=role_arn)
    amazon = harness.amazon
    query = (
        f"/catalog/2022-04-01/items?marketplaceIds={MARKETPLACE}"
        "&keywords=red shoe&includedData=summaries,images&pageToken=a:b"
    )
    response = await harness.proxy.get(query)
    assert response.status == 200, await response.text()
    assert amazon.requests[-1].query_string.endswith(
        "includedData=summaries%2Cimages&pageToken=a%3Ab"
    )

    response = await harness.proxy.post(
        "/feeds/2021-06-30/documents", json={"contentType": "text/tab-separated-values"}
    )
    assert response.status == 201

    blob = os.urandom(5 * 1024 * 1024)
    response = await harness.proxy.put(
        "/_emulator/echo/upload",
        data=io.BytesIO(blob),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status == 200 and await response.read() == blob

    response = await harness.proxy.get("/notifications/v1/destinations")
    assert response.status == 200

    response = await harness.proxy.get("/orders/v0/orders/902-1845936-5435065/address")
    assert response.status == 200  # the mint and the call, both signed

    assert [r.signature for r in amazon.requests] == ["valid"] * 6
    assert [r.token_kind for r in amazon.requests] == [
        "lwa",
        "lwa",
        "lwa",
        "grantless",
        "lwa",
        "rdt",
    ]
    assert amazon.requests[4].raw_path == "/tokens/2021-03-01/restrictedDataToken"
    for received in amazon.requests:
        authorization = received.headers["authorization"]
        assert "/us-east-1/execute-api/aws4_request" in authorization
        assert "x-amz-access-token" in authorization  # the token is signed too
        assert received.headers["user-agent"].startswith("spproxy/")
    if role_arn:
        assert amazon.sts_calls == 1
        assert all(r.headers["x-amz-security-token"] for r in amazon.requests)
        assert all(AWS_KEY_ID not in r.headers["authorization"] for r in amazon.requests)
    else:
        assert amazon.sts_calls == 0
        assert all(AWS_KEY_ID in r.headers["authorization"] for r in amazon.requests)
    assert amazon.lwa_exchanges["refresh_token"] == 1


async def test_many_concurrent_signed_calls_assume_the_role_once(start: StartHarness) -> None:
    harness = await start(
        SIGNING_EMULATOR, signing=True, role_arn="arn:aws:iam::123456789012:role/R"
    )
    responses = await asyncio.gather(
        *(harness.proxy.get("/sellers/v1/marketplaceParticipations") for _ in range(30))
    )
    assert {r.status for r in responses} == {200}
    assert harness.amazon.sts_calls == 1
    assert harness.amazon.lwa_exchanges["refresh_token"] == 1


async def test_a_refused_role_is_a_502_naming_sts(start: StartHarness) -> None:
    harness = await start(
        EmulatorConfig(aws_keys={"AKIDOTHER": "other"}),
        signing=True,
        role_arn="arn:aws:iam::123456789012:role/R",
    )
    response = await harness.proxy.get("/sellers/v1/marketplaceParticipations")
    assert response.status == 502
    error = (await response.json())["errors"][0]
    assert error["code"] == "SigningFailed"
    assert AWS_SECRET not in await response.text()
    assert harness.amazon.requests == []


async def test_wrong_keys_are_refused_by_amazon_and_relayed(start: StartHarness) -> None:
    harness = await start(EmulatorConfig(aws_keys={AWS_KEY_ID: "not-the-secret"}), signing=True)
    response = await harness.proxy.get("/sellers/v1/marketplaceParticipations")
    assert response.status == 403
    assert (await response.json())["errors"][0]["code"] == "InvalidSignature"
    assert harness.amazon.requests[-1].signature == "invalid"


def test_botocore_is_not_imported_unless_signing_is_on() -> None:
    program = """
import asyncio, sys
from spproxy.app import make_app
import spproxy.cli
from tests.harness import proxy_config
from aiohttp.test_utils import TestServer

async def run(signing):
    server = TestServer(make_app(proxy_config("http://127.0.0.1:9", signing=signing)))
    # a full start-up and shutdown, the way a user runs it
    await server.start_server()
    await server.close()

asyncio.run(run(False))
assert "botocore" not in sys.modules, "unsigned path imported botocore"
"""
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
