"""Notifications API v1: the grantless operations (destinations, subscriptions by id, test
notifications).

They act for the application, not for a seller: a client_credentials token with the
notifications scope (the model says so of each: "The `sendTestNotification` API is grantless").
getDestinations has a handler; the others answer from Amazon's sandbox examples only (handler
None; sendTestNotification publishes none), but need the grantless token all the same.
"""

from __future__ import annotations

from aiohttp import web

from spproxy.emulator.fixtures import DESTINATIONS
from spproxy.emulator.operations import Operation

NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"

_DESTINATION = "/notifications/v1/destinations/{destinationId}"
_SUBSCRIPTION = "/notifications/v1/subscriptions/{notificationType}/{subscriptionId}"
_TEST_NOTIFICATION = "/notifications/v1/subscriptions/{notificationType}/testNotification"


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
    *(
        Operation(name, method, path, None, rate=1, grantless_scope=NOTIFICATIONS_SCOPE)
        for name, method, path in (
            ("createDestination", "POST", "/notifications/v1/destinations"),
            ("getDestination", "GET", _DESTINATION),
            ("deleteDestination", "DELETE", _DESTINATION),
            ("getSubscriptionById", "GET", _SUBSCRIPTION),
            ("deleteSubscriptionById", "DELETE", _SUBSCRIPTION),
            ("sendTestNotification", "POST", _TEST_NOTIFICATION),
        )
    ),
)
