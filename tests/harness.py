"""Real servers on loopback: the emulator (fake LWA + STS + SP-API) and the proxy in front of it."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from spproxy.app import make_app
from spproxy.config import (
    Account,
    AuditLogConfig,
    AwsConfig,
    Client,
    Config,
    LwaConfig,
    Secret,
    UpstreamConfig,
)
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    make_emulator_app,
)
from spproxy.regions import REGIONS

AWS_KEY_ID = "AKIDSPPROXYTEST00001"
AWS_SECRET = "spproxy-test-aws-secret-access-key-0001"
MARKETPLACE = "ATVPDKIKX0DER"
# pytest-aiohttp's aiohttp_server fixture
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
# spproxy processes start without the caller's SPPROXY_* and SPAPI_* variables
CLEAN_ENV = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path.cwd())}


@dataclass
class Harness:
    emulator: TestServer
    proxy: TestClient[web.Request, web.Application]
    config: Config

    @property
    def amazon(self) -> EmulatorState:
        """What the emulated Amazon received and issued."""
        return self.emulator.app[STATE_KEY]


def proxy_config(
    emulator_url: str,
    *,
    accounts: dict[str, str] | None = None,
    signing: bool = False,
    role_arn: str | None = None,
    upstream: UpstreamConfig | None = None,
    client_secret: str = DEMO_CLIENT_SECRET,
    lwa_endpoint: str | None = None,
    endpoint: str | None = None,
    restricted_fallback: str = "error",
    data_elements: tuple[str, ...] = ("buyerInfo", "shippingAddress"),
    clients: Mapping[str, Client] | None = None,
    audit_log: AuditLogConfig | None = None,
    sandbox: bool = False,
    selling_partner_ids: Mapping[str, str] | None = None,
    regions: Mapping[str, str] | None = None,
) -> Config:
    """A proxy config pointing every endpoint at the emulator; accounts: name -> refresh token.
    `sandbox`: the accounts are sandbox accounts (`sandbox: true`), still on the emulator;
    `selling_partner_ids`: account name -> its `selling_partner_id`; `regions`: account name ->
    its region (default na)."""
    accounts = accounts or {"main": DEMO_REFRESH_TOKEN}
    selling_partner_ids = selling_partner_ids or {}
    regions = regions or {}
    aws = None
    if signing:
        aws = AwsConfig(
            Secret(AWS_KEY_ID),
            Secret(AWS_SECRET),
            role_arn=role_arn,
            sts_endpoint=emulator_url,
        )
    return Config(
        lwa=LwaConfig(
            DEMO_CLIENT_ID, Secret(client_secret), lwa_endpoint or f"{emulator_url}/auth/o2/token"
        ),
        accounts=MappingProxyType(
            {
                name: Account(
                    name,
                    Secret(token),
                    regions.get(name, "na"),
                    endpoint or emulator_url,
                    REGIONS[regions.get(name, "na")].aws_region,
                    sandbox=sandbox,
                    data_elements=data_elements,
                    restricted_fallback=restricted_fallback,
                    selling_partner_id=selling_partner_ids.get(name),
                )
                for name, token in accounts.items()
            }
        ),
        aws=aws,
        # Pacing holds calls to Amazon's real usage plans; tests that are not about it go freely.
        upstream=upstream or UpstreamConfig(pacing=False),
        clients=MappingProxyType(dict(clients or {})),
        audit_log=audit_log,
    )


StartHarness = Callable[..., Awaitable[Harness]]


@pytest.fixture
def start(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    aiohttp_client: Callable[..., Awaitable[TestClient[web.Request, web.Application]]],
) -> StartHarness:
    """start(emulator=EmulatorConfig(...), **proxy_config options) -> Harness."""

    async def _start(emulator: EmulatorConfig | None = None, **options: Any) -> Harness:
        if options.get("signing") and emulator is None:
            emulator = EmulatorConfig(aws_keys={AWS_KEY_ID: AWS_SECRET})
        server = await aiohttp_server(make_emulator_app(emulator or EmulatorConfig()))
        config = proxy_config(str(server.make_url("")).rstrip("/"), **options)
        client = await aiohttp_client(make_app(config))
        return Harness(server, client, config)

    return _start


@pytest.fixture
async def harness(start: StartHarness) -> Harness:
    return await start()


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_metrics(text: str) -> Samples:
    """The metrics text, read by prometheus_client's parser: (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(proxy: TestClient[web.Request, web.Application]) -> Samples:
    """/_spproxy/metrics, parsed."""
    response = await proxy.get("/_spproxy/metrics")
    assert response.status == 200
    return parse_metrics(await response.text())


async def start_spproxy(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> asyncio.subprocess.Process:
    """`python -m spproxy ARGS` in a clean environment plus `env`; stdout and stderr piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "spproxy",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**CLEAN_ENV, **(env or {})},
    )


async def finish(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    """Its exit status, stdout and stderr, once it has exited (bounded: 60 s)."""
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until_serving(
    base: str, process: asyncio.subprocess.Process, path: str = "/_spproxy/ready"
) -> None:
    """Poll a freshly started spproxy process until `path` answers 200 (bounded: ~20 s)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            assert process.returncode is None, "spproxy exited early"
            try:
                async with session.get(f"{base}{path}") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"spproxy did not answer 200 on {path}")


@dataclass
class Served:
    """A real `spproxy serve` process; `log` holds its stderr once it has stopped."""

    base: str
    port: int
    config: Path
    process: asyncio.subprocess.Process
    log: str = ""


def serve_yaml(
    emulator_url: str,
    port: int,
    *,
    listen: str = "",
    accounts: str = "",
    upstream: str = "",
    extra: str = "",
    pacing: bool = False,
) -> str:
    """A config file: account `main` (the emulator's seller), pacing off unless asked; more lines
    for `listen:`, `accounts:` and `upstream:` (indented), and `extra` sections."""
    return f"""
listen:
  port: {port}
{listen}
lwa:
  client_id: {DEMO_CLIENT_ID}
  client_secret: {DEMO_CLIENT_SECRET}
  endpoint: "{emulator_url}/auth/o2/token"
accounts:
  main: {{refresh_token: "{DEMO_REFRESH_TOKEN}", region: na, endpoint: "{emulator_url}"}}
{accounts}
upstream:
  pacing: {str(pacing).lower()}
{upstream}
{extra}
"""


@asynccontextmanager
async def serve(
    tmp_path: Path,
    config_text: Callable[[int], str],
    *args: str,
    ready: str | None = "/_spproxy/health",  # None: the test waits itself (TLS, say)
    env: Mapping[str, str] | None = None,
    port: int | None = None,  # one chosen beforehand (a redirect URI names it); else a free one
) -> AsyncIterator[Served]:
    """`spproxy serve --config FILE ARGS` on a free port, stopped with SIGTERM (exit 0
    asserted); `log` gets what it wrote to stdout and stderr."""
    port = port or free_port()
    config = tmp_path / "spproxy.yaml"
    config.write_text(config_text(port))
    log_path = tmp_path / "spproxy.log"
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would block spproxy
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "spproxy",
            "serve",
            "--config",
            str(config),
            *args,
            stdout=log,
            stderr=log,
            env={**CLEAN_ENV, **(env or {})},
        )
    served = Served(f"http://127.0.0.1:{port}", port, config, process)
    try:
        if ready is not None:
            await until_serving(served.base, process, ready)
        yield served
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
        served.log = log_path.read_text(errors="replace")
    assert process.returncode == 0, served.log


async def raw_request(port: int, data: bytes) -> bytes:
    """Send bytes as they are on a fresh connection; everything the server sent until it closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), timeout=20)
    finally:
        writer.close()
