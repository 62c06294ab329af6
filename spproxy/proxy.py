"""The parts of the pipeline, built once per process and reconfigured in place on reload.

One ClientSession (keep-alive, no redirects, no proxies from the environment), one LWA token
cache, one RDT cache, one set of rate-limit buckets, one operation table. A reload or an account
store change swaps the configuration under them: requests in flight finish with what they started
with, caches survive except for accounts changed or gone, and buckets keep their state.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from prometheus_client.registry import CollectorRegistry

from spproxy import outbound
from spproxy.audit import AuditLog
from spproxy.clients import ClientAccess
from spproxy.config import Account, Config, ConfigError
from spproxy.credentials import Credentials
from spproxy.errors import BadRequest
from spproxy.headers import ACCOUNT_HEADER
from spproxy.keeper import TokenKeeper
from spproxy.lwa import LwaTokens
from spproxy.metrics import Metrics, Readings, exposition, make_registry
from spproxy.operations import OperationTable, load_table
from spproxy.ratelimit import RateLimiter
from spproxy.rdt import RestrictedDataTokens
from spproxy.reports import ReportTypes
from spproxy.tokensapi import TOKENS_API, TokensApi
from spproxy.upstream import Upstream, default_user_agent

if TYPE_CHECKING:
    from spproxy.onboarding import Onboarding
    from spproxy.sharedstate import SharedState
    from spproxy.storedaccounts import StoredAccounts

log = logging.getLogger("spproxy")

ConfigLoader = Callable[[], Config]  # re-reads the config (and secret files) for a reload
FAILURES_SHOWN = 100  # accounts /_spproxy/ready names the failure of, at most
NAMES_SHOWN = 20  # accounts a message or a log line names, at most (there may be thousands)


@dataclass
class Proxy:
    config: Config
    table: OperationTable
    session: aiohttp.ClientSession
    limiter: RateLimiter
    tokens: LwaTokens
    rdts: RestrictedDataTokens
    credentials: Credentials
    upstream: Upstream
    clients: ClientAccess
    audit: AuditLog | None
    metrics: Metrics
    keeper: TokenKeeper
    state: SharedState | None = None  # Redis shared with other replicas; None: memory only
    loader: ConfigLoader | None = None  # re-reads the config (and secret files): reload
    stored: StoredAccounts | None = None  # the account store's accounts, merged and followed
    onboarding: Onboarding | None = None  # sellers authorizing the app (needs the store)
    loaded_at: float = field(default_factory=time.time)  # when this config was (re)loaded
    reloads: int = 0
    clock: Callable[[], float] = time.time  # the wall clock tokens expire on (see build)
    registry: CollectorRegistry = field(init=False)  # this proxy's own metrics registry

    def __post_init__(self) -> None:
        self.registry = make_registry(self.metrics, self.readings)

    @classmethod
    def build(
        cls,
        config: Config,
        *,
        loader: ConfigLoader | None = None,
        rdt_bundle_limit: int = 50,
        clock: Callable[[], float] = time.time,
    ) -> Proxy:
        # `clock`: the wall clock LWA tokens and RDTs expire on, for every part that compares
        # with their expiry; a fake one lets the benchmark live hours of RDTs in seconds.
        session = outbound.session(config)
        state = outbound.shared_state(config)
        table = load_table()
        limits = config.limits
        limiter = RateLimiter(
            queue_timeout_s=config.upstream.queue_timeout_s,
            shared=state,
            local_share=config.state.local_share if config.state else 1.0,
        )
        tokens = LwaTokens(
            session, config.lwa, timeout_s=config.upstream.timeout_s, clock=clock, shared=state
        )
        upstream = outbound.upstream(session, config, limiter)
        tokens_operation = table.classify("POST", TOKENS_API.path)
        mint = TokensApi(upstream, tokens, operation=tokens_operation, clock=clock).mint
        rdts = RestrictedDataTokens(
            mint,
            bundle_limit=rdt_bundle_limit,
            document_limit=limits.document_rdts,
            clock=clock,
            shared=state,
        )
        report_types = ReportTypes(maxsize=limits.report_documents, shared=state)
        credentials = Credentials(tokens, rdts, report_types)
        audit = AuditLog(config.audit_log) if config.audit_log else None
        clients = ClientAccess(
            config.clients, table, report_types, issued_limit=limits.issued_tokens, state=state
        )
        return cls(
            config,
            table,
            session,
            limiter,
            tokens,
            rdts,
            credentials,
            upstream,
            clients,
            audit,
            Metrics(),
            TokenKeeper(tokens, clock=clock),
            state,
            loader,
            clock=clock,
        )

    def account(self, name: str | None) -> Account:
        """x-spproxy-account: an account's name, else a selling partner id; none: the default."""
        accounts = self.config.accounts
        if name:
            account = accounts.get(name) or self.config.selling_partners.get(name)
        else:  # none yet with an account store, before the first seller authorized
            account = next(iter(accounts.values()), None)
        if account is None:
            unknown = f"Unknown account {name!r} in {ACCOUNT_HEADER}" if name else "No account yet"
            shown = first_names(accounts, len(accounts)) or "none"
            raise BadRequest(f"{unknown}.", f"Configured: {shown}.")
        return account

    def reload(self) -> list[str]:
        """Re-read the config and secret files and apply them (SIGHUP, POST /_spproxy/reload);
        the problems if the new config was refused, and then the running one stays."""
        if self.loader is None:
            problem = "this spproxy has no config file or environment to re-read (the demo)"
            log.warning("reload refused: %s", problem)
            return [problem]
        try:
            config = self.loader()
        except ConfigError as error:
            for problem in error.problems:
                log.error("reload refused, the running config stays: %s", problem)
            return error.problems
        self.reconfigure(config)
        self.loaded_at, self.reloads = time.time(), self.reloads + 1
        log.info(
            "reloaded the config from %s; accounts: %s",
            config.source,
            first_names(config.accounts, len(config.accounts)),
        )
        return []

    def reconfigure(self, config: Config) -> None:
        old = self.config
        for name, account in old.accounts.items():
            new = config.accounts.get(name)
            if new != account:  # a new refresh token, region, ... or gone
                self.tokens.forget(name)
                self.rdts.forget(name)
            if new is None or new.sandbox != account.sandbox:  # other plans (ratelimit.py)
                self.limiter.forget(name)
        restart_only: dict[str, Callable[[Config], object]] = {
            "listen (host, port, header_timeout_s, TLS)": lambda c: replace(
                c.listen, body_timeout_s=0
            ),
            "audit_log": lambda c: c.audit_log,
            "onboarding": lambda c: c.onboarding,
            "state": lambda c: c.state,
            "account_store": lambda c: c.account_store,
            "limits": lambda c: c.limits,
            "upstream.proxy, upstream.trust_env": lambda c: (
                c.upstream.proxy,
                c.upstream.trust_env,
            ),
        }
        for what, part in restart_only.items():
            if part(config) != part(old):
                log.warning("reload: a change of %s takes a restart; the old one stays", what)
        self.clients.reconfigure(config.clients)
        self.keeper.reconfigure(config.accounts.values())
        self.tokens.reconfigure(config.lwa, config.upstream.timeout_s)
        self.limiter.reconfigure(config.upstream.queue_timeout_s)
        same_signers = config.aws == old.aws and config.accounts == old.accounts  # one per account
        self.upstream.reconfigure(
            config.upstream,
            config.user_agent or default_user_agent(),
            self.upstream.signers if same_signers else outbound.signers(self.session, config),
        )
        self.config = config

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Whether /_spproxy/ready says 200, by the configured rule, and what it shows."""
        now = self.clock()
        accounts = self.config.accounts
        holding = sum(1 for a in accounts.values() if (self.tokens.expiry(a) or 0) > now)
        rule = self.config.readiness
        if rule == "default" and accounts:
            ready = (self.tokens.expiry(self.config.default_account) or 0) > now
        else:  # with no account yet (an account store), nothing to wait for whatever the rule
            ready = holding == len(accounts) if rule != "any" else holding > 0 or not accounts
        failures = self.tokens.failures
        body: dict[str, Any] = {
            "status": "ready" if ready else "not ready",
            "rule": rule,
            "accounts_total": len(accounts),
            "accounts_holding_a_token": holding,
            "accounts_failing": len(failures),
            "accounts": dict(itertools.islice(failures.items(), FAILURES_SHOWN)),  # why they fail
        }
        if self.state is not None and self.config.state is not None:  # ready either way
            share = self.config.state.local_share
            body["shared_state"] = (
                "up" if self.state.up else f"down: local state, {share:.0%} of each usage plan"
            )
        return ready, body

    async def aclose(self) -> None:
        await self.keeper.aclose()
        if self.audit is not None:
            self.audit.close()
        await self.rdts.aclose()
        await self.tokens.aclose()
        await self.upstream.aclose()
        await self.session.close()
        if self.state is not None:
            await self.state.aclose()

    def metrics_text(self) -> bytes:
        return exposition(self.registry)

    def readings(self) -> Readings:
        """What the pipeline's parts count, for the metrics at scrape time."""
        return Readings(
            lwa_exchanges=self.tokens.outcomes,
            rdt_mints=self.rdts.outcomes,
            client_rdts_replaced=self.clients.client_rdts_replaced,
            buckets=self.limiter.buckets,
            throttled=self.upstream.throttled,
            retries=self.upstream.retries,
            token_expiry={
                name: expires_at
                for name, account in self.config.accounts.items()
                if (expires_at := self.tokens.expiry(account)) is not None
            },
            token_failing=list(self.tokens.failures),
            ready=self.readiness()[0],
            shared_state_up=self.state.up if self.state is not None else None,
        )


PROXY = web.AppKey("proxy", Proxy)


def first_names(names: Iterable[str], count: int) -> str:
    """The first NAMES_SHOWN of `count` names, and how many more: a message or a log line stays
    short with thousands of accounts."""
    shown = ", ".join(itertools.islice(names, NAMES_SHOWN))
    return f"{shown} and {count - NAMES_SHOWN:,} more" if count > NAMES_SHOWN else shown
