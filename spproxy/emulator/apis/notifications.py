"""Notifications API v1 (grantless operations)."""

from __future__ import annotations

from aiohttp import web

from spproxy.emulator.fixtures import DESTINATIONS
from spproxy.emulator.operations import Operation

NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"


async def get_destinations(_request: web.Request) -> web.Response:
    return web.json_response({"payload": DESTINATIONS})


OPERATIONS = (
    Operation(
        "getDestinations",
        "GET",
        "/notifications/v1/destinations",
        get_destinations,
        rate=1,
        grantless_scope=NOTIFICATIONS_SCOPE,
    ),
)
