"""The config file's accounts and the account store's, merged and followed: proxies in front of
the emulator, on a real SQLite file and a real PostgreSQL. Polls are called, not waited for,
unless the test is about the background poll itself."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from spproxy.accountstore import AccountStore, StoreRefused
from spproxy.app import make_app
from spproxy.config import AccountStoreConfig, Config, ConfigError, Secret
from spproxy.emulator import DEMO_REFRESH_TOKEN, EmulatorConfig, make_emulator_app
from spproxy.proxy import PROXY, Proxy
from spproxy.storedaccounts import StoredAccounts
from tests.harness import proxy_config
from tests.postgres_server import Postgres
from tests.stores import OTHER_KEY, postgres_store, raw_engine, sqlite_store

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
ACME_TOKEN = "Atzr|acme-refresh-token-0001"
ACME = {"x-spproxy-account": "acme"}
Client = TestClient[web.Request, web.Application]
NEVER = 3600.0  # poll_s: no background poll gets in the way; the tests poll themselves


@pytest.fixture
async def emulator_url(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> str:
    sellers = {DEMO_REFRESH_TOKEN: "A2SPPROXYDEMO1", ACME_TOKEN: "A1ACME"}
    server = await aiohttp_server(make_emulator_app(EmulatorConfig(refresh_tokens=sellers)))
    return str(server.make_url("")).rstrip("/")


def with_store(emulator_url: str, store: AccountStoreConfig, **options: Any) -> Config:
    """The emulator's seller as `main` in the file, and the store."""
    return replace(proxy_config(emulator_url, **options), account_store=store)


async def add_acme(store: AccountStoreConfig, emulator_url: str) -> None:
    """Another process (onboarding on another replica) stores seller acme."""
    other = await AccountStore.open(store)
    try:
        await other.add("acme", "A1ACME", "na", Secret(ACME_TOKEN), emulator_url)
    finally:
        await other.aclose()


async def test_replicas_on_one_postgres_store_serve_an_added_account_and_refuse_a_removed_one(
    postgres: Postgres, emulator_url: str, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    store = postgres_store(postgres, poll_s=NEVER)
    config = with_store(emulator_url, store)
    replicas = [await aiohttp_client(make_app(config)) for _ in range(2)]
    one, two = (replica.app[PROXY] for replica in replicas)
    assert one.stored is not None and two.stored is not None
    added = await one.stored.add("acme", "A1ACME", "na", Secret(ACME_TOKEN), emulator_url)
    assert added.selling_partner_id == "A1ACME"
    assert (await replicas[0].get(PARTICIPATIONS, headers=ACME)).status == 200  # at once, here
    refused = await replicas[1].get(PARTICIPATIONS, headers=ACME)
    assert refused.status == 400  # not polled yet
    assert await two.stored.refresh()  # the poll
    assert (await replicas[1].get(PARTICIPATIONS, headers=ACME)).status == 200
    by_id = {"x-spproxy-account": "A1ACME"}  # a stored seller is named by its id too
    assert (await replicas[1].get(PARTICIPATIONS, headers=by_id)).status == 200
    acme = one.config.accounts["acme"]
    assert one.tokens.expiry(acme) is not None and two.tokens.expiry(acme) is not None

    other = await AccountStore.open(store)  # `spproxy accounts remove acme`, elsewhere
    await other.remove("acme")
    await other.aclose()
    for replica, proxy in zip(replicas, (one, two), strict=True):
        assert proxy.stored is not None and await proxy.stored.refresh()
        answer = await replica.get(PARTICIPATIONS, headers=ACME)
        assert answer.status == 400
        assert (await answer.json())["errors"][0]["message"] == (
            "Unknown account 'acme' in x-spproxy-account."
        )
        assert proxy.tokens.expiry(acme) is None  # its tokens dropped at once
        assert (await replica.get(PARTICIPATIONS)).status == 200  # main serves on


async def test_without_file_accounts_the_first_stored_one_is_the_default(
    tmp_path: Path, emulator_url: str, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    store = sqlite_store(tmp_path / "accounts.db", poll_s=NEVER)
    config = replace(with_store(emulator_url, store), accounts=MappingProxyType({}))
    client = await aiohttp_client(make_app(config))
    proxy: Proxy = client.app[PROXY]
    assert (await client.get("/_spproxy/ready")).status == 200  # nothing to wait for yet
    none_yet = await client.get(PARTICIPATIONS)
    assert none_yet.status == 400
    assert (await none_yet.json())["errors"][0] == {
        "code": "InvalidInput",
        "message": "No account yet.",
        "details": "Configured: none.",
    }
    assert proxy.stored is not None
    await proxy.stored.add("acme", "A1ACME", "na", Secret(ACME_TOKEN), emulator_url)
    assert (await client.get(PARTICIPATIONS)).status == 200
    assert proxy.tokens.expiry(proxy.config.default_account) is not None


async def test_a_name_in_the_file_and_the_store_is_a_config_error(
    store_config: AccountStoreConfig, emulator_url: str
) -> None:
    await add_acme(store_config, emulator_url)
    config = with_store(emulator_url, store_config, accounts={"acme": DEMO_REFRESH_TOKEN})
    with pytest.raises(ConfigError) as refused:
        await StoredAccounts.open(config)
    assert refused.value.problems == [
        "account_store: account 'acme' is in the config file too (accounts.acme): "
        "remove it from one of them"
    ]
    stored = await StoredAccounts.open(with_store(emulator_url, store_config))
    try:
        with pytest.raises(StoreRefused, match=r"the name 'main' is the config file's"):
            await stored.add("main", "A9OTHER", "na", Secret("Atzr|x"))
    finally:
        await stored.aclose()


async def test_a_seller_both_in_the_file_and_the_store_is_a_config_error(
    tmp_path: Path, emulator_url: str
) -> None:
    store = sqlite_store(tmp_path / "accounts.db")
    await add_acme(store, emulator_url)
    twin = with_store(emulator_url, store, selling_partner_ids={"main": "A1ACME"})
    with pytest.raises(ConfigError) as refused:
        await StoredAccounts.open(twin)
    assert refused.value.problems == [
        "account_store: account 'acme': selling partner A1ACME is the config file's account "
        "'main' (accounts.main.selling_partner_id)"
    ]
    stored = await StoredAccounts.open(with_store(emulator_url, store))
    try:
        stored.file_config = twin
        with pytest.raises(StoreRefused, match="selling partner A1ACME is the config file's"):
            await stored.add("acme-2", "A1ACME", "na", Secret("Atzr|x"))
    finally:
        await stored.aclose()


async def test_a_wrong_key_or_a_token_that_does_not_open_stops_start_up(
    store_config: AccountStoreConfig, emulator_url: str
) -> None:
    await add_acme(store_config, emulator_url)
    wrong = with_store(emulator_url, dataclasses.replace(store_config, key=Secret(OTHER_KEY)))
    with pytest.raises(ConfigError, match=r"account_store: account_store.key does not open"):
        await StoredAccounts.open(wrong)
    engine = raw_engine(store_config)
    async with engine.begin() as connection:  # a row altered behind the store's back
        await connection.execute(text("UPDATE spproxy_accounts SET selling_partner_id = 'A1B'"))
    await engine.dispose()
    with pytest.raises(ConfigError) as refused:
        await StoredAccounts.open(with_store(emulator_url, store_config))
    assert refused.value.problems == [
        "account_store: the refresh token of account 'acme' does not open with "
        "account_store.key (altered, or copied from another row)"
    ]


async def test_a_reload_merges_the_store_and_refuses_a_clash(
    tmp_path: Path, emulator_url: str, aiohttp_client: Callable[..., Awaitable[Client]]
) -> None:
    store = sqlite_store(tmp_path / "accounts.db", poll_s=NEVER)
    await add_acme(store, emulator_url)
    config = with_store(emulator_url, store)
    files = iter([with_store(emulator_url, store, accounts={"other": DEMO_REFRESH_TOKEN})])
    client = await aiohttp_client(make_app(config, loader=lambda: next(files)))
    proxy: Proxy = client.app[PROXY]
    assert list(proxy.config.accounts) == ["main", "acme"]  # the file's first
    assert proxy.reload() == []
    assert list(proxy.config.accounts) == ["other", "acme"]
    files = iter([with_store(emulator_url, store, accounts={"acme": DEMO_REFRESH_TOKEN})])
    assert proxy.reload() == [
        "account_store: account 'acme' is in the config file too (accounts.acme): "
        "remove it from one of them"
    ]
    assert list(proxy.config.accounts) == ["other", "acme"]  # the running config stays


async def test_the_background_poll_follows_changes_and_rides_out_a_failing_store(
    postgres: Postgres,
    emulator_url: str,
    aiohttp_client: Callable[..., Awaitable[Client]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = postgres_store(postgres, poll_s=0.1)
    client = await aiohttp_client(make_app(with_store(emulator_url, store)))
    proxy: Proxy = client.app[PROXY]
    await add_acme(store, emulator_url)
    await until(lambda: "acme" in proxy.config.accounts)
    engine = raw_engine(store)
    async with engine.begin() as connection:  # the store breaks: its table is gone
        await connection.execute(text("ALTER TABLE spproxy_account_store RENAME TO broken"))
    with caplog.at_level(logging.INFO, logger="spproxy"):
        await until(lambda: "the accounts in effect stay" in caplog.text)
        assert "acme" in proxy.config.accounts
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE broken RENAME TO spproxy_account_store"))
        await until(lambda: "answers again" in caplog.text)
    await engine.dispose()
    assert caplog.text.count("the accounts in effect stay") == 1  # said once, not every poll
    assert postgres.password not in caplog.text


async def until(condition: Callable[[], bool]) -> None:
    """Wait for a background poll to make `condition` true: bounded, 10 s."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the background poll did not get there in 10 s")


def test_sqlalchemy_loads_only_with_an_account_store() -> None:
    # ~0.3 s of imports: no start-up without a store pays for it.
    code = (
        "import sys, spproxy.cli, spproxy.app, spproxy.check, spproxy.configload\n"
        "loaded = {'sqlalchemy', 'aiosqlite', 'asyncpg', 'spproxy.accountstore'}\n"
        "loaded &= set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
