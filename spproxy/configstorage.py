"""The sections for what spproxy keeps outside its process: state shared by replicas in Redis
(`state:`), and the account store, the sellers who authorized the app (`account_store:`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from spproxy.configbase import Secret, setting

# No password in a URL (`password` or `password_file`): URLs end up in messages and status.
NAMESPACE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
REDIS_URL = re.compile(r"(rediss?://[^@/\s?#]+(/\d+)?|unix:///[^@\s?#]+)")
# SQLAlchemy's convention: sqlite:///relative.db, sqlite:////absolute.db. PostgreSQL: a user but
# no password, a database, and query parameters for the driver (asyncpg: ssl=verify-full, ...).
SQLITE_URL = re.compile(r"sqlite:///[^?#\s]+")
POSTGRES_URL = re.compile(r"postgres(ql)?://([^:@/\s?#]+@)?[^@/\s?#]*/[^/\s?#]+(\?[^#\s]*)?")
STORE_URL = re.compile(f"{SQLITE_URL.pattern}|{POSTGRES_URL.pattern}")


@dataclass(frozen=True)
class StateConfig:
    """Redis (or Valkey) shared by every replica of one app: tokens, buckets, what was learned."""

    url: str = setting(
        doc="Redis to share state through; rediss:// for TLS",
        pattern=(REDIS_URL, "redis://host:6379/0, rediss://host:6380/0 or unix:///path"),
    )
    key: Secret = setting(doc="seals tokens at rest: 32 random bytes, base64")
    username: str | None = setting(None, "Redis ACL user")
    password: Secret | None = setting(None, "Redis's password")
    tls_ca_file: str | None = setting(None, "PEM CA(s) to verify a rediss:// server", path=True)
    sentinel_service: str | None = setting(None, "Sentinel: the service name; url names a sentinel")
    cluster: bool = setting(False, "Redis Cluster: url names one of its nodes")
    namespace: str | None = setting(
        None,
        "every key's prefix (default: from lwa.client_id): one per app",
        pattern=(NAMESPACE, "letters, digits, _ . -, 64 at most"),
    )
    local_share: float = setting(
        0.5, "share of each usage plan a replica takes while Redis is down", low=0.01, high=1
    )
    timeout_s: float = setting(0.5, "each Redis call's limit; then local state", low=0.01)
    retry_s: float = setting(5.0, "after Redis failed, how long until it is tried again", low=0.1)
    lock_timeout_s: float = setting(
        10.0, "a replica that dies fetching a token delays the others at most this long", low=1
    )


@dataclass(frozen=True)
class AccountStoreConfig:
    """Where the sellers who authorized the app are kept: one SQLite file, or PostgreSQL that
    several replicas share. Merged with the file's `accounts:` (a name in both is an error)."""

    url: str = setting(
        doc="sqlite:///FILE (relative to the config file; sqlite:////ABSOLUTE) or "
        "postgresql://USER@HOST[:PORT]/DATABASE for several replicas",
        pattern=(STORE_URL, "sqlite:///accounts.db or postgresql://spproxy@db:5432/spproxy"),
    )
    key: Secret = setting(doc="seals refresh tokens at rest: 32 random bytes, base64")
    password: Secret | None = setting(None, "PostgreSQL's password")
    poll_s: float = setting(
        1.0, "how soon accounts added, removed or renamed elsewhere take effect here", low=0.1
    )
    timeout_s: float = setting(
        5.0, "each store call's limit (connecting, waiting for a lock, a query)", low=0.1
    )


@dataclass(frozen=True)
class OnboardingConfig:
    """Sellers authorize the app through Amazon's workflows; their refresh tokens go to the
    account store (account_store: is required)."""

    application_id: str = setting(
        doc="the app's id in Solution Provider Portal (amzn1.sp.solution...)"
    )
    redirect_uri: str = setting(
        doc="where Amazon sends the seller back: https://HOST/_spproxy/onboarding/callback, "
        "registered with the app (http only on loopback; spproxy authorize uses its own)",
        url="any",
    )
    draft: bool = setting(False, "a draft app: consent URLs carry version=beta")
    appstore: bool = setting(
        False, "answer the Appstore workflow's login URI (/_spproxy/onboarding/login)"
    )
    consent_url: str | None = setting(
        None, "instead of Seller/Vendor Central (the emulator, for tests and the demo)", url="host"
    )
