"""`spproxy demo`: the proxy wired to the built-in Amazon emulator, all on loopback; and the
emulator alone, which `spproxy emulator` runs."""

from __future__ import annotations

import logging
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


async def start_emulator(
    port: int = 0,
    config: EmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    access_log: logging.Logger | None = None,
) -> RunningEmulator:
    """The emulator on `host:port` (0: any free port). By default Amazon's usage plans apply, as
    they would (spproxy's pacing keeps the demo inside them), and the published sandbox
    examples answer: every call of Amazon's sandbox works in the demo."""
    app = make_emulator_app(config or EmulatorConfig(rate_limits=True))
    runner = web.AppRunner(app, access_log=access_log, access_log_format='"%r" %s %b')
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return RunningEmulator(runner, f"http://{shown}:{bound_port}")


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
