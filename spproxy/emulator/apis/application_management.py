"""Application Management API 2023-11-30 (grantless)."""

from __future__ import annotations

from aiohttp import web

from spproxy.emulator.operations import Operation

ROTATION_SCOPE = "sellingpartnerapi::client_credential:rotation"


async def rotate_application_client_secret(_request: web.Request) -> web.Response:
    # Amazon answers at once and delivers the new secret later, by notification; the emulator's
    # client secret stays as configured.
    return web.Response(status=204)


OPERATIONS = (
    Operation(
        "rotateApplicationClientSecret",
        "POST",
        "/applications/2023-11-30/clientSecret",
        rotate_application_client_secret,
        rate=0.0167,
        grantless_scope=ROTATION_SCOPE,
    ),
)
