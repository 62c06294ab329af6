"""`spproxy demo`: the proxy wired to the built-in Amazon emulator, all on loopback, and the
curl lines to try; and the emulator started alone, which `spproxy emulator` runs."""

from __future__ import annotations

import base64
import logging
import os
import socket
import tempfile
from dataclasses import dataclass, replace
from types import MappingProxyType

from aiohttp import web

from spproxy.config import (
    Account,
    AccountStoreConfig,
    Config,
    Listen,
    LwaConfig,
    OnboardingConfig,
    Secret,
)
from spproxy.emulator import (
    DEMO_APPLICATION_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    Application,
    EmulatorConfig,
    make_emulator_app,
)
from spproxy.eventloop import running
from spproxy.onboardingroutes import loopback_uri
from spproxy.regions import REGIONS
from spproxy.serve import base_url, serve_proxy


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


async def run_demo(port: int, *, onboarding: bool = False) -> int:
    """The emulator on a free port, the proxy in front of it on `port`, until SIGINT/SIGTERM.
    `onboarding`: sellers may be onboarded through the emulator's consent pages, into an
    account store in a temporary folder (deleted at the end, with its random key)."""
    if not onboarding:
        emulator = await start_emulator()
        try:
            return await serve_proxy(demo_config(emulator.url, port=port), announce=announce_demo)
        finally:
            await emulator.runner.cleanup()
    port = port or free_port()  # the redirect URI the emulator's app registers names it
    application = Application(
        redirect_uris=(loopback_uri(port, "callback"),), login_uri=loopback_uri(port, "login")
    )
    emulator = await start_emulator(
        config=EmulatorConfig(rate_limits=True, application=application)
    )
    try:
        with tempfile.TemporaryDirectory(prefix="spproxy-demo-") as folder:
            config = with_onboarding(demo_config(emulator.url, port=port), emulator.url, folder)
            return await serve_proxy(config, announce=announce_onboarding_demo)
    finally:
        await emulator.runner.cleanup()


def with_onboarding(config: Config, emulator_url: str, folder: str) -> Config:
    """`config` with an account store in `folder` and onboarding through the emulator."""
    key = Secret(base64.b64encode(os.urandom(32)).decode())
    callback = loopback_uri(config.listen.port, "callback")
    return replace(
        config,
        account_store=AccountStoreConfig(f"sqlite:///{folder}/accounts.db", key),
        onboarding=OnboardingConfig(
            DEMO_APPLICATION_ID, callback, draft=True, appstore=True, consent_url=emulator_url
        ),
    )


def announce_demo(config: Config) -> None:
    base = base_url(config)
    marketplace = "ATVPDKIKX0DER"
    catalog_query = (
        f"marketplaceIds={marketplace}&keywords=samsung%20tv&includedData=summaries,images"
    )
    print(
        f"""spproxy demo: the proxy on {base}, in front of the built-in Amazon emulator
(fake LWA and SP-API on loopback: no account, no network; event loop {running()}). Try:

  curl -i {base}/sellers/v1/marketplaceParticipations
  curl -i '{base}/orders/v0/orders?MarketplaceIds={marketplace}&CreatedAfter=2024-01-01T00:00:00Z'
  curl -i {base}/orders/v0/orders/902-1845936-5435065/address
  curl -i -H 'x-spproxy-data-elements: none' {base}/orders/v0/orders/902-1845936-5435065
  curl -i '{base}/catalog/2022-04-01/items?{catalog_query}'
  curl -i {base}/notifications/v1/destinations
  curl -i {base}/_spproxy/ready

The x-spproxy-operation and x-spproxy-credential headers show what spproxy did. Ctrl-C stops.
""",
        flush=True,
    )


def announce_onboarding_demo(config: Config) -> None:
    announce_demo(config)
    base = base_url(config)
    body = '{"marketplace_id": "ATVPDKIKX0DER", "name": "acme"}'
    print(
        f"""Onboard a seller: ask for a link, open its "url" in a browser, press Confirm on the
emulator's consent page, then call as that seller (stored until Ctrl-C, in a temporary store):

  curl -s -X POST {base}/_spproxy/onboarding -d '{body}'
  curl -i -H 'x-spproxy-account: acme' {base}/sellers/v1/marketplaceParticipations
""",
        flush=True,
    )
