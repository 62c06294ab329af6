"""The status document: assembled from the owners' snapshots, bounded, never a secret."""

from __future__ import annotations

import json
from dataclasses import replace
from types import MappingProxyType

from spproxy.config import Client, Secret
from spproxy.proxy import PROXY, Proxy
from spproxy.status import PAGE, iso, status
from tests.harness import Harness, proxy_config

ADDRESS = "/orders/v0/orders/902-1845936-5435065/address"


async def test_every_list_is_one_page_however_many_accounts_and_clients() -> None:
    accounts = {f"seller-{n}": f"Atzr|refresh-{n}" for n in range(PAGE + 50)}
    clients = {
        f"client-{n}": Client(f"client-{n}", Secret(f"key-{n}-secret"), pii=n % 2 == 0)
        for n in range(PAGE + 20)
    }
    config = proxy_config("http://127.0.0.1:9", accounts=accounts, clients=clients)
    proxy = Proxy.build(config)
    try:
        document = status(proxy)
    finally:
        await proxy.aclose()
    assert document["accounts_total"] == PAGE + 50 and len(document["accounts"]) == PAGE
    assert len(document["clients"]) == PAGE
    assert document["clients"]["client-0"] == {
        "accounts": "all",
        "operations": ["*"],
        "pii": True,
        "data_elements": "the account's",
    }
    assert document["accounts"]["seller-0"]["lwa_token_expires_at"] is None  # none exchanged
    shown = json.dumps(document)
    assert "Atzr|" not in shown and "secret" not in shown


async def test_tokens_rdts_and_reloads_show_as_counts_and_times(harness: Harness) -> None:
    assert (await harness.proxy.get(ADDRESS)).status == 200
    proxy = harness.proxy.app[PROXY]
    reloaded = replace(proxy.config, clients=MappingProxyType({}))
    proxy.loader = lambda: reloaded
    assert proxy.reload() == []
    document = status(proxy)
    main = document["accounts"]["main"]
    assert main["lwa_token_expires_at"] == iso(proxy.tokens.expiry(proxy.config.default_account))
    assert main["lwa_token_expires_at"].endswith("Z") and main["restricted_data_tokens"] == 1
    (rdt,) = document["restricted_data_tokens"]["page"]
    assert rdt["path"] == "/orders/v0/orders/{orderId}/address" and rdt["expires_at"].endswith("Z")
    assert (document["lwa_exchanges"], document["rdt_mints"], document["reloads"]) == (1, 1, 1)
    assert rdt["account"] == "main"
    issued = list(harness.amazon.tokens)  # the LWA token and the RDT
    assert len(issued) == 2 and not any(token in json.dumps(document) for token in issued)


def test_iso_is_utc_to_the_second() -> None:
    assert iso(0) == "1970-01-01T00:00:00Z" and iso(None) is None
