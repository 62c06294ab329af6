"""The database under the account store: a SQLite file created private, write locks taken at
once and waited for at most timeout_s; PostgreSQL's password kept out of the URL."""

from __future__ import annotations

import logging
import stat
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from spproxy.config import AccountStoreConfig, Secret
from spproxy.storeengine import store_engine
from tests.stores import KEY, sqlite_store


async def test_a_new_sqlite_file_is_created_0600_in_a_0700_folder(tmp_path: Path) -> None:
    path = tmp_path / "state" / "accounts.db"
    engine, where = store_engine(sqlite_store(path))
    await engine.dispose()
    assert where == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_a_file_others_may_read_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "accounts.db"
    path.touch(mode=0o644)
    with caplog.at_level(logging.WARNING, logger="spproxy"):
        engine, _ = store_engine(sqlite_store(path))
    await engine.dispose()
    assert f"account store {path} is readable by others (mode 644): chmod 600 it" in caplog.text


async def test_a_sqlite_writer_waits_for_another_at_most_timeout_s(tmp_path: Path) -> None:
    config = sqlite_store(tmp_path / "accounts.db", timeout_s=0.3)
    first, _ = store_engine(config)
    second, _ = store_engine(config)
    try:
        async with first.begin() as holding:  # BEGIN IMMEDIATE: the write lock, from the start
            await holding.execute(text("CREATE TABLE t (x INTEGER)"))
            started = time.monotonic()
            with pytest.raises(OperationalError, match="database is locked"):
                async with second.begin():
                    pass
            assert 0.25 < time.monotonic() - started < 5
    finally:
        await first.dispose()
        await second.dispose()


async def test_postgres_gets_its_password_apart_from_the_url() -> None:
    url = "postgresql://spproxy@db.internal:5432/spproxy?ssl=verify-full"
    config = AccountStoreConfig(url=url, key=Secret(KEY), password=Secret("hunter2"))
    engine, where = store_engine(config)
    try:
        assert where == url  # what messages show
        assert engine.url.password == "hunter2" and "hunter2" not in str(engine.url)
        assert engine.url.drivername == "postgresql+asyncpg"
        assert engine.url.query == {"ssl": "verify-full"}
    finally:
        await engine.dispose()
