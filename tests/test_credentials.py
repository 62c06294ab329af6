"""Which credential a request gets, as Amazon sees it."""

from __future__ import annotations

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
