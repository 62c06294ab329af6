"""Seller onboarding in a real headless Chromium (Debian's chromium and chromium-driver, driven by
selenium): the README's demo walk-through, and a seller that survives a restart of spproxy."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from spproxy.emulator import (
    DEMO_APPLICATION_ID,
    DEMO_SELLER_ID,
    Application,
    EmulatorConfig,
    make_emulator_app,
)
from tests.harness import free_port, serve, serve_yaml, start_spproxy, until_serving

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
# As the machine's notes say: without these, Chromium reaches for Google's hosts, and fails.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture
def chromium() -> Iterator[WebDriver]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("no chromium and chromedriver on PATH (Debian: chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    profile = tempfile.mkdtemp(prefix="spproxy-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


async def onboard_in(browser: WebDriver, proxy: str, name: str) -> str:
    """Ask for a link as the application would, open it, press Confirm: the page spproxy shows."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{proxy}/_spproxy/onboarding", json={"marketplace_id": "ATVPDKIKX0DER", "name": name}
        ) as answer,
    ):
        url = (await answer.json())["url"]
    # selenium is synchronous: its calls run beside the event loop that serves the emulator.
    await asyncio.to_thread(browser.get, url)  # get() returns once the page has loaded
    assert "spproxy demo" in await asyncio.to_thread(lambda: browser.page_source)  # the app
    confirm = await asyncio.to_thread(browser.find_element, By.ID, "confirm")
    await asyncio.to_thread(confirm.click)
    # The click starts a navigation (Amazon -> spproxy's callback): wait for its page, bounded.
    done = WebDriverWait(browser, 30).until
    message = await asyncio.to_thread(
        done, expected_conditions.presence_of_element_located((By.ID, "message"))
    )
    return str(await asyncio.to_thread(lambda: message.text))


async def call_as(proxy: str, account: str) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{proxy}{PARTICIPATIONS}", headers={"x-spproxy-account": account}) as answer,
    ):
        return answer.status


async def test_a_newcomer_onboards_the_demo_seller_in_a_browser(chromium: WebDriver) -> None:
    port = free_port()
    demo = await start_spproxy("demo", "--onboarding", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        await until_serving(base, demo)
        page = await onboard_in(chromium, base, "acme")
        assert page == f"Seller {DEMO_SELLER_ID} was added as account 'acme'."
        assert await call_as(base, "acme") == 200
    finally:
        demo.terminate()
        await demo.wait()


@pytest.fixture
async def emulator_for() -> AsyncIterator[tuple[TestServer, int]]:
    """The emulated Amazon whose app sends sellers back to a proxy on the port it names."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/_spproxy/onboarding"
    application = Application(redirect_uris=(f"{base}/callback",), login_uri=f"{base}/login")
    server = TestServer(make_emulator_app(EmulatorConfig(application=application)))
    await server.start_server()
    yield server, port
    await server.close()


async def test_an_onboarded_seller_still_works_after_a_restart(
    chromium: WebDriver, emulator_for: tuple[TestServer, int], tmp_path: Path
) -> None:
    emulator, port = emulator_for
    url = str(emulator.make_url("")).rstrip("/")
    key = base64.b64encode(os.urandom(32)).decode()
    store = f"""
account_store:
  url: sqlite:///{tmp_path}/accounts.db
  key: {key}
onboarding:
  application_id: {DEMO_APPLICATION_ID}
  redirect_uri: http://127.0.0.1:{port}/_spproxy/onboarding/callback
  draft: true
  consent_url: {url}
"""
    config = lambda port: serve_yaml(url, port, extra=store)  # noqa: E731
    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    async with serve(first, config, port=port) as proxy:
        page = await onboard_in(chromium, proxy.base, "acme")
        assert page == f"Seller {DEMO_SELLER_ID} was added as account 'acme'."
        assert await call_as(proxy.base, "acme") == 200
    async with serve(again, config, port=port) as restarted:
        assert await call_as(restarted.base, "acme") == 200  # from the store, not the config
    stored = (tmp_path / "accounts.db").read_bytes()
    assert b"Atzr|" not in stored
    for log in (proxy.log, restarted.log):
        assert "Atzr|" not in log and "spapi_oauth_code" not in log
