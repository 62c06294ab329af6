"""`spproxy authorize` as a developer runs it (`python -m spproxy`): the link it prints opened in
a browser (aiohttp with a cookie jar), the emulated Seller Central's consent page, and the seller
stored, or nothing stored and one line saying why."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from yarl import URL

from spproxy.emulator import (
    DEMO_APPLICATION_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SELLER_ID,
    STATE_KEY,
    Application,
    EmulatorConfig,
    EmulatorState,
    make_emulator_app,
)
from tests.harness import finish, free_port, start_spproxy
from tests.stores import KEY
from tests.test_onboarding import US, Browser, browser_session

# The deployment's callback: `spproxy authorize` replaces it with its loopback one.
DEPLOYED_CALLBACK = "https://spproxy.example.com/_spproxy/onboarding/callback"


@dataclass
class World:
    config: Path
    port: int  # spproxy authorize's
    amazon: EmulatorState

    @property
    def callback(self) -> str:
        return f"http://127.0.0.1:{self.port}/_spproxy/onboarding/callback"


def config_yaml(emulator: str, store: Path, onboarding: bool = True) -> str:
    """LWA and the account store, and no account in the file: the store alone holds sellers."""
    lwa = (
        f"lwa: {{client_id: {DEMO_CLIENT_ID}, client_secret: {DEMO_CLIENT_SECRET}, "
        f"endpoint: '{emulator}/auth/o2/token'}}\n"
    )
    account_store = f"account_store: {{url: 'sqlite:///{store}', key: '{KEY}'}}\n"
    if not onboarding:
        return lwa + account_store
    return (
        lwa
        + account_store
        + (
            f"onboarding: {{application_id: {DEMO_APPLICATION_ID}, redirect_uri: "
            f"'{DEPLOYED_CALLBACK}', draft: true, consent_url: '{emulator}'}}\n"
        )
    )


@pytest.fixture
async def world(tmp_path: Path, aiohttp_server: Callable[..., Awaitable[TestServer]]) -> World:
    """The emulated Amazon, whose app lists the loopback redirect URI, and a config naming it."""
    port = free_port()
    callback = f"http://127.0.0.1:{port}/_spproxy/onboarding/callback"
    application = Application(redirect_uris=(DEPLOYED_CALLBACK, callback))
    server = await aiohttp_server(make_emulator_app(EmulatorConfig(application=application)))
    config = tmp_path / "spproxy.yaml"
    config.write_text(config_yaml(str(server.make_url("")).rstrip("/"), tmp_path / "accounts.db"))
    return World(config, port, server.app[STATE_KEY])


async def authorize(world: World, *args: str) -> tuple[asyncio.subprocess.Process, str]:
    """`spproxy authorize` started, and the link its first line says to open."""
    process = await start_spproxy(
        "authorize", "--config", str(world.config), "--port", str(world.port), *args
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
    assert line, await finish(process)
    assert line.startswith("open in a browser: "), line
    assert f"back to {world.callback}" in line and "waiting up to 10 minutes" in line
    return process, line.split()[4]


async def stored(config: Path) -> str:
    code, out, err = await finish(await start_spproxy("accounts", "--config", str(config), "list"))
    assert (code, err) == (0, "")
    return out


async def test_the_seller_is_stored_and_listed(world: World) -> None:
    process, link = await authorize(world, "--marketplace", US, "--name", "acme")
    async with browser_session() as session:
        browser = Browser(session)
        started = await browser.go(link)
        assert started.status == 302, await started.text()
        consent = URL(started.headers["Location"])
        assert consent.query["redirect_uri"] == world.callback  # not the deployed one
        assert consent.query["version"] == "beta"  # onboarding.draft
        back = await browser.consent(str(consent))
        done = await browser.go(back.headers["Location"])
        assert done.status == 200 and "Seller added" in await done.text()  # the page arrives
    code, out, err = await finish(process)
    assert (code, out, err) == (0, f"Seller {DEMO_SELLER_ID} was added as account 'acme'.\n", "")
    listed = await stored(world.config)
    rows = listed.splitlines()
    assert rows[0].endswith("; 1 account") and rows[2].split()[:3] == ["acme", DEMO_SELLER_ID, "na"]
    secrets = (
        URL(back.headers["Location"]).query["spapi_oauth_code"],
        *world.amazon.granted_refresh_tokens,
    )
    assert all(secret not in out + err + listed for secret in secrets)


async def callback_with(browser: Browser, link: str, **query: str) -> None:
    """The browser goes through Amazon's consent page, and comes back with `query` changed."""
    started = await browser.go(link)
    back = URL((await browser.consent(started.headers["Location"])).headers["Location"])
    await browser.go(str(back.update_query(query)))


@pytest.mark.parametrize(
    ("query", "stranger", "said"),
    [
        (
            {"error": "access_denied"},
            False,
            "Authorization declined: Nothing was stored.",
        ),
        ({"spapi_oauth_code": "not-a-code"}, False, "Amazon refused the authorization: "),
        ({}, True, "Authorization not completed: This authorization is unknown"),
    ],
    ids=["declined", "refused-by-lwa", "another-browser"],
)
async def test_a_declined_or_failed_authorization_stores_nothing(
    world: World, query: dict[str, str], stranger: bool, said: str
) -> None:
    process, link = await authorize(world, "--marketplace", US)
    async with browser_session() as session, browser_session() as other:
        if stranger:  # the callback, with its state, reaches a browser without the cookie
            started = await Browser(session).go(link)
            back = await Browser(session).consent(started.headers["Location"])
            await Browser(other).go(back.headers["Location"])
        else:
            await callback_with(Browser(session), link, **query)
    code, out, err = await finish(process)
    assert (code, out) == (1, "")
    assert err.startswith(f"spproxy: authorize: {said}") and err.count("\n") == 1, err
    assert "; 0 accounts" in await stored(world.config)


async def test_ctrl_c_cancels(world: World) -> None:
    process, _ = await authorize(world, "--marketplace", US)
    process.send_signal(signal.SIGINT)
    assert await finish(process) == (130, "", "spproxy: authorize: cancelled; nothing was stored\n")


async def test_config_and_command_line_problems_are_one_line(world: World, tmp_path: Path) -> None:
    no_onboarding = tmp_path / "no-onboarding.yaml"
    no_onboarding.write_text(config_yaml("http://127.0.0.1:1", tmp_path / "other.db", False))
    code, out, err = await finish(
        await start_spproxy("authorize", "--config", str(no_onboarding), "--marketplace", US)
    )
    assert (code, out) == (2, "")
    assert err == (
        "spproxy: config: onboarding: not configured (spproxy authorize needs application_id)\n"
    )
    code, out, err = await finish(
        await start_spproxy(
            "authorize",
            "--config",
            str(world.config),
            "--port",
            str(world.port),
            "--marketplace",
            "NOWHERE",
        )
    )
    assert (code, out) == (2, "")
    assert err == "spproxy: authorize: Unknown marketplace 'NOWHERE'. See the README's table.\n"


async def test_help_lists_the_options() -> None:
    code, out, err = await finish(await start_spproxy("authorize", "--help"))
    assert (code, err) == (0, "")
    for option in ("--marketplace ID", "--name NAME", "--vendor", "--port PORT", "--config PATH"):
        assert option in out
    assert "http://127.0.0.1:PORT/_spproxy/onboarding/callback" in out
    assert "130  cancelled" in out
