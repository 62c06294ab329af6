"""/_spproxy/status: what spproxy holds, for operators, assembled from each owner's snapshot.

Never a secret or a token; bounded whatever the traffic: counts, and at most PAGE entries of
each list (accounts, clients, RDTs, buckets).
"""

from __future__ import annotations

import itertools
import os
import time
from typing import Any

from spproxy import __version__
from spproxy.addresses import redact_url
from spproxy.config import Config
from spproxy.proxy import Proxy

PAGE = 100  # entries of each list the status shows at most


def status(proxy: Proxy) -> dict[str, Any]:
    config = proxy.config
    rdts = proxy.rdts.snapshot(PAGE)
    for entry in rdts["page"]:
        entry["expires_at"] = iso(entry["expires_at"])
    return {
        "version": __version__,
        **_settings(config, proxy.loaded_at, proxy.reloads),
        "accounts_total": len(config.accounts),
        "accounts": _accounts(proxy),
        "restricted_data_tokens": rdts,
        **proxy.limiter.snapshot(PAGE),
        **proxy.credentials.report_types.snapshot(),
        **proxy.clients.snapshot(PAGE),
        "pid": os.getpid(),  # which worker answered (serve --workers)
        "audit_log": config.audit_log.path if config.audit_log else None,
        "shared_state": proxy.state.snapshot() if proxy.state else {"backend": "memory"},
        "lwa_exchanges": proxy.tokens.exchanges,
        "rdt_mints": proxy.rdts.mints,
    }


def _settings(config: Config, loaded_at: float, reloads: int) -> dict[str, Any]:
    """The config in effect: where from, since when, and the switches that change a call."""
    return {
        "config": config.source,
        "config_loaded_at": iso(loaded_at),
        "reloads": reloads,
        "signing": config.aws is not None,
        "pacing": config.upstream.pacing,
        "outbound_proxy": redact_url(config.upstream.proxy or "") or None,
        "tls": config.listen.tls_cert_file is not None,
    }


def _accounts(proxy: Proxy) -> dict[str, dict[str, Any]]:
    """The first PAGE accounts: where they go, and their tokens (expiry, failure, RDT count)."""
    accounts = list(itertools.islice(proxy.config.accounts.values(), PAGE))
    tokens = proxy.tokens.snapshot(accounts)
    rdts = proxy.rdts.counts()
    return {
        account.name: {
            "region": account.region,
            "endpoint": redact_url(account.endpoint),
            "sandbox": account.sandbox,
            "data_elements": list(account.data_elements),
            "lwa_token_expires_at": iso(tokens[account.name]["lwa_token_expires_at"]),
            "last_token_failure": tokens[account.name]["last_token_failure"],
            "restricted_data_tokens": rdts[account.name],
        }
        for account in accounts
    }


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
