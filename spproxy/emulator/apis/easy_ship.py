"""Easy Ship API 2022-03-23 createScheduledPackageBulk (restricted: the labels it prints carry
the buyers' addresses, behind `printableDocumentsUrl`)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from spproxy.emulator.apis.query import json_object
from spproxy.emulator.errors import invalid_input
from spproxy.emulator.fixtures import ORDERS, JsonObject
from spproxy.emulator.operations import Operation

_LABEL_FORMATS = ("PDF", "ZPL")


async def create_scheduled_package_bulk(request: web.Request) -> web.Response:
    body = await json_object(request)
    schedules = body.get("orderScheduleDetailsList")
    if not isinstance(body.get("marketplaceId"), str) or body.get("labelFormat") not in (
        _LABEL_FORMATS
    ):
        raise invalid_input("marketplaceId and labelFormat (PDF or ZPL) are required.")
    if not isinstance(schedules, list) or not schedules:
        raise invalid_input("orderScheduleDetailsList must list at least one order.")
    scheduled: list[JsonObject] = []
    rejected: list[JsonObject] = []
    for schedule in schedules:
        order_id = schedule.get("amazonOrderId") if isinstance(schedule, dict) else None
        if not isinstance(order_id, str):
            raise invalid_input("Every entry of orderScheduleDetailsList needs an amazonOrderId.")
        if any(order["AmazonOrderId"] == order_id for order in ORDERS):
            scheduled.append(_package(order_id, schedule))
        else:
            reason = f"Couldn't find the order details for {order_id}"
            error = {"code": "InvalidInput", "details": reason, "message": reason}
            rejected.append({"amazonOrderId": order_id, "error": error})
    answer: JsonObject = {"scheduledPackages": scheduled, "rejectedOrders": rejected}
    if scheduled:
        # A presigned URL of a ZIP of the labels (the buyers' addresses); nothing listens there.
        answer["printableDocumentsUrl"] = (
            f"https://easyship-documents.s3.amazonaws.com/{uuid.uuid4()}.zip"
        )
    return web.json_response(answer)


def _package(order_id: str, schedule: dict[str, Any]) -> JsonObject:
    details = schedule.get("packageDetails") or {}
    identifier = details.get("packageIdentifier") or str(uuid.uuid4())
    package: JsonObject = {
        "scheduledPackageId": {"amazonOrderId": order_id, "packageId": identifier},
        "packageTimeSlot": details.get("packageTimeSlot")
        or {
            "slotId": "AQc48yxSAAAAADZG0qQAAAAA6kkAAAAAAAA=",
            "startTime": "2025-06-09T10:00:00+05:30",
            "endTime": "2025-06-09T13:00:00+05:30",
            "handoverMethod": "PICKUP",
        },
        "packageIdentifier": identifier,
        "invoice": {"invoiceNumber": "IN-456", "invoiceDate": "2025-06-08T10:00:00+05:30"},
        "packageDimensions": {
            "length": 5.905511805,
            "width": 3.6220472404,
            "height": 3.4645669256,
            "unit": "IN",
            "identifier": "IN_SuggestedContainerDimension",
        },
        "packageWeight": {"value": 11.466, "unit": "ounces"},
        "packageStatus": "ReadyForPickup",
        "trackingDetails": {"trackingId": str(uuid.uuid4().int % 10**13)},
    }
    if "packageItems" in details:
        package["packageItems"] = details["packageItems"]
    return package


OPERATIONS = (
    Operation(
        "createScheduledPackageBulk",
        "POST",
        "/easyShip/2022-03-23/packages/bulk",
        create_scheduled_package_bulk,
        rate=1,
        restricted=True,
    ),
)
