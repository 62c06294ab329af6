"""The emulated SP-API's operations as rows of data, routed by aiohttp's router.

A row holds what Amazon's model says about an operation (operationId, method, path template,
usage-plan rate, grantless scope), what the Tokens API use-case guide says of it (restricted, the
`dataElements` it accepts, whether an RDT may name its generic path) and the handler that makes
its answer. Everything the rows have in common (token checks, the rate-limit header, recording)
lives once in the pipeline (`spapi.py`), so adding an operation means adding a row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler


@dataclass(frozen=True)
class Operation:
    name: str  # operationId in Amazon's model
    method: str
    path: str  # aiohttp path template, e.g. /orders/v0/orders/{orderId}
    handler: Handler
    rate: float | None  # requests per second, from the model's usage plan; None: not Amazon's
    grantless_scope: str | None = None  # None: needs a seller's LWA access token
    # Restricted operations return PII and need a Restricted Data Token (Tokens API).
    restricted: bool = False
    data_elements: frozenset[str] = frozenset()  # the dataElements an RDT for it may carry
    # Also answers a seller's LWA token: Orders v0 getOrders/getOrder/getOrderItems (without PII)
    # and getReportDocument (documents of report types that are not restricted).
    answers_lwa_token: bool = False
    # False: an RDT for it must name a specific path, never the template (getReportDocument).
    generic_path_allowed: bool = True

    @property
    def rate_limit_header(self) -> str | None:
        """`x-amzn-RateLimit-Limit` as Amazon writes it, e.g. "0.0167"."""
        return None if self.rate is None else f"{self.rate:g}"


OPERATIONS_KEY = web.AppKey("emulator_operations", tuple[Operation, ...])
"""Every operation the emulator serves; the Tokens API reads the restricted ones from it."""


def route_operations(
    router: web.UrlDispatcher, operations: Iterable[Operation]
) -> dict[web.AbstractRoute, Operation]:
    """Add a route per operation; the map lets the pipeline find the row behind a matched route."""
    return {router.add_route(op.method, op.path, op.handler): op for op in operations}
