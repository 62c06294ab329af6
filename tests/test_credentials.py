"""Which credential a request gets, as Amazon sees it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from spproxy.credentials import Credential
from spproxy.emulator import DEMO_REFRESH_TOKEN, EmulatorConfig, make_emulator_app
from spproxy.emulator.examples import published
from spproxy.proxy import PROXY
from tests.harness import Harness, StartHarness, serve, serve_yaml
from tests.restricted_cases import JORDAN

TURKISH = "406-2947718-7043522"  # a business order with BuyerTaxInformation


def test_the_access_log_names_the_token_kind() -> None:
    kinds = {
        kind: Credential("t", kind).token_kind
        for kind in ("lwa", "rdt-minted", "rdt-cached", "delegated")
    }
    assert kinds == {
        "lwa": "lwa",
        "rdt-minted": "rdt",
        "rdt-cached": "rdt",
        "delegated": "delegated",
    }


async def test_buyer_tax_information_only_when_the_account_lists_it(start: StartHarness) -> None:
    default = await start()
    text = await (await default.proxy.get(f"/orders/v0/orders/{TURKISH}")).text()
    assert "BuyerTaxInformation" not in text
    listing = await start(data_elements=("buyerInfo", "shippingAddress", "buyerTaxInformation"))
    text = await (await listing.proxy.get(f"/orders/v0/orders/{TURKISH}")).text()
    assert "BuyerTaxInformation" in text
    (resource,) = listing.amazon.rdt_mints[0].restricted_resources
    assert resource.data_elements == {"buyerInfo", "shippingAddress", "buyerTaxInformation"}


async def test_get_order_items_takes_buyer_info_only(start: StartHarness) -> None:
    harness = await start(data_elements=("shippingAddress",))
    response = await harness.proxy.get(f"/orders/v0/orders/{JORDAN}/orderItems")
    assert response.status == 200
    assert response.headers["x-spproxy-credential"] == "lwa"  # nothing it could release
    assert harness.amazon.rdt_mints == []
    harness = await start()
    await harness.proxy.get(f"/orders/v0/orders/{JORDAN}/orderItems")
    (resource,) = harness.amazon.rdt_mints[0].restricted_resources
    assert resource.data_elements == {"buyerInfo"}


@pytest.mark.parametrize("header", [" shippingAddress , buyerInfo", "buyerInfo,shippingAddress,"])
async def test_the_header_is_a_forgiving_list(harness: Harness, header: str) -> None:
    response = await harness.proxy.get(
        f"/orders/v0/orders/{JORDAN}", headers={"x-spproxy-data-elements": header}
    )
    assert response.status == 200
    (resource,) = harness.amazon.rdt_mints[0].restricted_resources
    assert resource.data_elements == {"buyerInfo", "shippingAddress"}


async def test_none_on_an_operation_that_only_answers_an_rdt_is_amazons_403(
    harness: Harness,
) -> None:
    response = await harness.proxy.get(
        f"/orders/v0/orders/{JORDAN}/address", headers={"x-spproxy-data-elements": "none"}
    )
    assert response.status == 403  # relayed: the client asked for no PII
    assert "x-spproxy-origin" not in response.headers
    assert harness.amazon.rdt_mints == []


async def test_a_delegated_rdt_is_used_for_restricted_operations_only(harness: Harness) -> None:
    response = await harness.proxy.get(
        "/sellers/v1/marketplaceParticipations", headers={"x-spproxy-rdt": "Atz.sprdt|not-for-this"}
    )
    assert response.status == 200
    assert response.headers["x-spproxy-credential"] == "lwa"
    assert harness.amazon.requests[-1].token_kind == "lwa"


async def test_an_expired_lwa_token_is_renewed_once(harness: Harness) -> None:
    assert (await harness.proxy.get("/sellers/v1/marketplaceParticipations")).status == 200
    harness.amazon.faults.expire_tokens()
    response = await harness.proxy.get("/sellers/v1/marketplaceParticipations")
    assert response.status == 200
    assert [r.status for r in harness.amazon.requests] == [200, 403, 200]
    assert harness.amazon.lwa_exchanges["refresh_token"] == 2


async def test_an_expired_rdt_and_grantless_token_are_renewed(harness: Harness) -> None:
    for path in (f"/orders/v0/orders/{JORDAN}/address", "/notifications/v1/destinations"):
        assert (await harness.proxy.get(path)).status == 200
    harness.amazon.faults.expire_tokens()
    address = await harness.proxy.get(f"/orders/v0/orders/{JORDAN}/address")
    assert address.status == 200 and address.headers["x-spproxy-credential"] == "rdt-minted"
    assert (await harness.proxy.get("/notifications/v1/destinations")).status == 200
    assert harness.amazon.lwa_exchanges["client_credentials"] == 2
    assert len(harness.amazon.rdt_mints) == 2


async def test_a_token_amazon_keeps_refusing_is_renewed_only_once(harness: Harness) -> None:
    assert (await harness.proxy.get("/sellers/v1/marketplaceParticipations")).status == 200
    expired = {"expire": True}

    async def expire_every_token() -> None:  # every token Amazon sees has already expired
        while expired["expire"]:
            harness.amazon.faults.expire_tokens()
            await asyncio.sleep(0)

    keeper = asyncio.create_task(expire_every_token())
    try:
        response = await harness.proxy.get("/sellers/v1/marketplaceParticipations")
    finally:
        expired["expire"] = False
        await keeper
    assert response.status == 403  # relayed after one renewal, not a loop
    assert [r.status for r in harness.amazon.requests][1:] == [403, 403]


async def test_a_403_that_is_not_about_the_token_is_relayed_as_it_is(harness: Harness) -> None:
    response = await harness.proxy.get(
        f"/orders/v0/orders/{JORDAN}/address", headers={"x-spproxy-data-elements": "none"}
    )
    assert response.status == 403
    assert harness.amazon.lwa_exchanges["refresh_token"] == 1
    assert len(harness.amazon.requests) == 1


# --- Sandbox accounts ---------------------------------------------------------------------------

STATIC_SANDBOX = EmulatorConfig(static_sandbox=True)


@pytest.mark.parametrize(
    "path", ["/orders/v0/orders/TEST_CASE_200", "/orders/v0/orders/TEST_CASE_200/address"]
)
async def test_a_sandbox_account_sends_restricted_calls_with_its_lwa_token(
    start: StartHarness, path: str
) -> None:
    """Amazon's static sandbox answers the Tokens API only its two published bodies
    (selling-partner-api-models issue 434): spproxy mints nothing, and the sandbox, which matches
    requests and not token kinds, answers the LWA token."""
    harness = await start(STATIC_SANDBOX, sandbox=True)
    response = await harness.proxy.get(path)
    assert response.status == 200, await response.text()
    assert response.headers["x-spproxy-credential"] == "sandbox-lwa"
    template = harness.proxy.app[PROXY].table.classify("GET", path)
    assert template is not None
    assert await response.json() == published()["GET", template.path].examples[0].response
    assert [r.token_kind for r in harness.amazon.requests] == ["lwa"]
    assert harness.amazon.rdt_mints == []


async def test_a_sandbox_accounts_token_is_renewed_as_such(start: StartHarness) -> None:
    harness = await start(STATIC_SANDBOX, sandbox=True)
    address = "/orders/v0/orders/TEST_CASE_200/address"
    assert (await harness.proxy.get(address)).status == 200
    harness.amazon.faults.expire_tokens()
    response = await harness.proxy.get(address)
    assert response.status == 200
    assert response.headers["x-spproxy-credential"] == "sandbox-lwa"
    assert [r.status for r in harness.amazon.requests] == [200, 403, 200]
    assert harness.amazon.lwa_exchanges["refresh_token"] == 2


async def test_in_a_sandbox_account_the_lwa_token_replaces_only_the_mint(
    start: StartHarness,
) -> None:
    harness = await start(STATIC_SANDBOX, sandbox=True)
    order = "/orders/v0/orders/TEST_CASE_200"
    replaced = await harness.proxy.get(order)
    assert replaced.headers["x-spproxy-credential"] == "sandbox-lwa"
    delegated = await harness.proxy.get(order, headers={"x-spproxy-rdt": "Atz.sprdt|given"})
    assert delegated.headers["x-spproxy-credential"] == "delegated"
    plain = await harness.proxy.get(order, headers={"x-spproxy-data-elements": "none"})
    assert plain.status == 200 and plain.headers["x-spproxy-credential"] == "lwa"


async def test_a_sandbox_accounts_report_documents_need_no_mint_or_retry(
    start: StartHarness,
) -> None:
    harness = await start(STATIC_SANDBOX, sandbox=True)
    document = "/reports/2021-06-30/documents/0356cf79-b8b0-4226-b4b9-0ee058ea5760"
    restricted = {"x-spproxy-report-type": "GET_ORDER_REPORT_DATA_SHIPPING"}
    hinted = await harness.proxy.get(document, headers=restricted)
    assert hinted.status == 200 and hinted.headers["x-spproxy-credential"] == "sandbox-lwa"
    unknown = await harness.proxy.get(document)  # production: LWA, then an RDT after a 403
    assert unknown.status == 200 and unknown.headers["x-spproxy-credential"] == "lwa"
    assert len(harness.amazon.requests) == 2 and harness.amazon.rdt_mints == []


async def test_a_sandbox_account_through_a_real_serve_process(
    aiohttp_server: Callable[..., Awaitable[TestServer]], tmp_path: Path
) -> None:
    """Issue 10's "done when": `sandbox: true`, `endpoint:` the static sandbox, getOrder
    TEST_CASE_200 answers 200."""
    emulator = await aiohttp_server(make_emulator_app(STATIC_SANDBOX))
    url = str(emulator.make_url("")).rstrip("/")
    account = (
        f'  box: {{refresh_token: "{DEMO_REFRESH_TOKEN}", region: na, sandbox: true, '
        f'endpoint: "{url}"}}'
    )
    config = functools.partial(serve_yaml, url, accounts=account)
    async with serve(tmp_path, config) as served, aiohttp.ClientSession() as session:
        for path in ("TEST_CASE_200", "TEST_CASE_200/address"):
            async with session.get(
                f"{served.base}/orders/v0/orders/{path}", headers={"x-spproxy-account": "box"}
            ) as response:
                assert response.status == 200, await response.text()
                assert response.headers["x-spproxy-credential"] == "sandbox-lwa"
                payload = (await response.json())["payload"]
                assert payload["AmazonOrderId"] == "902-1845936-5435065"
    assert "token=sandbox-lwa" in served.log
