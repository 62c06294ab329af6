"""Easy Ship 2022-03-23: packages scheduled for the seller's orders, others rejected."""

from __future__ import annotations

from tests.emulator.conftest import Client, rdt_for

BULK = "/easyShip/2022-03-23/packages/bulk"


async def test_known_orders_are_scheduled_unknown_ones_rejected(handlers: Client) -> None:
    body = {
        "marketplaceId": "ATVPDKIKX0DER",
        "labelFormat": "PDF",
        "orderScheduleDetailsList": [
            {"amazonOrderId": "902-1845936-5435065"},
            {"amazonOrderId": "000-0000000-0000000"},
        ],
    }
    response = await handlers.post(BULK, json=body, headers=rdt_for(handlers, "POST", BULK))
    assert response.status == 200
    answer = await response.json()
    (package,) = answer["scheduledPackages"]
    assert package["scheduledPackageId"]["amazonOrderId"] == "902-1845936-5435065"
    (rejected,) = answer["rejectedOrders"]
    assert rejected["amazonOrderId"] == "000-0000000-0000000"
    assert answer["printableDocumentsUrl"].endswith(".zip")


async def test_a_label_format_is_required(handlers: Client) -> None:
    body = {"marketplaceId": "ATVPDKIKX0DER", "orderScheduleDetailsList": []}
    response = await handlers.post(BULK, json=body, headers=rdt_for(handlers, "POST", BULK))
    assert response.status == 400
