"""A real PostgreSQL for the account store's tests: the one CI started
(SPPROXY_TEST_POSTGRES_URL and SPPROXY_TEST_POSTGRES_PASSWORD), or one started for this test
session from the server's binaries (initdb on PATH, else Debian's /usr/lib/postgresql/VERSION/bin)
on a free loopback port. Tests that need it are skipped, saying why, only when neither is there.

PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user (Debian's
package makes it), else as `nobody`, in a folder of their own outside pytest's (0700) ones."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from spproxy.accountstore import metadata
from tests.harness import free_port

URL_VARIABLE = "SPPROXY_TEST_POSTGRES_URL"
PASSWORD_VARIABLE = "SPPROXY_TEST_POSTGRES_PASSWORD"
START_TIMEOUT_S = 30
USER = "spproxy"


@dataclass(frozen=True)
class Postgres:
    url: str  # postgresql://USER@HOST:PORT/DATABASE: no password, as the config wants it
    password: str


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else the newest Debian version's."""
    if found := shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    return versions[-1].parent if versions else None


def _as_server_user() -> tuple[list[str], int | None]:
    """The command prefix that runs a server command as a user PostgreSQL accepts, and its uid."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        user = pwd.getpwnam("nobody")
    return ["runuser", "-u", user.pw_name, "--"], user.pw_uid


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """A PostgreSQL server for this test session, with a password-protected user."""
    if url := os.environ.get(URL_VARIABLE):
        yield Postgres(url, os.environ.get(PASSWORD_VARIABLE, ""))
        return
    binaries = server_binaries()
    if binaries is None:
        pytest.skip(
            f"no PostgreSQL: neither {URL_VARIABLE} nor initdb (apt-get install postgresql)"
        )
    prefix, uid = _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="spproxy-postgres-"))
    password = os.urandom(12).hex()
    (folder / "password").write_text(password)
    if uid is not None:
        os.chown(folder, uid, -1)
        os.chown(folder / "password", uid, -1)
    data, port = folder / "data", free_port()

    def run(*command: str) -> None:
        subprocess.run(
            [*prefix, *command], check=True, capture_output=True, timeout=START_TIMEOUT_S
        )

    run(
        str(binaries / "initdb"),
        *("-D", str(data), "-U", USER, "--pwfile", str(folder / "password")),
        *("--auth", "scram-sha-256", "--no-sync", "--no-instructions"),
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = str(binaries / "pg_ctl")
    log = str(folder / "log")
    run(
        pg_ctl, "-D", str(data), "-o", options, "-l", log, "-w", "-t", str(START_TIMEOUT_S), "start"
    )
    try:
        yield Postgres(f"postgresql://{USER}@127.0.0.1:{port}/postgres", password)
    finally:
        run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "-t", str(START_TIMEOUT_S), "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def postgres(postgres_server: Postgres) -> AsyncIterator[Postgres]:
    """The session's PostgreSQL, without the account store's tables before each test."""
    url = make_url(postgres_server.url).set(
        drivername="postgresql+asyncpg", password=postgres_server.password
    )
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)
    finally:
        await engine.dispose()
    yield postgres_server
