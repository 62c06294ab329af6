"""Which credential a request gets, as Amazon sees it."""

from __future__ import annotations

import asyncio

import pytest

from spproxy.credentials import Credential
from tests.harness import Harness, StartHarness
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
