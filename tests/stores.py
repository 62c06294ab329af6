"""Account stores for the tests: a SQLite file in the test's folder, or the session's PostgreSQL
(emptied for each test); and the raw database underneath, to read and alter it behind the store's
back."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from spproxy.config import AccountStoreConfig, Secret
from tests.postgres_server import Postgres

KEY = base64.b64encode(os.urandom(32)).decode()
OTHER_KEY = base64.b64encode(os.urandom(32)).decode()


def sqlite_store(path: Path, **options: Any) -> AccountStoreConfig:
    return AccountStoreConfig(url=f"sqlite:///{path}", key=Secret(KEY), **options)


def postgres_store(server: Postgres, **options: Any) -> AccountStoreConfig:
    return AccountStoreConfig(
        url=server.url, key=Secret(KEY), password=Secret(server.password), **options
    )


def raw_engine(config: AccountStoreConfig) -> AsyncEngine:
    """The store's database, without the store."""
    if config.url.startswith("sqlite:///"):
        return create_async_engine(f"sqlite+aiosqlite:///{config.url.removeprefix('sqlite:///')}")
    password = config.password.reveal() if config.password else None
    url = make_url(config.url).set(drivername="postgresql+asyncpg", password=password)
    return create_async_engine(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_config(request: pytest.FixtureRequest, tmp_path: Path) -> AccountStoreConfig:
    """Each test twice: on a SQLite file, and on PostgreSQL (skipped without one)."""
    if request.param == "sqlite":
        return sqlite_store(tmp_path / "state" / "accounts.db")
    postgres: Postgres = request.getfixturevalue("postgres")
    return postgres_store(postgres)
