"""The configuration's schema: every key declared once, as a field of a frozen dataclass.

A key's name, type, default, bounds, choices and secrecy are in `setting(...)` (`configbase`), its
meaning in `doc`; the sections for Redis and the account store are in `configstorage`. The reader
(`configread`), its unknown-key check and the README's reference table (`configref`) all follow
from these declarations. Secrets are wrapped in `Secret`, whose repr is masked, so a config object
can never print one by accident; each secret key also has a `*_file` variant that reads it from a
file (Docker and Kubernetes secrets).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

from spproxy.configbase import Secret as Secret  # re-exported: the schema is imported from here
from spproxy.configbase import setting
from spproxy.configstorage import AccountStoreConfig as AccountStoreConfig
from spproxy.configstorage import OnboardingConfig as OnboardingConfig
from spproxy.configstorage import StateConfig as StateConfig
from spproxy.regions import REGIONS

DEFAULT_LWA_ENDPOINT = "https://api.amazon.com/auth/o2/token"
DEFAULT_STS_ENDPOINT = "https://sts.amazonaws.com"
DATA_ELEMENTS = ("buyerInfo", "shippingAddress", "buyerTaxInformation")
RESTRICTED_FALLBACKS = ("error", "lwa")
# Amazon's format: "AppName/Version (Language=...; Platform=...)"; the app name may contain
# spaces ("My Selling Tool/2.0 (Language=Java/1.8.0.221; Platform=Windows/10)").
USER_AGENT_SHAPE = re.compile(r"[^/()]*[^\s/()]/[^\s/]+ \(Language=[^)]*\).*", re.DOTALL)
ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::\d{12}:role/.+")


@dataclass(frozen=True)
class Listen:
    host: str = setting("127.0.0.1", "address to listen on; 0.0.0.0 only inside a container")
    port: int = setting(8000, "port; 0 takes a free one and prints it", low=0, high=65535)
    header_timeout_s: float = setting(
        10.0, "a request's headers must be in this long after its first byte, else 408", low=0.1
    )
    body_timeout_s: float = setting(
        60.0, "a request's whole body must be in this long after its headers, else 408", low=0.1
    )
    tls_cert_file: str | None = setting(
        None, "PEM certificate (chain) to serve HTTPS with; with tls_key_file", path=True
    )
    tls_key_file: str | None = setting(None, "PEM private key of tls_cert_file", path=True)
    tls_client_ca_file: str | None = setting(
        None, "PEM CA(s): clients must present a certificate it signed (mutual TLS)", path=True
    )


@dataclass(frozen=True)
class LwaConfig:
    client_id: str = setting(doc="your app's LWA client id", secret=True)
    client_secret: Secret = setting(doc="your app's LWA client secret (rotate every 180 days)")
    endpoint: str = setting(
        DEFAULT_LWA_ENDPOINT, "LWA's token URL (tests, the emulator)", url="any"
    )


@dataclass(frozen=True)
class AwsConfig:
    access_key_id: Secret = setting(doc="AWS access key id: SigV4 signing on")
    secret_access_key: Secret = setting(doc="its secret")
    session_token: Secret | None = setting(None, "for temporary keys")
    role_arn: str | None = setting(
        None,
        "an IAM role to assume through STS, refreshed before it expires",
        pattern=(ROLE_ARN, "arn:aws:iam::123456789012:role/NAME"),
    )
    sts_endpoint: str = setting(DEFAULT_STS_ENDPOINT, "STS's URL", url="host")
    sts_region: str = setting("us-east-1", "the STS endpoint's signing region")


@dataclass(frozen=True, slots=True)  # slots: thousands of accounts, no dict each
class Account:
    name: str = setting(derived=True)
    refresh_token: Secret = setting(doc="the seller's LWA refresh token")
    region: str = setting(doc="the seller's SP-API region", choices=tuple(REGIONS))
    endpoint: str = setting(
        "", "SP-API endpoint; default: the region's (sandbox or not)", url="host"
    )
    aws_region: str = setting("", derived=True)  # SigV4 signing region, from the region
    sandbox: bool = setting(
        False,
        "Amazon's sandbox: its hosts, its plan (5/s burst 15), restricted calls with the LWA "
        "token (sandbox-lwa)",
    )
    data_elements: tuple[str, ...] = setting(
        ("buyerInfo", "shippingAddress"),
        "the PII Orders getOrders/getOrder/getOrderItems release",
        choices=DATA_ELEMENTS,
    )
    restricted_fallback: str = setting(
        "error",
        "a refused RDT: error (502), or lwa (the LWA token, no PII)",
        choices=RESTRICTED_FALLBACKS,
    )
    selling_partner_id: str | None = setting(
        None,
        "the seller's selling partner id (merchant token): x-spproxy-account may name it",
        pattern=(ACCOUNT_NAME, "A2EXAMPLESELLER (letters, digits, _ . -)"),
    )


@dataclass(frozen=True)
class UpstreamConfig:
    timeout_s: float = setting(
        30.0, "connecting, and each wait for Amazon's bytes; then 504", low=0.001
    )
    max_body_bytes: int = setting(10 * 1024 * 1024, "larger request bodies get 413", low=0)
    pacing: bool = setting(True, "wait for each operation's rate-limit slot instead of a 429")
    queue_timeout_s: float = setting(30.0, "longest wait for a slot; then a proxy-made 429", low=0)
    retries: int = setting(
        3, "retries after the first attempt (429, 5xx, connection)", low=0, high=10
    )
    backoff_s: float = setting(0.5, "first retry delay; doubles each time, with jitter", low=0)
    max_backoff_s: float = setting(20.0, "longest delay; a longer Retry-After is relayed", low=0)
    proxy: str | None = setting(
        None,
        "outbound HTTP(S) proxy for LWA, Tokens, STS and SP-API, http://[user:pass@]host:port",
        url="host",
    )
    trust_env: bool = setting(
        False, "use HTTP(S)_PROXY / NO_PROXY from the environment (otherwise ignored)"
    )


@dataclass(frozen=True)
class Client:
    """A local client of spproxy, known by its key, and what it may do."""

    name: str = setting(derived=True)
    key: Secret = setting(doc="the client's key, 16 characters or more, sent as x-spproxy-key")
    accounts: tuple[str, ...] | None = setting(None, "accounts it may act for (default: all)")
    operations: tuple[str, ...] = setting(("*",), "operation-name globs it may call")
    pii: bool = setting(False, "may it receive buyer PII (and call the Tokens API)")
    data_elements: tuple[str, ...] | None = setting(
        None, "narrows the PII of Orders operations (default: the account's)", choices=DATA_ELEMENTS
    )
    onboarding: bool = setting(
        False, "may it start a seller's onboarding (POST /_spproxy/onboarding)"
    )

    @cached_property
    def granted(self) -> frozenset[str] | None:
        """`accounts` as a set, made once: each request looks its account up in it."""
        return None if self.accounts is None else frozenset(self.accounts)


@dataclass(frozen=True)
class AuditLogConfig:
    path: str = setting(
        doc="file for one JSON line per restricted call (a string alone: this)", path=True
    )
    rotate: str = setting("daily", "when files rotate (UTC)", choices=("daily", "hourly"))
    keep_days: int = setting(90, "days of files kept (Amazon: 90)", low=1)


@dataclass(frozen=True)
class Limits:
    """How many entries each structure keyed by something clients choose may hold."""

    document_rdts: int = setting(1_000, "RDTs minted for one report document each", low=1)
    report_documents: int = setting(100_000, "report document types learned (24 h)", low=1)
    issued_tokens: int = setting(100_000, "client-minted RDTs remembered (1 h)", low=1)


@dataclass(frozen=True, kw_only=True)
class Config:
    listen: Listen = setting(Listen())
    lwa: LwaConfig = setting(doc="your app's Login with Amazon credentials")
    aws: AwsConfig | None = setting(None, "optional: SigV4-sign every call")
    accounts: Mapping[str, Account] = setting(
        doc="one per seller; the first is the default",
        factory=lambda: MappingProxyType({}),  # none only with an account store
    )
    upstream: UpstreamConfig = setting(UpstreamConfig())
    user_agent: str | None = setting(
        None,
        "replaces spproxy's own; Amazon's format, 500 characters at most",
        high=500,  # Amazon's limit
        pattern=(USER_AGENT_SHAPE, "'AppName/1.0 (Language=Python/3.11)' (Amazon's format)"),
    )
    clients: Mapping[str, Client] = setting(
        doc="need-to-know: keys and grants (none: open to the port)",
        factory=lambda: MappingProxyType({}),
    )
    audit_log: AuditLogConfig | None = setting(None, "optional: the audit log")
    limits: Limits = setting(Limits())
    onboarding: OnboardingConfig | None = setting(
        None, "optional: onboard sellers through Amazon's authorization workflows"
    )
    state: StateConfig | None = setting(None, "optional: state shared by replicas (Redis)")
    account_store: AccountStoreConfig | None = setting(
        None, "optional: sellers who authorized the app, kept in SQLite or PostgreSQL"
    )
    readiness: str = setting(
        "default",
        "when /_spproxy/ready says 200: the default account holds a token, or all, or any",
        choices=("default", "all", "any"),
    )
    source: str = setting("<memory>", derived=True)  # where it came from, for messages

    @property
    def default_account(self) -> Account:
        """The first account. (With an account store there may be none yet: see `accounts`.)"""
        for account in self.accounts.values():
            return account
        raise LookupError("no account yet")

    @cached_property
    def selling_partners(self) -> Mapping[str, Account]:
        """Accounts by selling partner id, built once per config (configread refuses twins)."""
        accounts = self.accounts.values()
        return {a.selling_partner_id: a for a in accounts if a.selling_partner_id is not None}


def regional(account: dict[str, Any]) -> dict[str, Any]:
    """An account's fields with the endpoint and signing region its region (and sandbox) imply."""
    region = REGIONS[account["region"]]
    if not account.get("endpoint"):
        sandbox = account.get("sandbox", False)
        account["endpoint"] = region.sandbox_endpoint if sandbox else region.endpoint
    account["aws_region"] = region.aws_region
    return account


class ConfigError(Exception):
    """An unusable configuration; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
