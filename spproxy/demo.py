"""`spproxy demo`: the proxy wired to the built-in Amazon emulator, all on loopback."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from aiohttp import web

from spproxy.config import REGIONS, Account, Config, Listen, LwaConfig, Secret
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    EmulatorConfig,
    make_emulator_app,
)


@dataclass(frozen=True)
class RunningEmulator:
    runner: web.AppRunner
    url: str  # http://127.0.0.1:PORT


async def start_emulator(port: int = 0) -> RunningEmulator:
    # Amazon's usage plans apply, as they would: spproxy's pacing keeps the demo inside them.
    runner = web.AppRunner(make_emulator_app(EmulatorConfig(rate_limits=True)), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    host, bound_port = runner.addresses[0][:2]
    return RunningEmulator(runner, f"http://{host}:{bound_port}")


def demo_config(emulator_url: str, *, port: int) -> Config:
    """An in-memory config: the emulator's demo app and seller, one account named 'demo'."""
    account = Account(
        name="demo",
        refresh_token=Secret(DEMO_REFRESH_TOKEN),
        region="na",
        endpoint=emulator_url,
        aws_region=REGIONS["na"].aws_region,
    )
    return Config(
        lwa=LwaConfig(DEMO_CLIENT_ID, Secret(DEMO_CLIENT_SECRET), f"{emulator_url}/auth/o2/token"),
        accounts=MappingProxyType({account.name: account}),
        listen=Listen("127.0.0.1", port),
        source="built-in demo",
    )
