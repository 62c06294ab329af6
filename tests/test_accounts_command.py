"""`spproxy accounts list | remove | rename` as a user runs them (`python -m spproxy`), against a
real store file, next to a real `spproxy serve` that follows what they do and keeps the stored
accounts across a restart."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from spproxy.accountstore import AccountStore
from spproxy.config import Secret
from spproxy.emulator import DEMO_REFRESH_TOKEN, EmulatorConfig, make_emulator_app
from tests.harness import finish, serve, serve_yaml, start_spproxy
from tests.stores import KEY, OTHER_KEY, sqlite_store

ACME_TOKEN = "Atzr|acme-refresh-token-0001"
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"


def store_yaml(key: str = KEY, poll_s: float = 0.1) -> str:
    return f"account_store: {{url: 'sqlite:///state/accounts.db', key: '{key}', poll_s: {poll_s}}}"


@pytest.fixture
async def emulator_url(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> str:
    sellers = {DEMO_REFRESH_TOKEN: "A2SPPROXYDEMO1", ACME_TOKEN: "A1ACME"}
    server = await aiohttp_server(make_emulator_app(EmulatorConfig(refresh_tokens=sellers)))
    return str(server.make_url("")).rstrip("/")


async def accounts(config: Path, *args: str) -> tuple[int, str, str]:
    """`spproxy accounts --config CONFIG ARGS`: its exit status, stdout and stderr."""
    return await finish(await start_spproxy("accounts", "--config", str(config), *args))


async def status_of(base: str, account: str) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base}{PARTICIPATIONS}", headers={"x-spproxy-account": account}) as answer,
    ):
        return answer.status


async def until_status(base: str, account: str, status: int) -> None:
    """Until the serving process's poll shows the change (bounded, 10 s)."""
    for _ in range(200):
        if await status_of(base, account) == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"account {account} did not answer {status} within 10 s")


async def test_list_rename_and_remove_while_spproxy_serves_and_restarts(
    tmp_path: Path, emulator_url: str
) -> None:
    def config(port: int) -> str:
        return serve_yaml(emulator_url, port, extra=store_yaml())

    async with serve(tmp_path, config) as served:  # an empty store: created, 0600
        assert stat.S_IMODE((tmp_path / "state" / "accounts.db").stat().st_mode) == 0o600
        store = await AccountStore.open(sqlite_store(tmp_path / "state" / "accounts.db"))
        await store.add("acme", "A1ACME", "na", Secret(ACME_TOKEN), emulator_url)  # onboarding
        await store.aclose()
        await until_status(served.base, "acme", 200)
    assert f"(account store sqlite:///{tmp_path}/state/accounts.db)" in served.log
    assert "account store: added acme; removed none" in served.log

    async with serve(tmp_path, config) as served:  # a restart: acme is there from the start
        assert await status_of(served.base, "acme") == 200
        code, out, err = await accounts(served.config, "list")
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[0] == f"account store: {tmp_path / 'state' / 'accounts.db'}; 1 account"
        assert lines[1].split()[:4] == ["name", "selling", "partner", "id"]
        assert lines[2].split()[:4] == ["acme", "A1ACME", "na", emulator_url]
        assert lines[2].split()[-1] == "sealed" and ACME_TOKEN not in out

        code, out, err = await accounts(served.config, "rename", "acme", "acme-us")
        assert (code, err) == (0, "")
        assert out.startswith("renamed account 'acme' to 'acme-us' (selling partner A1ACME)")
        await until_status(served.base, "acme-us", 200)
        assert await status_of(served.base, "acme") == 400

        code, out, err = await accounts(served.config, "remove", "acme-us")
        assert (code, err) == (0, "")
        assert out == (
            "removed account 'acme-us' (selling partner A1ACME); every spproxy on this store "
            "refuses it within 0.1 s (account_store.poll_s)\n"
        )
        await until_status(served.base, "acme-us", 400)
        assert await status_of(served.base, "main") == 200
    for secret in (ACME_TOKEN, DEMO_REFRESH_TOKEN, KEY):
        assert secret not in served.log


async def test_refusals_and_config_problems_are_one_line(tmp_path: Path) -> None:
    config = tmp_path / "spproxy.yaml"
    lwa = "lwa: {client_id: a, client_secret: b}\n"
    main = "accounts: {main: {refresh_token: 'Atzr|main', region: na}}\n"
    config.write_text(lwa + main + store_yaml())
    store = await AccountStore.open(sqlite_store(tmp_path / "state" / "accounts.db"))
    await store.add("acme", "A1ACME", "na", Secret(ACME_TOKEN))
    await store.add("globex", "A2GLOBEX", "eu", Secret("Atzr|globex"))
    await store.aclose()
    cases = [
        (("remove", "nobody"), 1, "spproxy: accounts: no stored account 'nobody'\n"),
        (("rename", "acme", "globex"), 1, "spproxy: accounts: the name 'globex' is taken\n"),
        (
            ("rename", "acme", "main"),
            1,
            "spproxy: accounts: the name 'main' is the config file's (accounts.main)\n",
        ),
        (
            ("remove", "main"),
            1,
            f"spproxy: accounts: account 'main' is the config file's (accounts.main in {config}), "
            "not the store's\n",
        ),
    ]
    for args, status, message in cases:
        assert await accounts(config, *args) == (status, "", message)
    code, out, _ = await accounts(config, "list")
    assert code == 0 and [line.split()[0] for line in out.splitlines()[2:]] == ["acme", "globex"]

    config.write_text(lwa + main + store_yaml(key=OTHER_KEY))
    code, _, err = await accounts(config, "list")
    assert (code, err) == (
        2,
        "spproxy: config: account_store: account_store.key does not open the store at "
        f"{tmp_path / 'state' / 'accounts.db'} (it was created with another key)\n",
    )
    config.write_text(lwa + main)
    assert await accounts(config, "list") == (
        2,
        "",
        "spproxy: config: account_store: not configured (spproxy accounts works on the store)\n",
    )


async def test_the_help_names_the_actions_variables_and_exit_statuses() -> None:
    code, out, _ = await finish(await start_spproxy("accounts", "--help"))
    assert code == 0
    for text in ("list", "remove", "rename", "SPPROXY_CONFIG", "exit status:", "poll_s"):
        assert text in out
