"""The account store on a real SQLite file and a real PostgreSQL: adding, listing, renaming and
removing; refusals that change nothing; tokens sealed at rest, bound to their row; a wrong key
refused when the store opens."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update

from spproxy.accountstore import ACCOUNTS, AccountStore, StoreError, StoreRefused
from spproxy.config import AccountStoreConfig, Secret
from tests.postgres_server import Postgres
from tests.stores import OTHER_KEY, postgres_store, raw_engine, sqlite_store

TOKEN = "Atzr|IwEBIA-acme-refresh-token-nobody-may-read"
OTHER_TOKEN = "Atzr|IwEBIA-globex-refresh-token-nobody-may-read"
X = Secret("Atzr|a-refused-token")


@pytest.fixture
async def store(store_config: AccountStoreConfig) -> AsyncIterator[AccountStore]:
    """The store, opened, and closed after the test."""
    opened = await AccountStore.open(store_config)
    yield opened
    await opened.aclose()


async def test_accounts_are_added_listed_renamed_and_removed(
    store: AccountStore,
) -> None:
    assert await store.accounts() == [] and await store.generation() == 0
    acme = await store.add("acme", "A1ACME", "na", Secret(TOKEN))
    globex = await store.add("globex", "A2GLOBEX", "eu", Secret(OTHER_TOKEN), "http://h:1")
    assert (acme.name, acme.selling_partner_id, acme.region, acme.endpoint) == (
        "acme",
        "A1ACME",
        "na",
        None,
    )
    assert acme.created_at.tzinfo is not None and acme.refresh_token == Secret(TOKEN)
    assert [a.name for a in await store.accounts()] == ["acme", "globex"]  # oldest first
    renamed = await store.rename("globex", "globex-eu")
    assert renamed.refresh_token == Secret(OTHER_TOKEN)  # bound to the seller, not the name
    assert renamed.endpoint == "http://h:1" and renamed.created_at == globex.created_at
    removed = await store.remove("acme")
    assert removed.selling_partner_id == "A1ACME"
    assert [a.name for a in await store.accounts()] == ["globex-eu"]
    assert await store.generation() == 4  # every change, once


async def test_the_same_seller_authorizing_again_replaces_its_token(
    store: AccountStore,
) -> None:
    first = await store.add("acme", "A1ACME", "na", Secret(TOKEN))
    again = await store.add("acme", "A1ACME", "eu", Secret(OTHER_TOKEN))
    (stored,) = await store.accounts()
    assert stored == again and again.created_at == first.created_at
    assert (stored.region, stored.refresh_token) == ("eu", Secret(OTHER_TOKEN))


async def test_a_taken_name_or_a_seller_stored_under_another_name_changes_nothing(
    store: AccountStore,
) -> None:
    await store.add("acme", "A1ACME", "na", Secret(TOKEN))
    await store.add("globex", "A2GLOBEX", "na", Secret(OTHER_TOKEN))
    before = (await store.accounts(), await store.generation())
    refusals: list[tuple[Callable[[], Awaitable[object]], str]] = [
        (lambda: store.add("acme", "A3OTHER", "na", X), "the name 'acme' is another seller's"),
        (
            lambda: store.add("acme2", "A1ACME", "na", X),
            "selling partner A1ACME is stored already, as 'acme'",
        ),
        (lambda: store.rename("acme", "globex"), "the name 'globex' is taken"),
        (lambda: store.rename("nobody", "x"), "no stored account 'nobody'"),
        (lambda: store.remove("nobody"), "no stored account 'nobody'"),
        (lambda: store.add("a b", "A4", "na", X), "'a b' is not an account name"),
        (lambda: store.add("x" * 65, "A4", "na", X), "64 at most"),
        (lambda: store.add("d", "A-4", "na", X), "'A-4' is not a selling partner id"),
        (lambda: store.add("d", "A4", "us", X), "unknown region 'us' (one of na, eu, fe)"),
    ]
    for change, message in refusals:
        with pytest.raises(StoreRefused, match=re.escape(message)):
            await change()
    assert (await store.accounts(), await store.generation()) == before


async def test_a_wrong_key_is_refused_when_the_store_opens(
    store_config: AccountStoreConfig,
) -> None:
    store = await AccountStore.open(store_config)
    await store.add("acme", "A1ACME", "na", Secret(TOKEN))
    await store.aclose()
    wrong = dataclasses.replace(store_config, key=Secret(OTHER_KEY))
    with pytest.raises(StoreError, match=r"account_store.key does not open the store at .*") as e:
        await AccountStore.open(wrong)
    assert OTHER_KEY not in str(e.value)


async def test_a_token_moved_into_another_row_does_not_open(
    store: AccountStore, store_config: AccountStoreConfig
) -> None:
    await store.add("acme", "A1ACME", "na", Secret(TOKEN))
    await store.add("globex", "A2GLOBEX", "na", Secret(OTHER_TOKEN))
    engine = raw_engine(store_config)
    async with engine.begin() as connection:  # acme's sealed token into globex's row
        acme = select(ACCOUNTS.c.refresh_token).where(ACCOUNTS.c.name == "acme")
        sealed = (await connection.execute(acme)).scalar_one()
        await connection.execute(
            update(ACCOUNTS).where(ACCOUNTS.c.name == "globex").values(refresh_token=sealed)
        )
    await engine.dispose()
    tokens = {a.name: a.refresh_token for a in await store.accounts()}
    assert tokens == {"acme": Secret(TOKEN), "globex": None}


async def test_the_sqlite_file_is_private_and_holds_no_token_in_clear(tmp_path: Path) -> None:
    config = sqlite_store(tmp_path / "state" / "accounts.db")
    store = await AccountStore.open(config)
    try:
        await store.add("acme", "A1ACME", "na", Secret(TOKEN))
        await store.add("globex", "A2GLOBEX", "na", Secret(OTHER_TOKEN))
        sealed = (await store.accounts())[1]
        await store.remove("globex")
    finally:
        await store.aclose()
    path = tmp_path / "state" / "accounts.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    raw = path.read_bytes()
    assert b"A1ACME" in raw and b"acme" in raw  # the file is what was read
    for secret in (TOKEN, OTHER_TOKEN, "IwEBIA", "Atzr|"):
        assert secret.encode() not in raw
    assert sealed.refresh_token is not None and b"globex" not in raw  # removed: overwritten
    assert [p.name for p in path.parent.iterdir()] == ["accounts.db"]  # no journal left behind
    store = await AccountStore.open(config)  # a restart: the accounts are still there
    try:
        assert [(a.name, a.refresh_token) for a in await store.accounts()] == [
            ("acme", Secret(TOKEN))
        ]
    finally:
        await store.aclose()


async def test_postgres_holds_no_token_in_clear(postgres: Postgres) -> None:
    config = postgres_store(postgres)
    store = await AccountStore.open(config)
    try:
        await store.add("acme", "A1ACME", "na", Secret(TOKEN))
    finally:
        await store.aclose()
    engine = raw_engine(config)
    async with engine.connect() as connection:
        rows = (await connection.execute(select(ACCOUNTS))).all()
    await engine.dispose()
    assert len(rows) == 1 and rows[0].selling_partner_id == "A1ACME"
    assert TOKEN.encode() not in rows[0].refresh_token and b"Atzr" not in rows[0].refresh_token


async def test_replicas_opening_a_new_postgres_store_together_create_it_once(
    postgres: Postgres,
) -> None:
    config = postgres_store(postgres)
    stores = await asyncio.gather(*(AccountStore.open(config) for _ in range(4)))
    try:
        await stores[0].add("acme", "A1ACME", "na", Secret(TOKEN))
        for store in stores:
            assert [a.refresh_token for a in await store.accounts()] == [Secret(TOKEN)]
    finally:
        await asyncio.gather(*(store.aclose() for store in stores))


async def test_an_unreachable_store_is_one_line_without_its_password(
    postgres: Postgres, unused_tcp_port: int
) -> None:
    closed = postgres.url.rsplit(":", 1)[0] + f":{unused_tcp_port}/postgres"
    config = dataclasses.replace(postgres_store(postgres), url=closed, timeout_s=2)
    with pytest.raises(StoreError) as refused:
        await AccountStore.open(config)
    message = str(refused.value)
    assert message.startswith(f"the account store at {closed}: ") and "\n" not in message
    assert postgres.password not in message


async def test_a_wrong_password_is_one_line(postgres: Postgres) -> None:
    config = dataclasses.replace(postgres_store(postgres), password=Secret("not-the-password"))
    with pytest.raises(StoreError, match="password authentication failed") as refused:
        await AccountStore.open(config)
    assert "not-the-password" not in str(refused.value)
