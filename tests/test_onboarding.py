"""Seller onboarding against the emulated Amazon: the website and Appstore workflows end with the
seller's account stored and serving; every bad input gets a clear page and stores nothing."""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from spproxy.accountstore import StoreError
from spproxy.app import make_app
from spproxy.config import AccountStoreConfig, AuditLogConfig, Client, OnboardingConfig, Secret
from spproxy.emulator import (
    DEMO_APPLICATION_ID,
    DEMO_SELLER_ID,
    STATE_KEY,
    Application,
    EmulatorConfig,
    EmulatorState,
    make_emulator_app,
)
from spproxy.proxy import PROXY
from tests.harness import free_port, proxy_config

ADMIN_KEY = "admin-key-0123456789abcdef"
ADMIN = Client("admin", Secret(ADMIN_KEY), onboarding=True)
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
US = "ATVPDKIKX0DER"


@dataclass
class Onboarding:
    app: web.Application
    proxy: str
    emulator: str
    amazon: EmulatorState
    store: Path
    audit: Path


@asynccontextmanager
async def onboarding(
    tmp_path: Path,
    *,
    appstore: bool = False,
    clients: bool = True,
    clock: Callable[[], float] = time.monotonic,  # the emulator's: its codes expire on it
) -> AsyncIterator[Onboarding]:
    port = free_port()
    callback = f"http://127.0.0.1:{port}/_spproxy/onboarding/callback"
    login = f"http://127.0.0.1:{port}/_spproxy/onboarding/login"
    application = Application(redirect_uris=(callback,), login_uri=login)
    emulator = TestServer(make_emulator_app(EmulatorConfig(application=application, clock=clock)))
    await emulator.start_server()
    url = str(emulator.make_url("")).rstrip("/")
    key = Secret(base64.b64encode(os.urandom(32)).decode())
    store = tmp_path / "accounts.db"
    config = replace(
        proxy_config(
            url,
            clients={"admin": Client("admin", Secret(ADMIN_KEY), onboarding=True)}
            if clients
            else {},
        ),
        account_store=AccountStoreConfig(f"sqlite:///{store}", key),
        onboarding=OnboardingConfig(
            DEMO_APPLICATION_ID, callback, draft=True, appstore=appstore, consent_url=url
        ),
        audit_log=AuditLogConfig(str(tmp_path / "audit.jsonl")),
    )
    proxy = TestServer(make_app(config), port=port)
    await proxy.start_server()
    try:
        yield Onboarding(
            proxy.app,
            f"http://127.0.0.1:{port}",
            url,
            emulator.app[STATE_KEY],
            store,
            tmp_path / "audit.jsonl",
        )
    finally:
        await proxy.close()
        await emulator.close()


def browser_session() -> aiohttp.ClientSession:
    """Cookies kept for 127.0.0.1 too, as a browser keeps them (aiohttp's jar refuses IPs)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


class Browser:
    """A browser: a cookie jar, redirects followed by hand so each step can be looked at."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def go(
        self, url: str, *, method: str = "GET", data: object = None
    ) -> aiohttp.ClientResponse:
        async with self.session.request(method, url, data=data, allow_redirects=False) as r:
            await r.read()
            return r

    async def consent(self, url: str, decision: str = "confirm") -> aiohttp.ClientResponse:
        """Amazon's consent page: read it, press a button; where Amazon sends the browser."""
        async with self.session.get(url) as page:
            html = await page.text()
        (token,) = re.findall(r'name="csrf_token" value="([^"]+)"', html)
        action = str(URL(url).with_path("/apps/authorize/consent").with_query(None))
        return await self.go(
            action, method="POST", data={"csrf_token": token, "decision": decision}
        )


async def ticket(
    base: str, body: dict[str, object], key: str | None = ADMIN_KEY
) -> aiohttp.ClientResponse:
    headers = {"x-spproxy-key": key} if key else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/_spproxy/onboarding", json=body, headers=headers) as answer,
    ):
        await answer.read()
        return answer


async def start_url(base: str, **body: object) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{base}/_spproxy/onboarding",
            json={"marketplace_id": US, **body},
            headers={"x-spproxy-key": ADMIN_KEY},
        ) as answer,
    ):
        assert answer.status == 200, await answer.text()
        return str((await answer.json())["url"])


async def test_the_website_workflow_stores_the_seller_and_serves_it_at_once(tmp_path: Path) -> None:
    async with onboarding(tmp_path) as world, browser_session() as session:
        browser = Browser(session)
        started = await browser.go(await start_url(world.proxy, name="acme"))
        assert started.status == 302, await started.text()
        assert "spproxy_onboarding" in started.cookies
        consent = URL(started.headers["Location"])
        assert consent.query["application_id"] == DEMO_APPLICATION_ID
        assert consent.query["version"] == "beta" and len(consent.query["state"]) >= 43
        back = await browser.consent(str(consent))
        assert back.status == 302
        done = await browser.go(back.headers["Location"])
        assert done.status == 200
        page = await done.text()
        assert f"Seller {DEMO_SELLER_ID} was added as account &#x27;acme&#x27;" in page
        headers = {"x-spproxy-key": ADMIN_KEY, "x-spproxy-account": "acme"}
        async with session.get(f"{world.proxy}{PARTICIPATIONS}", headers=headers) as call:
            assert call.status == 200
        code = URL(back.headers["Location"]).query["spapi_oauth_code"]
        assert code not in page
    stored = world.store.read_bytes()
    assert b"acme" in stored and b"Atzr|" not in stored  # the token sealed, never in clear
    audit = world.audit.read_text()
    assert '"outcome": "added"' in audit and '"client": "admin"' in audit and "Atzr|" not in audit


async def test_a_callback_replayed_forged_or_from_another_browser_stores_nothing(
    tmp_path: Path,
) -> None:
    async with onboarding(tmp_path) as world, browser_session() as session:
        browser = Browser(session)
        started = await browser.go(await start_url(world.proxy, name="acme"))
        back = await browser.consent(started.headers["Location"])
        callback = back.headers["Location"]
        async with browser_session() as stranger:  # another browser: another cookie jar
            assert (await Browser(stranger).go(callback)).status == 400
        # Its state was spent by the stranger's try: the real browser is refused too, and the
        # code was never redeemed.
        refused = await browser.go(callback)
        assert refused.status == 400 and "Start again" in await refused.text()
        forged = str(URL(callback).update_query(state="forged-state"))
        assert (await browser.go(forged)).status == 400
        missing = str(URL(callback).without_query_params("state"))
        assert (await browser.go(missing)).status == 400
    assert world.amazon.granted_refresh_tokens == {}


async def test_a_code_used_twice_or_a_declined_authorization_stores_nothing(tmp_path: Path) -> None:
    async with onboarding(tmp_path) as world, browser_session() as session:
        browser = Browser(session)
        first = await browser.go(await start_url(world.proxy, name="one"))
        back = await browser.consent(first.headers["Location"])
        code = URL(back.headers["Location"]).query["spapi_oauth_code"]
        assert (await browser.go(back.headers["Location"])).status == 200
        # A second authorization whose callback carries the code already redeemed.
        second = await browser.go(await start_url(world.proxy, name="two"))
        state = URL(second.headers["Location"]).query["state"]
        reused = str(URL(back.headers["Location"]).update_query(state=state, spapi_oauth_code=code))
        refused = await browser.go(reused)
        assert refused.status == 502 and "invalid_grant" in await refused.text()
        third = await browser.go(await start_url(world.proxy, name="three"))
        state = URL(third.headers["Location"]).query["state"]
        declined = str(URL(back.headers["Location"]).with_query(state=state, error="access_denied"))
        assert (await browser.go(declined)).status == 403
    assert len(world.amazon.granted_refresh_tokens) == 1  # "one" alone


async def test_the_same_seller_under_another_name_is_refused(tmp_path: Path) -> None:
    async with onboarding(tmp_path) as world, browser_session() as session:
        browser = Browser(session)
        for name, status in (("acme", 200), ("acme-again", 409)):
            started = await browser.go(await start_url(world.proxy, name=name))
            back = await browser.consent(started.headers["Location"])
            done = await browser.go(back.headers["Location"])
            assert done.status == status, await done.text()


async def test_the_appstore_workflow_goes_back_to_amazon_only(tmp_path: Path) -> None:
    async with onboarding(tmp_path, appstore=True) as world, browser_session() as session:
        browser = Browser(session)
        authorize = f"{world.emulator}/apps/authorize/appstore?application_id={DEMO_APPLICATION_ID}"
        to_login = await browser.consent(authorize + "&version=beta")
        assert (
            to_login.status == 302 and "/_spproxy/onboarding/login" in to_login.headers["Location"]
        )
        to_amazon = await browser.go(to_login.headers["Location"])
        assert to_amazon.status == 302 and to_amazon.headers["Location"].startswith(world.emulator)
        back = await browser.go(to_amazon.headers["Location"])
        done = await browser.go(back.headers["Location"])
        assert done.status == 200 and f"seller-{DEMO_SELLER_ID}" in await done.text()
        evil = f"{world.proxy}/_spproxy/onboarding/login?" + str(
            URL.build(
                query={
                    "amazon_callback_uri": "https://evil.example/x",
                    "amazon_state": "s",
                    "selling_partner_id": DEMO_SELLER_ID,
                }
            ).query_string
        )
        assert (await browser.go(evil)).status == 400  # never an open redirect


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_code_redeemed_after_its_five_minutes_stores_nothing(tmp_path: Path) -> None:
    clock = FakeClock()
    async with onboarding(tmp_path, clock=clock) as world, browser_session() as session:
        browser = Browser(session)
        started = await browser.go(await start_url(world.proxy, name="late"))
        back = await browser.consent(started.headers["Location"])
        clock.now += 301  # Amazon's code lives five minutes
        late = await browser.go(back.headers["Location"])
        assert late.status == 502 and "invalid_grant" in await late.text()
    assert world.amazon.granted_refresh_tokens == {}


async def test_a_store_that_cannot_be_reached_is_a_clear_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with onboarding(tmp_path) as world, browser_session() as session:
        stored = world.app[PROXY].stored
        assert stored is not None

        async def unreachable(*args: object, **kwargs: object) -> None:
            raise StoreError("the account store did not answer within 5 s")

        monkeypatch.setattr(stored, "add", unreachable)
        browser = Browser(session)
        started = await browser.go(await start_url(world.proxy, name="acme"))
        back = await browser.consent(started.headers["Location"])
        page = await browser.go(back.headers["Location"])
        assert page.status == 503 and "start again" in await page.text()
    assert '"outcome": "store unavailable"' in world.audit.read_text()
