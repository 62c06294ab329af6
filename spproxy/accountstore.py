"""The account store: the sellers who authorized the app, kept in one SQLite file or in PostgreSQL
that several replicas share (SQLAlchemy Core, on aiosqlite or asyncpg).

One row per account: its name, selling partner id, region, endpoint (None: the region's), when it
was added, and its refresh token sealed with AES-256-GCM under `account_store.key`, bound to the
selling partner id, so a token copied into another row does not open. A one-row table holds the
change generation, raised in the same transaction as every add, remove and rename, so a replica
notices a change by reading one number; and a value sealed at creation, so a wrong key is told
at once rather than row by row.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    String,
    Table,
    delete,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from spproxy.config import ACCOUNT_NAME, AccountStoreConfig, Secret
from spproxy.regions import REGIONS
from spproxy.sealing import Sealer, parse_key
from spproxy.storeengine import store_engine

SELLING_PARTNER_ID = re.compile(r"[A-Za-z0-9]{1,64}")
NAME_LENGTH = 64
KEY_CHECK = b"spproxy account store"
PREPARE_LOCK = 0x5350_5058  # PostgreSQL: replicas starting together create the tables once

metadata = MetaData()
ACCOUNTS = Table(
    "spproxy_accounts",
    metadata,
    Column("selling_partner_id", String(64), primary_key=True),
    Column("name", String(NAME_LENGTH), nullable=False, unique=True),
    Column("region", String(8), nullable=False),
    Column("endpoint", String(256), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("refresh_token", LargeBinary, nullable=False),  # sealed, bound to the id
)
STORE = Table(
    "spproxy_account_store",
    metadata,
    Column("id", Integer, primary_key=True),  # 1: the one row
    Column("generation", BigInteger, nullable=False),
    Column("key_check", LargeBinary, nullable=False),
)


class StoreError(Exception):
    """The store cannot serve (unreachable, too slow, a wrong key); one line, no secret."""


class WrongKey(StoreError):
    """`account_store.key` is not the key the store was created with."""


class StoreRefused(StoreError):
    """A change the store refuses: a name taken, a seller stored under another name, no such
    account; nothing was changed."""


@dataclass(frozen=True)
class StoredAccount:
    name: str
    selling_partner_id: str
    region: str
    endpoint: str | None  # None: the region's
    created_at: datetime
    refresh_token: Secret | None  # None: it does not open with this key (altered, or moved)


class AccountStore:
    def __init__(self, engine: AsyncEngine, sealer: Sealer, where: str, timeout_s: float) -> None:
        self._engine = engine
        self._sealer = sealer
        self._postgres = engine.dialect.name == "postgresql"
        self.where = where  # the file or the URL, for messages (never a password)
        self._timeout_s = timeout_s

    @classmethod
    async def open(cls, config: AccountStoreConfig) -> AccountStore:
        """The store, its tables created if need be; StoreError if it cannot be reached or the
        key does not open it."""
        sealer = Sealer(parse_key(config.key.reveal()))
        engine, where = store_engine(config)
        store = cls(engine, sealer, where, config.timeout_s)
        try:
            await store._prepare()
        except BaseException:
            await engine.dispose()
            raise
        return store

    async def _prepare(self) -> None:
        async with self._transaction() as connection:
            if self._postgres:
                await connection.execute(text(f"SELECT pg_advisory_xact_lock({PREPARE_LOCK})"))
            await connection.run_sync(metadata.create_all)
            check = (await connection.execute(select(STORE.c.key_check))).scalar()
            if check is None:
                sealed = self._sealer.seal(KEY_CHECK, "spproxy account store key check")
                await connection.execute(insert(STORE).values(id=1, generation=0, key_check=sealed))
            elif self._sealer.open(check, "spproxy account store key check") != KEY_CHECK:
                raise WrongKey(
                    f"account_store.key does not open the store at {self.where} "
                    "(it was created with another key)"
                )

    async def generation(self) -> int:
        """Raised by every change: read it first, then the accounts, to miss none."""
        async with self._transaction() as connection:
            return int((await connection.execute(select(STORE.c.generation))).scalar_one())

    async def accounts(self) -> list[StoredAccount]:
        """Every stored account, oldest first."""
        query = select(ACCOUNTS).order_by(ACCOUNTS.c.created_at, ACCOUNTS.c.name)
        async with self._transaction() as connection:
            return [self._account(row) for row in await connection.execute(query)]

    async def add(
        self,
        name: str,
        selling_partner_id: str,
        region: str,
        refresh_token: Secret,
        endpoint: str | None = None,
    ) -> StoredAccount:
        """Store a seller who authorized the app. The same seller under the same name again (it
        authorized once more) replaces the token; a name taken by another seller, or this seller
        stored under another name, is refused."""
        _check_name(name)
        if not SELLING_PARTNER_ID.fullmatch(selling_partner_id):
            raise StoreRefused(f"{selling_partner_id!r} is not a selling partner id")
        if region not in REGIONS:
            raise StoreRefused(f"unknown region {region!r} (one of {', '.join(REGIONS)})")
        sealed = self._sealer.seal(refresh_token.reveal().encode(), _context(selling_partner_id))
        values = {"region": region, "endpoint": endpoint, "refresh_token": sealed}
        async with self._transaction() as connection:
            found = await connection.execute(
                select(ACCOUNTS.c.name, ACCOUNTS.c.selling_partner_id).where(
                    or_(
                        ACCOUNTS.c.name == name, ACCOUNTS.c.selling_partner_id == selling_partner_id
                    )
                )
            )
            for other in found:
                if other.selling_partner_id != selling_partner_id:
                    raise StoreRefused(f"the name {name!r} is another seller's")
                if other.name != name:
                    raise StoreRefused(
                        f"selling partner {selling_partner_id} is stored already, as {other.name!r}"
                    )
                await connection.execute(
                    update(ACCOUNTS).where(ACCOUNTS.c.name == name).values(**values)
                )
                return await self._changed(connection, name)
            created = {"name": name, "selling_partner_id": selling_partner_id, **values}
            await connection.execute(
                insert(ACCOUNTS).values(created_at=datetime.now(UTC), **created)
            )
            return await self._changed(connection, name)

    async def remove(self, name: str) -> StoredAccount:
        """Remove an account; what it was. Every replica drops it at its next poll."""
        async with self._transaction() as connection:
            removed = await self._row(connection, name)
            await connection.execute(delete(ACCOUNTS).where(ACCOUNTS.c.name == name))
            await self._raise_generation(connection)
            return removed

    async def rename(self, old: str, new: str) -> StoredAccount:
        _check_name(new)
        async with self._transaction() as connection:
            await self._row(connection, old)
            if (
                await connection.execute(select(ACCOUNTS.c.name).where(ACCOUNTS.c.name == new))
            ).first():
                raise StoreRefused(f"the name {new!r} is taken")
            await connection.execute(
                update(ACCOUNTS).where(ACCOUNTS.c.name == old).values(name=new)
            )
            return await self._changed(connection, new)

    async def aclose(self) -> None:
        await self._engine.dispose()

    async def _changed(self, connection: AsyncConnection, name: str) -> StoredAccount:
        await self._raise_generation(connection)
        return await self._row(connection, name)

    async def _raise_generation(self, connection: AsyncConnection) -> None:
        await connection.execute(update(STORE).values(generation=STORE.c.generation + 1))

    async def _row(self, connection: AsyncConnection, name: str) -> StoredAccount:
        row = (await connection.execute(select(ACCOUNTS).where(ACCOUNTS.c.name == name))).first()
        if row is None:
            raise StoreRefused(f"no stored account {name!r}")
        return self._account(row)

    def _account(self, row: Row[Any]) -> StoredAccount:
        token = self._sealer.open(row.refresh_token, _context(row.selling_partner_id))
        created = row.created_at
        return StoredAccount(
            row.name,
            row.selling_partner_id,
            row.region,
            row.endpoint,
            created if created.tzinfo else created.replace(tzinfo=UTC),  # SQLite keeps none
            Secret(token.decode()) if token is not None else None,
        )

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction, bounded in time; a failure as one StoreError line."""
        try:
            # The drivers' own limits come first (connecting, a lock, a query); this bounds
            # whatever they do not.
            async with asyncio.timeout(2 * self._timeout_s), self._engine.begin() as connection:
                yield connection
        except TimeoutError:
            raise StoreError(f"the account store at {self.where} did not answer in time") from None
        except DBAPIError as error:
            reason = str(error.orig).splitlines()[0] if str(error.orig) else type(error.orig)
            raise StoreError(f"the account store at {self.where}: {reason}") from None
        except (SQLAlchemyError, OSError) as error:
            raise StoreError(f"the account store at {self.where}: {type(error).__name__}") from None


def _context(selling_partner_id: str) -> str:
    """What a sealed token is bound to: its row's selling partner id."""
    return f"spproxy account store: {selling_partner_id}"


def _check_name(name: str) -> None:
    if not ACCOUNT_NAME.match(name) or len(name) > NAME_LENGTH:
        rule = f"letters, digits, '_', '.', '-'; {NAME_LENGTH} at most"
        raise StoreRefused(f"{name!r} is not an account name ({rule})")
