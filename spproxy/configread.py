"""A parsed config document read along the declarations (`spproxy.config`) into a Config.

Every problem is reported as one line naming the key (and the missing variable or file), all at
once, so an operator fixes a config in one pass; then checks across keys (TLS files in pairs,
clients' keys and grants) run on what could be read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_args
from urllib.parse import urlsplit

from spproxy.addresses import is_loopback
from spproxy.config import (
    ACCOUNT_NAME,
    Account,
    AccountStoreConfig,
    AuditLogConfig,
    Config,
    ConfigError,
    Secret,
    regional,
)
from spproxy.configkeys import Key, keys_of
from spproxy.configstorage import SQLITE_URL, OnboardingConfig
from spproxy.configvalues import UNSET, ValueReader


def parse_config(
    raw: object, env: Mapping[str, str], *, source: str = "<memory>", base_dir: Path = Path()
) -> Config:
    """Validate a parsed YAML document; raise ConfigError listing every problem."""
    reader = _DocumentReader(env, base_dir)
    values = reader.section(Config, raw if raw is not None else {}, "", partial=True)
    if values is not None:
        reader.check_config(values)
        reader.check_storage(values, base_dir)
    if reader.problems or values is None:
        raise ConfigError(reader.problems or ["the configuration is empty"])
    return Config(**values, source=source)


class _DocumentReader(ValueReader):
    """Walks the raw document along the dataclasses. A section with a problem reads as None, a
    key as UNSET; the caller raises at the end, with every problem found."""

    def section(
        self, cls: type[Any], raw: object, key: str, *, partial: bool = False
    ) -> dict[str, Any] | None:
        """The constructor arguments of `cls` from a mapping; None after a problem, unless
        `partial` (what could be read, for checks across keys)."""
        if not isinstance(raw, dict):
            self.problem(key or "config", "must be a mapping of keys to values")
            return None
        keys = keys_of(cls)
        for name in raw:
            if name not in keys.accepted:
                where = f"{key}.{name}" if key else str(name)
                self.problem(where, f"unknown key (expected one of {keys.expected})")
        values: dict[str, Any] = {}
        complete = True
        for each in keys.keys:
            name = each.spec.name
            value = self.value(each, raw, f"{key}.{name}" if key else name)
            if value is UNSET:
                complete = False
            elif value is not dataclasses.MISSING:
                values[name] = value
        return values if complete or partial else None

    def value(self, each: Key, raw: dict[str, Any], key: str) -> Any:
        """The key's value; MISSING to take the default; UNSET after a problem."""
        spec, name, required = each.spec, each.spec.name, each.required
        if each.secret:
            secret = self.secret(raw, name, key, required)
            if secret is UNSET or secret is None:
                return UNSET if (secret is UNSET or required) else dataclasses.MISSING
            return secret.reveal() if each.kind is str else secret
        if raw.get(name) is None:
            if required:
                choices = spec.metadata.get("choices")
                hint_text = f" (one of {', '.join(choices)})" if choices else ""
                is_mapping = each.section or each.origin is Mapping
                self.problem(
                    key, "required section is missing" if is_mapping else f"required{hint_text}"
                )
                return UNSET
            return dataclasses.MISSING
        return self.typed(each, raw[name], key)

    def typed(self, each: Key, raw: object, key: str) -> Any:
        rules, kind = each.spec.metadata, each.kind
        if each.section:
            if kind is AuditLogConfig and isinstance(raw, str):
                raw = {"path": raw}  # `audit_log: PATH` alone
            values = self.section(kind, raw, key)
            if values is None:
                return UNSET
            return kind(**values)
        if each.origin is Mapping:
            return self.named(get_args(kind)[1], raw, key)
        if each.origin is tuple:
            return self.names(raw, key, rules.get("choices"))
        expanded = self.expand(raw, key)
        if expanded is UNSET:
            return UNSET
        if kind is bool:
            return self.boolean(expanded, key)
        if kind in (int, float):
            return self.number(expanded, key, kind, rules.get("low"), rules.get("high"))
        return self.text(expanded, key, rules)

    def named(self, cls: type[Any], raw: object, key: str) -> Any:
        """accounts: / clients: — a mapping of names to sections of `cls`."""
        if not isinstance(raw, dict):
            self.problem(key, "must be a mapping of keys to values")
            return UNSET
        entries = {}
        for name, body in raw.items():
            where = f"{key}.{name}"
            if not isinstance(name, str) or not ACCOUNT_NAME.match(name):
                self.problem(where, "names may use letters, digits, '_', '.' and '-'")
                continue
            if body is None:
                self.problem(where, "required section is missing")
                continue
            values = self.section(cls, body, where)
            if values is None:
                continue
            if cls is Account:
                values = regional(values)
            entries[name] = cls(name=name, **values)
        # The entries read, even if some could not be: their problems are reported already,
        # and checks across entries (clients' keys, grants) still see the good ones.
        return MappingProxyType(entries)

    def check_config(self, values: dict[str, Any]) -> None:
        """What no single key can say: TLS files in pairs, selling partner ids, clients' keys
        and grants."""
        listen = values.get("listen")
        if listen is not None and (listen.tls_cert_file is None) != (listen.tls_key_file is None):
            self.problem("listen", "set tls_cert_file and tls_key_file together")
        if listen is not None and listen.tls_client_ca_file and not listen.tls_cert_file:
            self.problem("listen.tls_client_ca_file", "needs tls_cert_file and tls_key_file")
        accounts = values.get("accounts", {})
        self.check_selling_partners(accounts)
        stored = values.get("account_store") is not None
        if not accounts and not stored and not any(p.startswith("accounts") for p in self.problems):
            self.problem("accounts", "must name at least 1 (or configure account_store:)")
        keys: list[Secret] = []
        for client in values.get("clients", {}).values():
            key = f"clients.{client.name}"
            if len(client.key.reveal()) < 16:
                self.problem(f"{key}.key", "must be at least 16 characters (use a random one)")
            if client.key in keys:
                self.problem(f"{key}.key", "is the same as another client's key")
            keys.append(client.key)
            for account in client.accounts or ():
                if account not in accounts and not stored:  # else it may be a stored one
                    self.problem(f"{key}.accounts", f"names no configured account: {account}")

    def check_selling_partners(self, accounts: Mapping[str, Account]) -> None:
        """x-spproxy-account names an account, else a selling partner id: each must name one."""
        owners: dict[str, str] = {}
        for account in accounts.values():
            partner = account.selling_partner_id
            if partner is None:
                continue
            key = f"accounts.{account.name}.selling_partner_id"
            if partner in owners:
                self.problem(key, f"is the same as account {owners[partner]}'s")
            elif partner in accounts and partner != account.name:
                self.problem(key, f"is the name of account {partner}")
            owners.setdefault(partner, account.name)

    def check_storage(self, values: dict[str, Any], base_dir: Path) -> None:
        """Redis and the account store: their keys, Sentinel or Cluster, the SQLite file's path."""
        state = values.get("state")
        if state is not None and state.cluster and state.sentinel_service:
            self.problem("state", "set cluster or sentinel_service, not both")
        if state is not None:
            self.check_key("state.key", state.key)
        store: AccountStoreConfig | None = values.get("account_store")
        onboarding = values.get("onboarding")
        if onboarding is not None:
            self.check_onboarding(onboarding, store is not None)
        if store is None:
            return
        self.check_key("account_store.key", store.key)
        if SQLITE_URL.fullmatch(store.url):
            if store.password is not None:
                self.problem("account_store.password", "is for PostgreSQL, not a SQLite file")
            path = base_dir / store.url.removeprefix("sqlite:///")  # an absolute one stays
            url = f"sqlite:///{path.resolve()}"  # sqlite:////abs/path
            values["account_store"] = dataclasses.replace(store, url=url)

    def check_onboarding(self, onboarding: OnboardingConfig, stored: bool) -> None:
        """Onboarded sellers go to the account store; Amazon sends them back over HTTPS."""
        if not stored:
            self.problem("onboarding", "needs account_store: (where sellers' tokens are kept)")
        where = urlsplit(onboarding.redirect_uri)
        if where.scheme != "https" and not is_loopback(where.hostname):
            self.problem("onboarding.redirect_uri", "must be https:// (http only on loopback)")
        if not where.path.endswith("/_spproxy/onboarding/callback"):
            self.problem("onboarding.redirect_uri", "must end in /_spproxy/onboarding/callback")

    def check_key(self, key: str, value: Secret) -> None:
        from spproxy.sealing import parse_key  # cryptography loads only with a key configured

        try:
            parse_key(value.reveal())
        except ValueError as error:
            self.problem(key, str(error))
