"""`spproxy check`: is every account's refresh token accepted (the account store's too)? A table,
secrets masked."""

from __future__ import annotations

import time
from collections.abc import Sequence

import aiohttp

from spproxy.addresses import redact_url
from spproxy.config import Config
from spproxy.errors import ProxyError
from spproxy.lwa import LwaTokens


async def check_accounts(config: Config) -> int:
    """Exchange each account's refresh token once and print a table; exit 1 if any failed."""
    if config.account_store is not None:
        from spproxy.storedaccounts import merged_once  # SQLAlchemy loads only with a store

        config = await merged_once(config)
    rows = [("account", "region", "endpoint", "refresh token", "outcome")]
    failed = False
    upstream = config.upstream
    async with aiohttp.ClientSession(trust_env=upstream.trust_env, proxy=upstream.proxy) as session:
        tokens = LwaTokens(session, config.lwa, timeout_s=config.upstream.timeout_s)
        for account in config.accounts.values():
            try:
                await tokens.seller_token(account)
                expiry = tokens.expiry(account)
                outcome = f"ok (token valid {int((expiry or 0) - time.time())} s)"
            except ProxyError as exc:
                failed = True
                outcome = f"FAILED: {exc.message}"
            rows.append(
                (
                    account.name,
                    account.region,
                    redact_url(account.endpoint),
                    mask(account.refresh_token.reveal()),
                    outcome,
                )
            )
    print(f"config: {config.source}; LWA client {mask(config.lwa.client_id)}")
    print_table(rows)
    return 1 if failed else 0


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Columns aligned; the last one, free text, as it is."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]
        )


def mask(secret: str) -> str:
    """Enough to tell two secrets apart, never enough to use one."""
    return f"...{secret[-4:]}" if len(secret) >= 16 else "***"
