"""Sellers API v1."""

from __future__ import annotations

from aiohttp import web

from spproxy.emulator.fixtures import MARKETPLACE_PARTICIPATIONS
from spproxy.emulator.operations import Operation


async def get_marketplace_participations(_request: web.Request) -> web.Response:
    return web.json_response({"payload": MARKETPLACE_PARTICIPATIONS})


OPERATIONS = (
    Operation(
        "getMarketplaceParticipations",
        "GET",
        "/sellers/v1/marketplaceParticipations",
        get_marketplace_participations,
        rate=0.016,
    ),
)
