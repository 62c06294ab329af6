"""The database under the account store: a SQLite file, created private, or PostgreSQL named by
URL; each with its driver's limits (connecting, waiting for a lock, a query) set to
`account_store.timeout_s`, and never a parameter in an error message."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from spproxy.configstorage import SQLITE_URL, AccountStoreConfig

log = logging.getLogger("spproxy")


def store_engine(config: AccountStoreConfig) -> tuple[AsyncEngine, str]:
    """The engine for the configured URL, and where it points for messages."""
    if SQLITE_URL.fullmatch(config.url):
        path = Path(config.url.removeprefix("sqlite:///"))  # absolute: the reader resolved it
        _private_file(path)
        url = URL.create("sqlite+aiosqlite", database=str(path))
        engine = create_async_engine(
            url, connect_args={"timeout": config.timeout_s}, hide_parameters=True
        )
        event.listen(engine.sync_engine, "connect", _sqlite_connected)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine, str(path)
    password = config.password.reveal() if config.password else None
    url = make_url(config.url).set(drivername="postgresql+asyncpg", password=password)
    engine = create_async_engine(
        url,
        connect_args={"timeout": config.timeout_s, "command_timeout": config.timeout_s},
        pool_timeout=config.timeout_s,
        hide_parameters=True,  # never a sealed token in an error message
    )
    return engine, config.url


def _private_file(path: Path) -> None:
    """The SQLite file created 0600 in a folder created 0700: it holds sealed tokens and who the
    sellers are. (SQLite gives its journal the file's mode.)"""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("account store %s is readable by others (mode %o): chmod 600 it", path, mode)


def _sqlite_connected(connection: Any, _record: object) -> None:
    # BEGIN is issued below, not by the driver; removed accounts' bytes are overwritten.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Write locks from the start: two processes changing the file wait for each other (up to
    # timeout_s) instead of failing when a read lock cannot be upgraded.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
