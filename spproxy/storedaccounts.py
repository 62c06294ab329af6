"""The accounts in effect with an account store: the config file's and the store's, merged, and
kept so while other processes change the store.

The merge rule: the file's accounts first, in file order, then the stored ones, oldest first; the
first of all is the default. A name in both is a config error at start-up and on reload (one line
each), and so is a stored token that does not open with the key. Every `poll_s` the store's
generation is read; when it changed, the accounts are read again and the merged config goes to
`apply` (`Proxy.reconfigure`), so the keeper, signers and caches follow as on a reload, and a
removed account's tokens are dropped at once. An account added here (`add`, by onboarding) is
applied here at once; other replicas follow at their next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from types import MappingProxyType

from spproxy.accountstore import AccountStore, StoredAccount, StoreError, StoreRefused
from spproxy.config import Account, Config, ConfigError, Secret, regional

log = logging.getLogger("spproxy")

ConfigLoader = Callable[[], Config]


class StoredAccounts:
    def __init__(self, store: AccountStore, file_config: Config, poll_s: float) -> None:
        self.store = store
        self.file_config = file_config  # as last loaded: what every merge starts from
        self.config = file_config  # merged: the config in effect
        self._poll_s = poll_s
        self._stored: Sequence[StoredAccount] = ()
        self._generation: int | None = None
        self._apply: Callable[[Config], None] | None = None
        self._lock = asyncio.Lock()  # one refresh at a time: configs are applied in order
        self._follower: asyncio.Task[None] | None = None
        self._failing = False  # said once when the store fails, and once when it is back

    @classmethod
    async def open(cls, config: Config) -> StoredAccounts:
        """The store named by `config.account_store`, merged with `config`; ConfigError (one
        line per problem) if it cannot be opened or merged."""
        assert config.account_store is not None
        try:
            store = await AccountStore.open(config.account_store)
        except StoreError as error:
            raise ConfigError([f"account_store: {error}"]) from None
        accounts = cls(store, config, config.account_store.poll_s)
        try:
            await accounts.refresh(strict=True)
        except (StoreError, ConfigError) as error:
            await store.aclose()
            if isinstance(error, ConfigError):
                raise
            raise ConfigError([f"account_store: {error}"]) from None
        return accounts

    def reloading(self, loader: ConfigLoader) -> ConfigLoader:
        """`loader`, its config merged with the stored accounts (SIGHUP, POST /_spproxy/reload):
        ConfigError if they do not merge, and then the running config stays."""

        def load() -> Config:
            file_config = loader()
            merged = _merged(file_config, self._stored, strict=True)
            self.file_config, self.config = file_config, merged
            return merged

        return load

    def follow(self, apply: Callable[[Config], None]) -> None:
        """Poll the store from now on, handing every changed merge to `apply`."""
        self._apply = apply
        self._follower = asyncio.get_running_loop().create_task(self._follow())

    async def refresh(self, *, strict: bool = False) -> bool:
        """Read the generation and, if it changed, the accounts, and apply the merge; whether
        it changed. `strict`: a problem is a ConfigError, else it is logged and left out."""
        async with self._lock:
            generation = await self.store.generation()  # first: a change made meanwhile shows
            if generation == self._generation:  # in the next poll's generation
                return False
            stored = await self.store.accounts()
            merged = _merged(self.file_config, stored, strict=strict)
            if self._generation is not None:  # not the first read, at start-up
                _log_changes(self.config, merged)
            self._generation, self._stored, self.config = generation, stored, merged
            if self._apply is not None:
                self._apply(merged)
            return True

    async def add(
        self,
        name: str,
        selling_partner_id: str,
        region: str,
        refresh_token: Secret,
        endpoint: str | None = None,
    ) -> StoredAccount:
        """Store a seller who authorized the app (again: a new token) and serve it here at once;
        StoreRefused for a name taken (here: the config file's too), StoreError if the store
        cannot serve (if that happens after storing, the next poll applies it)."""
        if clash := file_clash(self.file_config, name, selling_partner_id):
            raise StoreRefused(clash)
        added = await self.store.add(name, selling_partner_id, region, refresh_token, endpoint)
        await self.refresh()
        return added

    async def aclose(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        await self.store.aclose()

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                await self.refresh()
            except StoreError as error:
                if not self._failing:
                    log.warning("%s; the accounts in effect stay, tried again every poll", error)
                self._failing = True
                continue
            if self._failing:
                log.info("the account store at %s answers again", self.store.where)
            self._failing = False


async def merged_once(config: Config) -> Config:
    """The file's and the store's accounts merged, read once (`spproxy check`)."""
    stored = await StoredAccounts.open(config)
    await stored.aclose()
    return stored.config


def file_clash(file_config: Config, name: str, selling_partner_id: str | None = None) -> str:
    """Why a stored account may not have this name or selling partner id next to the config
    file's accounts ('' if it may): x-spproxy-account must name one account only."""
    if name in file_config.accounts:
        return f"the name {name!r} is the config file's (accounts.{name})"
    if selling_partner_id is None:
        return ""
    if twin := file_config.selling_partners.get(selling_partner_id):
        return (
            f"selling partner {selling_partner_id} is the config file's account {twin.name!r} "
            f"(accounts.{twin.name}.selling_partner_id)"
        )
    if selling_partner_id in file_config.accounts:
        return f"selling partner id {selling_partner_id} is the name of the config file's account"
    return ""


def _as_account(stored: StoredAccount, refresh_token: Secret) -> Account:
    """A stored account as the config's accounts are: its region's endpoint unless it has one."""
    fields = {"region": stored.region, "endpoint": stored.endpoint or ""}
    return Account(
        name=stored.name,
        refresh_token=refresh_token,
        selling_partner_id=stored.selling_partner_id,
        **regional(fields),
    )


def _merged(file_config: Config, stored: Sequence[StoredAccount], *, strict: bool) -> Config:
    accounts = dict(file_config.accounts)
    problems = []
    for account in stored:
        if account.name in accounts:
            problems.append(
                f"account_store: account {account.name!r} is in the config file too "
                f"(accounts.{account.name}): remove it from one of them"
            )
        elif clash := file_clash(file_config, account.name, account.selling_partner_id):
            problems.append(f"account_store: account {account.name!r}: {clash}")
        elif account.refresh_token is None:
            problems.append(
                f"account_store: the refresh token of account {account.name!r} does not open "
                "with account_store.key (altered, or copied from another row)"
            )
        else:
            accounts[account.name] = _as_account(account, account.refresh_token)
    if problems and strict:
        raise ConfigError(problems)
    for problem in problems:
        log.error("%s; it is left out", problem)
    return replace(file_config, accounts=MappingProxyType(accounts))


def _log_changes(old: Config, new: Config) -> None:
    added = [name for name in new.accounts if name not in old.accounts]
    removed = [name for name in old.accounts if name not in new.accounts]
    if added or removed:
        log.info(
            "account store: added %s; removed %s",
            ", ".join(added) or "none",
            ", ".join(removed) or "none",
        )
