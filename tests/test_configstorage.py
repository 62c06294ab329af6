"""The sections for Redis and the account store: which URLs they take (never one with a
password), and their defaults."""

from __future__ import annotations

import pytest

from spproxy.configbase import Secret
from spproxy.configstorage import REDIS_URL, STORE_URL, AccountStoreConfig


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///accounts.db",
        "sqlite:////var/lib/spproxy/accounts.db",
        "postgresql://spproxy@db:5432/spproxy",
        "postgres://db/spproxy",
        "postgresql://spproxy@10.0.0.5/spproxy?ssl=verify-full",
    ],
)
def test_store_urls_taken(url: str) -> None:
    assert STORE_URL.fullmatch(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://spproxy:hunter2@db/spproxy",  # a password: password_file instead
        "postgresql://db",  # no database
        "sqlite://accounts.db",
        "sqlite:///",
        "mysql://db/spproxy",
        "redis://r:6379/0",
    ],
)
def test_store_urls_refused(url: str) -> None:
    assert not STORE_URL.fullmatch(url)


def test_redis_urls_hold_no_password_either() -> None:
    assert REDIS_URL.fullmatch("rediss://redis:6380/0")
    assert not REDIS_URL.fullmatch("redis://:hunter2@redis:6379/0")


def test_the_account_store_polls_every_second_by_default() -> None:
    store = AccountStoreConfig(url="sqlite:///a.db", key=Secret("k"))
    assert (store.poll_s, store.timeout_s, store.password) == (1.0, 5.0, None)
    assert "k" not in repr(store).replace("key", "")
