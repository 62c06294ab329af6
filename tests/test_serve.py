"""`spproxy serve` as a user runs it: real processes, real ports; start-up lines, a port in use,
SIGHUP and SIGTERM with requests in flight."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
from pathlib import Path

import aiohttp

from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    make_emulator_app,
)
from tests.harness import ServerFactory, finish, free_port, start_spproxy, until_serving


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
    # no ./spproxy.yaml in tmp_path
    serve = await start_spproxy("serve", "--port", str(port), env=env, cwd=tmp_path)
    try:
        await until_serving(f"http://127.0.0.1:{port}", serve)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/sellers/v1/marketplaceParticipations") as answer,
        ):
            assert answer.status == 200
    finally:
        serve.send_signal(signal.SIGTERM)
    code, _, err = await finish(serve)
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
        code, _, err = await finish(await start_spproxy("demo", "--port", str(port)))
    assert code == 1
    assert err.splitlines() == [
        f"spproxy: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


async def test_non_loopback_listen_warns(tmp_path: Path) -> None:
    config = tmp_path / "spproxy.yaml"
    config.write_text(
        "lwa: {client_id: a, client_secret: b, endpoint: 'http://127.0.0.1:9/auth/o2/token'}\n"
        "accounts: {main: {refresh_token: r, region: na, endpoint: 'http://127.0.0.1:9'}}\n"
    )
    port = free_port()
    serve = await start_spproxy(
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
    code, _, err = await finish(serve)
    assert code == 0
    assert "WARNING spproxy listening on 0.0.0.0 WITHOUT client keys: every process" in err


async def _statuses(tasks: list[asyncio.Task[int]]) -> list[int]:
    return [await task for task in tasks]


async def _get_status(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        await response.read()
        return response.status


async def _until_reloaded(session: aiohttp.ClientSession, base: str) -> None:
    for _ in range(200):  # bounded: until the reload is applied
        async with session.get(f"{base}/_spproxy/status") as response:
            if (await response.json())["reloads"] == 1:
                return
        await asyncio.sleep(0.05)


async def _until_refused(port: int) -> None:
    for _ in range(200):  # bounded: until the listening socket is closed
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await asyncio.sleep(0.05)
        except OSError:
            return
    raise AssertionError("spproxy kept accepting connections after SIGTERM")


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
    serve = await start_spproxy("serve", "--config", str(config), "--port", str(port))
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
            await _until_reloaded(session, base)
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
            await _until_refused(port)
            hold.release()
            assert await _statuses(slow) == [200] * 5  # in flight at SIGTERM: finished
    finally:
        if not stopping:
            serve.send_signal(signal.SIGTERM)
    code, _, err = await finish(serve)
    assert code == 0, err
    assert "reloaded the config" in err and "rotated-client-secret" not in err


async def test_port_0_takes_a_free_port_and_says_which(tmp_path: Path) -> None:
    demo = await start_spproxy("demo", "--port", "0")
    try:
        assert demo.stdout is not None
        first = (await asyncio.wait_for(demo.stdout.readline(), timeout=30)).decode()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)", first).group(1))  # type: ignore[union-attr]
        assert port != 0
        await until_serving(f"http://127.0.0.1:{port}", demo)
    finally:
        demo.send_signal(signal.SIGINT)
    code, _, _ = await finish(demo)
    assert code == 0
