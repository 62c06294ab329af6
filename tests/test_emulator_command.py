"""`spproxy emulator`: the emulated Amazon alone, as a user testing their own client runs it."""

from __future__ import annotations

import asyncio
import re
import signal
import socket

import aiohttp
import pytest

from spproxy.cli import main
from spproxy.emulator import (
    DEMO_APPLICATION_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DEMO_SELLER_ID,
)
from tests.harness import finish, free_port, start_spproxy, until_serving

STATS = "/_emulator/stats"


async def _emulator(*args: str) -> asyncio.subprocess.Process:
    return await start_spproxy("emulator", *args)


async def _stop(process: asyncio.subprocess.Process, signum: int) -> tuple[int, str, str]:
    process.send_signal(signum)
    return await finish(process)


async def _seller_token(session: aiohttp.ClientSession, base: str) -> str:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": DEMO_REFRESH_TOKEN,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    async with session.post(f"{base}/auth/o2/token", data=form) as response:
        assert response.status == 200
        token: str = (await response.json())["access_token"]
        return token


async def test_the_emulator_alone_answers_a_client_and_stops_on_ctrl_c() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = await _emulator("--port", str(port))
    try:
        await until_serving(base, process, STATS)
        async with aiohttp.ClientSession() as session:
            headers = {"x-amz-access-token": await _seller_token(session, base)}
            orders = f"{base}/orders/v0/orders"
            query = {"MarketplaceIds": "ATVPDKIKX0DER", "CreatedAfter": "TEST_CASE_200"}
            async with session.get(orders, params=query, headers=headers) as response:
                assert response.status == 200
                assert response.headers["x-amzn-RateLimit-Limit"] == "0.0167"
                payload = (await response.json())["payload"]
                assert payload["Orders"][0]["AmazonOrderId"] == "902-1845936-5435065"
            address = f"{base}/orders/v0/orders/TEST_CASE_200/address"
            async with session.get(address, headers=headers) as response:
                assert response.status == 403  # restricted: an RDT, not the LWA token
    finally:
        code, out, err = await _stop(process, signal.SIGINT)
    assert code == 0, err
    assert DEMO_CLIENT_ID in out and DEMO_REFRESH_TOKEN in out and DEMO_CLIENT_SECRET in out
    assert (
        f'curl -i -H "x-amz-access-token: $TOKEN" {base}/sellers/v1/marketplaceParticipations'
        in out
    )
    assert '"GET /orders/v0/orders?' in err  # an access line per request
    assert "Traceback" not in err


async def test_keys_turn_on_sigv4_verification_and_sigterm_stops_it() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = await _emulator("--port", str(port), "--keys", "AKIDEXAMPLE:secret/key:with-colon")
    try:
        await until_serving(base, process, STATS)
        async with aiohttp.ClientSession() as session:
            headers = {"x-amz-access-token": await _seller_token(session, base)}
            url = f"{base}/sellers/v1/marketplaceParticipations"
            async with session.get(url, headers=headers) as response:
                assert response.status == 403
                assert (await response.json())["errors"][0]["code"] == "InvalidSignature"
    finally:
        code, out, err = await _stop(process, signal.SIGTERM)
    assert code == 0, err
    assert "verified, keys AKIDEXAMPLE" in out and "secret/key" not in out


async def test_sandbox_makes_it_amazons_static_sandbox() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = await _emulator("--port", str(port), "--sandbox")
    try:
        await until_serving(base, process, STATS)
        async with aiohttp.ClientSession() as session:
            headers = {"x-amz-access-token": await _seller_token(session, base)}
            address = f"{base}/orders/v0/orders/TEST_CASE_200/address"
            async with session.get(address, headers=headers) as response:
                assert response.status == 200  # the sandbox matches requests, not token kinds
                assert response.headers["x-amzn-RateLimit-Limit"] == "5"
                payload = (await response.json())["payload"]
                assert payload["AmazonOrderId"] == "902-1845936-5435065"
            own = f"{base}/orders/v0/orders/902-1845936-5435065"  # the emulated seller's
            async with session.get(own, headers=headers) as response:
                assert response.status == 400
                error = (await response.json())["errors"][0]
                assert error["message"] == "Could not match input arguments"
    finally:
        code, out, err = await _stop(process, signal.SIGTERM)
    assert code == 0, err
    assert "usage plans      the sandbox's, 5 requests/s burst 15" in out
    assert "examples         only: Amazon's static sandbox" in out


async def test_a_seller_authorises_the_app_to_a_loopback_redirect_uri() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    callback = "http://127.0.0.1:9/callback"
    process = await _emulator("--port", str(port), "--redirect-uri", callback)
    try:
        await until_serving(base, process, STATS)
        async with aiohttp.ClientSession() as session:
            query = {"application_id": DEMO_APPLICATION_ID, "state": "s1", "version": "beta"}
            async with session.get(f"{base}/apps/authorize/consent", params=query) as page:
                found = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
            assert found is not None
            form = {"csrf_token": found.group(1), "decision": "confirm"}
            async with session.post(
                f"{base}/apps/authorize/consent", data=form, allow_redirects=False
            ) as answer:
                location = answer.headers["Location"]
    finally:
        code, out, err = await _stop(process, signal.SIGTERM)
    assert code == 0, err
    assert location.startswith(f"{callback}?state=s1&selling_partner_id={DEMO_SELLER_ID}&")
    authorize = f"{base}/apps/authorize/consent?application_id={DEMO_APPLICATION_ID}&state="
    assert authorize in out and f"redirect URIs    {callback}" in out


def test_redirect_uris_are_https_or_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["emulator", "--redirect-uri", "http://app.example.com/callback"])
    assert exit_.value.code == 2
    assert "Amazon takes only https://" in capsys.readouterr().err


def test_sandbox_and_no_examples_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["emulator", "--sandbox", "--no-examples"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["AKIDONLY", ":secret", "AKID:"])
def test_keys_must_be_id_and_secret(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["emulator", "--keys", value])
    assert exit_.value.code == 2
    assert "expected AKID:SECRET" in capsys.readouterr().err


def test_a_port_in_use_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["emulator", "--port", str(port)]) == 1
    assert f"spproxy: cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
