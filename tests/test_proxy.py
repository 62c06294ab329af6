"""The running parts: built on the clock given; reconfigured in place, what a reload keeps and
what it drops; the account a request names; what many accounts cost (memory, and no walk past
them per request)."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import replace
from types import MappingProxyType

from aiohttp.test_utils import TestServer

from spproxy.config import Account, Client, Secret
from spproxy.configread import parse_config
from spproxy.configyaml import load_yaml
from spproxy.emulator import DEMO_REFRESH_TOKEN, EmulatorConfig, make_emulator_app
from spproxy.proxy import NAMES_SHOWN, PROXY, Proxy, first_names
from tests.harness import StartHarness, proxy_config

ADDRESS = "/orders/v0/orders/902-1845936-5435065/address"
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"


async def test_a_reload_keeps_tokens_of_unchanged_accounts_and_drops_changed_ones(
    start: StartHarness,
) -> None:
    emulator = EmulatorConfig(
        refresh_tokens={DEMO_REFRESH_TOKEN: "A1", "Atzr|b": "A2", "Atzr|b2": "A2"}
    )
    harness = await start(emulator, accounts={"a": DEMO_REFRESH_TOKEN, "b": "Atzr|b"})
    b = {"x-spproxy-account": "b"}
    for headers in ({}, b):
        assert (await harness.proxy.get(ADDRESS, headers=headers)).status == 200
    amazon = harness.amazon
    assert (amazon.lwa_exchanges["refresh_token"], len(amazon.rdt_mints)) == (2, 2)

    proxy = harness.proxy.app[PROXY]
    accounts = dict(proxy.config.accounts)
    accounts["b"] = replace(accounts["b"], refresh_token=Secret("Atzr|b2"))  # re-authorised
    proxy.reconfigure(replace(proxy.config, accounts=MappingProxyType(accounts)))

    for headers in ({}, b):
        assert (await harness.proxy.get(ADDRESS, headers=headers)).status == 200
    # a: the same LWA token and RDT; b: a fresh exchange with the new refresh token, a new mint
    assert (amazon.lwa_exchanges["refresh_token"], len(amazon.rdt_mints)) == (3, 3)
    assert (
        amazon.requests[-1].headers["x-amz-access-token"]
        != amazon.requests[-4].headers["x-amz-access-token"]
    )


async def test_build_puts_token_expiry_and_readiness_on_the_clock_given(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> None:
    server = await aiohttp_server(make_emulator_app())
    config = proxy_config(str(server.make_url("")).rstrip("/"))
    now = [1_000_000.0]  # long ago on the wall clock
    proxy = Proxy.build(config, clock=lambda: now[0])
    try:
        account = config.default_account
        await proxy.tokens.refresh(account)
        assert proxy.tokens.expiry(account) == now[0] + EmulatorConfig().token_ttl_s
        assert proxy.readiness()[0]
        now[0] += EmulatorConfig().token_ttl_s
        assert not proxy.readiness()[0]
    finally:
        await proxy.aclose()


async def test_x_spproxy_account_names_an_account_or_its_selling_partner_id(
    start: StartHarness,
) -> None:
    emulator = EmulatorConfig(refresh_tokens={DEMO_REFRESH_TOKEN: "A1", "Atzr|b": "A2"})
    harness = await start(
        emulator,
        accounts={"a": DEMO_REFRESH_TOKEN, "b": "Atzr|b"},
        selling_partner_ids={"b": "A2SELLERB"},
    )
    amazon = harness.amazon
    for header, seller in (("A2SELLERB", "A2"), ("b", "A2"), ("a", "A1")):
        answer = await harness.proxy.get(PARTICIPATIONS, headers={"x-spproxy-account": header})
        assert answer.status == 200, header
        token = amazon.requests[-1].headers["x-amz-access-token"]
        assert amazon.tokens[token].selling_partner_id == seller, header
    unknown = await harness.proxy.get(PARTICIPATIONS, headers={"x-spproxy-account": "A9NOBODY"})
    assert unknown.status == 400
    assert (await unknown.json())["errors"][0]["details"] == "Configured: a, b."


async def test_an_account_a_reload_adds_is_signed_like_the_others(start: StartHarness) -> None:
    harness = await start(signing=True)  # the emulator checks every signature
    proxy = harness.proxy.app[PROXY]
    accounts = dict(proxy.config.accounts)
    accounts["added"] = replace(accounts["main"], name="added")  # onboarded, say
    proxy.reconfigure(replace(proxy.config, accounts=MappingProxyType(accounts)))
    for name in ("main", "added"):
        headers = {"x-spproxy-account": name}
        answer = await harness.proxy.get("/sellers/v1/marketplaceParticipations", headers=headers)
        assert answer.status == 200, name


class Walked(Mapping[str, Account]):
    """Accounts that count every one anything walks past (a scan, a join, values())."""

    def __init__(self, accounts: Mapping[str, Account]) -> None:
        self._accounts = dict(accounts)
        self.walked = 0

    def __getitem__(self, name: str) -> Account:
        return self._accounts[name]

    def __len__(self) -> int:
        return len(self._accounts)

    def __iter__(self) -> Iterator[str]:
        for name in self._accounts:
            self.walked += 1
            yield name


async def test_a_request_walks_past_no_list_of_accounts(start: StartHarness) -> None:
    names = [f"a{i}" for i in range(1000)]
    key = "k" * 16
    harness = await start(
        accounts=dict.fromkeys(names, DEMO_REFRESH_TOKEN),
        selling_partner_ids={"a999": "A2LAST"},
        clients={"all": Client("all", Secret(key), accounts=tuple(names))},  # granted every one
    )
    proxy = harness.proxy.app[PROXY]
    accounts = Walked(proxy.config.accounts)
    proxy.reconfigure(replace(proxy.config, accounts=accounts))
    named = [{}, {"x-spproxy-account": "a500"}, {"x-spproxy-account": "A2LAST"}]
    for headers in named:  # first: a token each, and the selling partner ids, once per config
        answer = await harness.proxy.get(PARTICIPATIONS, headers={**headers, "x-spproxy-key": key})
        assert answer.status == 200, headers
    accounts.walked = 0
    for headers in [*named, {"x-spproxy-account": "A9NOBODY"}]:
        await harness.proxy.get(PARTICIPATIONS, headers={**headers, "x-spproxy-key": key})
    # The default account is the first one walked past; an unknown one's 400 names 20.
    assert accounts.walked <= 1 + NAMES_SHOWN
    unknown = await harness.proxy.get(
        PARTICIPATIONS, headers={"x-spproxy-account": "A9NOBODY", "x-spproxy-key": key}
    )
    assert (await unknown.json())["errors"][0]["details"] == (
        f"Configured: {', '.join(names[:NAMES_SHOWN])} and 980 more."
    )


def _accounts_file(count: int) -> str:
    lines = ["lwa: {client_id: amzn1.application-oa2-client.x, client_secret: s}", "accounts:"]
    lines += [
        f"  seller-{i:05}: {{refresh_token: 'Atzr|{i:0>60}', region: na}}" for i in range(count)
    ]
    return "\n".join(lines) + "\n"


async def _bytes_held(count: int) -> tuple[int, int]:
    """What reading a file of `count` accounts, building the proxy and scheduling every account's
    token holds, and held at its peak, in bytes allocated (tracemalloc: counted, not timed)."""
    text = _accounts_file(count)
    gc.collect()
    tracemalloc.start()
    try:
        config = parse_config(load_yaml(text), {})
        proxy = Proxy.build(config)
        proxy.keeper.reconfigure(config.accounts.values())
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    await proxy.aclose()
    return held, peak


async def test_an_account_costs_little_memory() -> None:
    await _bytes_held(1)  # what is loaded once (the operation table) out of the comparison
    one_held, one_peak = await _bytes_held(1)
    many_held, many_peak = await _bytes_held(1001)
    # about 500 bytes each now; PyYAML's node graph alone was 2.9 KiB an account at its peak
    assert (many_held - one_held) / 1000 < 1024
    assert (many_peak - one_peak) / 1000 < 1024


def test_a_message_or_log_line_names_20_accounts_and_counts_the_rest() -> None:
    assert first_names(["a", "b"], 2) == "a, b"
    assert first_names([], 0) == ""
    names = [f"a{i}" for i in range(10_000)]
    assert first_names(iter(names), 10_000) == f"{', '.join(names[:20])} and 9,980 more"
