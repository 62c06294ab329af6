"""The running parts: built on the clock given; reconfigured in place, what a reload keeps and
what it drops; the account a request names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from types import MappingProxyType

from aiohttp.test_utils import TestServer

from spproxy.config import Secret
from spproxy.emulator import DEMO_REFRESH_TOKEN, EmulatorConfig, make_emulator_app
from spproxy.proxy import PROXY, Proxy
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
