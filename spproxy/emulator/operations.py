"""The emulated SP-API's operations as rows of data, and which one a request is for.

A row holds what Amazon's model says about an operation (operationId, method, path template,
usage-plan rate, grantless scope), what the Tokens API use-case guide says of it (restricted, the
`dataElements` it accepts, whether an RDT may name its generic path) and the handler that makes
its answer, if the emulator has one: a row without handler answers from Amazon's published
sandbox examples only (sandbox.py, which also says how examples and handlers combine).
Everything the rows have in common (token checks, the rate-limit header, recording, the
examples) lives once in the pipeline (`spapi.py`), so adding an operation means adding a row.

Rows with a handler are routes of aiohttp's router. The ~330 rows answered from examples only
share one catch-all route, registered last, and an index of their path templates built once for
all emulator apps (literal segments before `{variables}`, as aiohttp resolves): an app with 370
aiohttp routes would take longer to make than most tests take to run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from spproxy.pathindex import PathIndex

# What of a published example's body a request may see: (request, body) -> the body served.
ExampleView = Callable[[web.Request, Any], Any]


@dataclass(frozen=True)
class Operation:
    name: str  # operationId in Amazon's model
    method: str
    path: str  # aiohttp path template, e.g. /orders/v0/orders/{orderId}
    handler: Handler | None  # None: answered from Amazon's sandbox examples only (sandbox.py)
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
    # False: the handler alone answers, never a published example (the Tokens API's RDTs).
    serves_examples: bool = True
    # True: its handler answers before a matching example, as for one resource (sandbox.py, 1).
    handler_first: bool = False
    # Applied to the bodies of the examples it answers with: the PII a request may see.
    example_view: ExampleView | None = None
    # One of the emulator's own helpers under /_emulator/, no Amazon API: the static sandbox
    # mode (EmulatorConfig.static_sandbox) leaves it as it is.
    emulator_helper: bool = False

    @property
    def rate_limit_header(self) -> str | None:
        """`x-amzn-RateLimit-Limit` as Amazon writes it, e.g. "0.0167"."""
        return None if self.rate is None else f"{self.rate:g}"


OPERATIONS_KEY = web.AppKey("emulator_operations", tuple[Operation, ...])
"""Every operation the emulator serves; the Tokens API reads the restricted ones from it."""

PATH_PARAMETERS_KEY = web.RequestKey("emulator_path_parameters", Mapping[str, str])
"""The path parameters of the operation a request is for, percent-decoded (as match_info)."""

_CATCH_ALL = "/{_operation_path:.*}"


class OperationRoutes:
    """Which operation a request is for, once aiohttp's router has matched it."""

    def __init__(self, router: web.UrlDispatcher, operations: Iterable[Operation]) -> None:
        rows = tuple(operations)
        self._routed = {
            router.add_route(op.method, op.path, _found_by_route): op
            for op in rows
            if op.handler is not None
        }
        self._index = _index(tuple(op for op in rows if op.handler is None))
        self._catch_all = router.add_route("*", _CATCH_ALL, _found_by_route)

    def is_operation_path(self, match: web.UrlMappingMatchInfo) -> bool:
        """False for the emulator's own routes (LWA, STS, stats): no SP-API pipeline for them."""
        route = match.route
        return route in self._routed or route is self._catch_all or match.http_exception is not None

    def find(self, request: web.Request) -> Operation | None:
        """The operation the request is for (None: no operation has its path), its path
        parameters left in PATH_PARAMETERS_KEY."""
        match = request.match_info
        operation = self._routed.get(match.route)
        if operation is not None:
            request[PATH_PARAMETERS_KEY] = match
            return operation
        if match.route is not self._catch_all:
            return None
        found = self._index.find(request.method, request.rel_url.path_safe)
        if found is None:
            return None
        operation, parameters = found
        request[PATH_PARAMETERS_KEY] = parameters
        return operation


async def _found_by_route(request: web.Request) -> web.StreamResponse:
    raise RuntimeError("operations are answered by the SP-API pipeline (spapi.py)")


class _PathIndex:
    def __init__(self, operations: Iterable[Operation]) -> None:
        self._index: PathIndex[Operation] = PathIndex()
        for operation in operations:
            self._index.add(operation.method, operation.path, operation)

    def find(self, method: str, path_safe: str) -> tuple[Operation, dict[str, str]] | None:
        found = self._index.match(method, path_safe)
        if found is None:
            return None
        operation, values = found
        names = [s[1:-1] for s in operation.path.split("/")[1:] if s.startswith("{")]
        # As aiohttp decodes match_info from path_safe: only %2F and %25 are still encoded.
        decoded = (value.replace("%2F", "/").replace("%25", "%") for value in values)
        return operation, dict(zip(names, decoded, strict=True))


@functools.cache
def _index(operations: tuple[Operation, ...]) -> _PathIndex:
    return _PathIndex(operations)
