"""The command line as a user runs it: real processes, real ports."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from spproxy import __version__
from spproxy.cli import main
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    make_emulator_app,
)
from tests.harness import MARKETPLACE, free_port, until_serving

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
CLEAN_ENV = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path.cwd())}


async def _spproxy(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "spproxy",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**CLEAN_ENV, **(env or {})},
    )


async def _finish(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_version() -> None:
    code, out, _ = await _finish(await _spproxy("--version"))
    assert (code, out) == (0, f"spproxy {__version__}\n")


async def test_demo_serves_the_emulator_and_stops_cleanly_on_ctrl_c() -> None:
    port = free_port()
    demo = await _spproxy("demo", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        await until_serving(base, demo)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/sellers/v1/marketplaceParticipations") as response:
                assert response.status == 200
                assert (await response.json())["payload"][0]["marketplace"]["id"] == MARKETPLACE
            orders = f"{base}/orders/v0/orders?MarketplaceIds={MARKETPLACE}&CreatedAfter=2024-01-01"
            async with session.get(orders) as response:
                assert response.status == 200
                assert (await response.json())["payload"]["Orders"]
    finally:
        demo.send_signal(signal.SIGINT)
    code, out, err = await _finish(demo)
    assert code == 0, err
    assert f"curl -i {base}/sellers/v1/marketplaceParticipations" in out
    assert f"curl -i {base}/orders/v0/orders/902-1845936-5435065/address" in out
    assert "getOrders account=demo token=rdt status=200" in err
    assert "Traceback" not in err


async def test_serve_from_environment_variables_alone(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    emulator = await aiohttp_server(make_emulator_app())
    url = str(emulator.make_url("")).rstrip("/")
    port = free_port()
    env = {
        "SPAPI_CLIENT_ID": DEMO_CLIENT_ID,
        "SPAPI_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "SPAPI_REFRESH_TOKEN": DEMO_REFRESH_TOKEN,
        "SPAPI_REGION": "na",
        "SPAPI_ENDPOINT": url,
        "SPAPI_LWA_ENDPOINT": f"{url}/auth/o2/token",
    }
    serve = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "spproxy",
        "serve",
        "--port",
        str(port),
        cwd=tmp_path,  # no ./spproxy.yaml there
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**CLEAN_ENV, **env},
    )
    try:
        await until_serving(f"http://127.0.0.1:{port}", serve)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/sellers/v1/marketplaceParticipations") as answer,
        ):
            assert answer.status == 200
    finally:
        serve.send_signal(signal.SIGTERM)
    code, _, err = await _finish(serve)
    assert code == 0
    assert (
        f"listening on http://127.0.0.1:{port}; config environment; accounts: default (na, {url})"
        in err
    )
    assert DEMO_CLIENT_SECRET not in err and DEMO_REFRESH_TOKEN not in err


async def test_a_port_in_use_is_one_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = await _finish(await _spproxy("demo", "--port", str(port)))
    assert code == 1
    assert err.splitlines() == [
        f"spproxy: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


async def test_non_loopback_listen_warns(aiohttp_server: ServerFactory, tmp_path: Path) -> None:
    config = tmp_path / "spproxy.yaml"
    config.write_text(
        "lwa: {client_id: a, client_secret: b, endpoint: 'http://127.0.0.1:9/auth/o2/token'}\n"
        "accounts: {main: {refresh_token: r, region: na, endpoint: 'http://127.0.0.1:9'}}\n"
    )
    port = free_port()
    serve = await _spproxy(
        "serve",
        "--config",
        str(config),
        "--host",
        "0.0.0.0",  # noqa: S104 - the point of the test
        "--port",
        str(port),
    )
    try:  # serving, though not ready: LWA at port 9 is unreachable
        await until_serving(f"http://127.0.0.1:{port}", serve, "/_spproxy/health")
    finally:
        serve.send_signal(signal.SIGTERM)
    code, _, err = await _finish(serve)
    assert code == 0
    assert "WARNING spproxy listening on 0.0.0.0 WITHOUT client keys: every process" in err


async def test_check_prints_a_masked_table_and_fails_on_a_refused_account(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    emulator = await aiohttp_server(make_emulator_app())
    url = str(emulator.make_url("")).rstrip("/")
    config = tmp_path / "spproxy.yaml"
    config.write_text(
        f"lwa: {{client_id: {DEMO_CLIENT_ID}, client_secret: {DEMO_CLIENT_SECRET}, "
        f"endpoint: '{url}/auth/o2/token'}}\n"
        "accounts:\n"
        f"  main: {{refresh_token: '{DEMO_REFRESH_TOKEN}', region: na, endpoint: '{url}'}}\n"
        f"  old: {{refresh_token: 'Atzr|revoked-long-token-1234', region: eu, endpoint: '{url}'}}\n"
    )
    code, out, err = await _finish(await _spproxy("check", "--config", str(config)))
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].startswith(f"config: {config}; LWA client ...")
    assert lines[1].split() == ["account", "region", "endpoint", "refresh", "token", "outcome"]
    assert lines[2].split()[:4] == ["main", "na", url, f"...{DEMO_REFRESH_TOKEN[-4:]}"]
    assert "ok (token valid 3" in lines[2]
    assert lines[3].split()[:4] == ["old", "eu", url, "...1234"]
    assert "FAILED: LWA refused the token request for account 'old': invalid_grant." in lines[3]
    for secret in (DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, "Atzr|revoked"):
        assert secret not in out + err


async def _statuses(tasks: list[asyncio.Task[int]]) -> list[int]:
    return [await task for task in tasks]


async def _get_status(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        await response.read()
        return response.status


async def test_sighup_and_sigterm_with_requests_in_flight(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    emulator = await aiohttp_server(make_emulator_app())
    amazon = emulator.app[STATE_KEY]
    url = str(emulator.make_url("")).rstrip("/")
    secret = tmp_path / "lwa_client_secret"
    secret.write_text(DEMO_CLIENT_SECRET + "\n")
    config = tmp_path / "spproxy.yaml"
    config.write_text(
        f"lwa: {{client_id: {DEMO_CLIENT_ID}, client_secret_file: lwa_client_secret, "
        f"endpoint: '{url}/auth/o2/token'}}\n"
        f"accounts: {{main: {{refresh_token: '{DEMO_REFRESH_TOKEN}', region: na, "
        f"endpoint: '{url}'}}}}\n"
        "upstream: {pacing: false}\n"
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    participations = f"{base}/sellers/v1/marketplaceParticipations"
    serve = await _spproxy("serve", "--config", str(config), "--port", str(port))
    stopping = False
    try:
        await until_serving(base, serve)
        async with aiohttp.ClientSession() as session:
            hold = amazon.faults.hold(times=None, path="/sellers/")
            slow = [asyncio.create_task(_get_status(session, participations)) for _ in range(10)]
            await hold.arrived(10)

            # Amazon rotates the client secret; the operator updates the file and sends SIGHUP.
            amazon.faults.rotate_client_secret("rotated-client-secret")
            secret.write_text("rotated-client-secret\n")
            serve.send_signal(signal.SIGHUP)
            for _ in range(200):  # bounded: until the reload is applied
                async with session.get(f"{base}/_spproxy/status") as response:
                    if (await response.json())["reloads"] == 1:
                        break
                await asyncio.sleep(0.05)
            # The next exchange (a grantless token, not cached yet) uses the new secret.
            destinations = await _get_status(session, f"{base}/notifications/v1/destinations")
            assert destinations == 200
            assert amazon.lwa_client_secrets_used[-1] == "rotated-client-secret"
            hold.release()
            assert await _statuses(slow) == [200] * 10  # none dropped by the reload

            hold = amazon.faults.hold(times=None, path="/sellers/")
            slow = [asyncio.create_task(_get_status(session, participations)) for _ in range(5)]
            await hold.arrived(5)
            serve.send_signal(signal.SIGTERM)
            stopping = True
            for _ in range(200):  # bounded: until the listening socket is closed
                try:
                    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    await asyncio.sleep(0.05)
                except OSError:
                    break
            else:
                raise AssertionError("spproxy kept accepting connections after SIGTERM")
            hold.release()
            assert await _statuses(slow) == [200] * 5  # in flight at SIGTERM: finished
    finally:
        if not stopping:
            serve.send_signal(signal.SIGTERM)
    code, _, err = await _finish(serve)
    assert code == 0, err
    assert "reloaded the config" in err and "rotated-client-secret" not in err


@pytest.mark.parametrize(
    ("args", "env", "problem"),
    [
        (("--port", "70000"), {}, "--port: must be a port number between 0 and 65535, got '70000'"),
        (
            (),
            {"SPPROXY_PORT": "eighty"},
            "SPPROXY_PORT: must be a port number between 0 and 65535, got 'eighty'",
        ),
        (
            ("--log-level", "loud"),
            {},
            "--log-level: must be one of debug, info, warning, error, got 'loud'",
        ),
        (
            (),
            {"SPPROXY_LOG_FORMAT": "xml"},
            "SPPROXY_LOG_FORMAT: must be one of text, json, got 'xml'",
        ),
    ],
)
async def test_flags_and_their_variables_are_checked_in_one_line(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], problem: str
) -> None:
    config = tmp_path / "spproxy.yaml"
    config.write_text(
        "lwa: {client_id: a, client_secret: b}\naccounts: {m: {refresh_token: r, region: na}}\n"
    )
    code, out, err = await _finish(await _spproxy("serve", "--config", str(config), *args, env=env))
    assert (code, out, err) == (2, "", f"spproxy: config: {problem}\n")


async def test_flags_win_over_variables_which_win_over_the_file(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    emulator = await aiohttp_server(make_emulator_app())
    url = str(emulator.make_url("")).rstrip("/")
    in_file, in_env, in_flag = free_port(), free_port(), free_port()
    lwa = f"{url}/auth/o2/token"
    config = tmp_path / "spproxy.yaml"
    config.write_text(
        f"""
listen: {{host: 127.0.0.2, port: {in_file}}}
lwa: {{client_id: {DEMO_CLIENT_ID}, client_secret: "{DEMO_CLIENT_SECRET}", endpoint: "{lwa}"}}
accounts: {{main: {{refresh_token: "{DEMO_REFRESH_TOKEN}", region: na, endpoint: "{url}"}}}}
"""
    )
    env = {
        "SPPROXY_HOST": "127.0.0.1",
        "SPPROXY_PORT": str(in_env),
        "SPPROXY_LOG_FORMAT": "json",
        "SPPROXY_LOG_LEVEL": "error",
    }
    for args, port in (((), in_env), (("--port", str(in_flag), "--log-level", "info"), in_flag)):
        serve = await _spproxy("serve", "--config", str(config), *args, env=env)
        try:
            await until_serving(f"http://127.0.0.1:{port}", serve)
        finally:
            serve.send_signal(signal.SIGTERM)
        code, _, err = await _finish(serve)
        assert code == 0
        lines = [json.loads(line) for line in err.splitlines()]  # JSON, from SPPROXY_LOG_FORMAT
        if args:  # --log-level info beat SPPROXY_LOG_LEVEL=error
            assert f"listening on http://127.0.0.1:{port};" in lines[0]["message"]
        else:
            assert lines == []


async def test_port_0_takes_a_free_port_and_says_which(tmp_path: Path) -> None:
    demo = await _spproxy("demo", "--port", "0")
    try:
        assert demo.stdout is not None
        first = (await asyncio.wait_for(demo.stdout.readline(), timeout=30)).decode()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)", first).group(1))  # type: ignore[union-attr]
        assert port != 0
        await until_serving(f"http://127.0.0.1:{port}", demo)
    finally:
        demo.send_signal(signal.SIGINT)
    code, _, _ = await _finish(demo)
    assert code == 0


@pytest.mark.parametrize("command", ["serve", "demo", "check", "emulator"])
async def test_every_command_says_what_it_does_its_variables_exit_codes_and_an_example(
    command: str,
) -> None:
    code, out, _ = await _finish(await _spproxy(command, "--help"))
    assert code == 0
    assert "exit status:" in out and ("example:" in out or "examples:" in out)
    if command in ("serve", "demo"):
        assert "SPPROXY_PORT" in out and "SPPROXY_LOG_LEVEL" in out
    if command == "serve":
        assert "SPPROXY_HOST" in out and "SPPROXY_LOG_FORMAT" in out and "_FILE" in out


def _shipped_example() -> str:
    return (Path(__file__).resolve().parents[1] / "config.example.yaml").read_text()


async def test_a_newcomer_serves_and_checks_the_shipped_example(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    """config.example.yaml copied as it ships, the variables it names exported; only LWA's and
    the account's endpoints point at the emulator (there is no Amazon here)."""
    emulator = await aiohttp_server(make_emulator_app())
    url = str(emulator.make_url("")).rstrip("/")
    local = (
        _shipped_example()
        .replace(
            "  # endpoint: https://api.amazon.com/auth/o2/token", f"  endpoint: {url}/auth/o2/token"
        )
        .replace("    # endpoint: https://sellingpartnerapi-na.amazon.com", f"    endpoint: {url}")
    )
    assert local.count(url) == 2
    config = tmp_path / "spproxy.yaml"
    config.write_text(local)
    env = {
        "SPAPI_CLIENT_ID": DEMO_CLIENT_ID,
        "SPAPI_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "SPAPI_REFRESH_TOKEN": DEMO_REFRESH_TOKEN,
        "SPPROXY_PORT": str(free_port()),
    }
    serve = await _spproxy("serve", "--config", str(config), env=env)
    try:
        await until_serving(f"http://127.0.0.1:{env['SPPROXY_PORT']}", serve)
    finally:
        serve.send_signal(signal.SIGTERM)
    assert (await _finish(serve))[0] == 0
    code, out, _ = await _finish(await _spproxy("check", "--config", str(config), env=env))
    assert code == 0 and "ok (token valid" in out


# --- spproxy emulator: the emulated Amazon alone, as a user testing their own client runs it ---

STATS = "/_emulator/stats"


async def _emulator(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "spproxy",
        "emulator",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=CLEAN_ENV,
    )


async def _stop(process: asyncio.subprocess.Process, signum: int) -> tuple[int, str, str]:
    process.send_signal(signum)
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


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
