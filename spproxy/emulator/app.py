"""The emulated Amazon as one aiohttp application: LWA, STS and SP-API on a single server.

POST /auth/o2/token   LWA token endpoint (lwa.py)
/apps/authorize/...   Seller and Vendor Central's OAuth consent pages (consent.py)
POST /                STS AssumeRole (sts.py)
GET/PUT /_emulator/documents/{id}  report and feed documents behind presigned URLs (presigned.py)
GET  /_emulator/stats counts of what it received and answered, for benchmarks (no token needed)
anything else         SP-API: the operations in apis/, behind the pipeline in spapi.py
"""

from __future__ import annotations

import uuid

from aiohttp import web

from spproxy.emulator.apis import OPERATIONS
from spproxy.emulator.apis.emulator_helpers import STATS_PATH, stats
from spproxy.emulator.consent import add_consent_routes
from spproxy.emulator.limits import check_overrides
from spproxy.emulator.lwa import exchange_token
from spproxy.emulator.operations import OPERATIONS_KEY, Operation, OperationRoutes
from spproxy.emulator.presigned import DOCUMENTS_KEY, add_document_routes
from spproxy.emulator.rdt import DATA_ELEMENTS
from spproxy.emulator.spapi import spapi_middleware
from spproxy.emulator.state import RECORD_KEY, STATE_KEY, EmulatorConfig, EmulatorState
from spproxy.emulator.sts import assume_role

MAX_BODY_BYTES = 64 * 1024 * 1024  # room for the largest bodies the tests stream through


def make_emulator_app(config: EmulatorConfig | None = None) -> web.Application:
    config = config or EmulatorConfig()
    _check_roles(config, OPERATIONS)
    if config.static_sandbox and not config.sandbox_examples:
        raise ValueError(
            "EmulatorConfig.static_sandbox answers from the sandbox examples only: it needs "
            "sandbox_examples."
        )
    check_overrides(config.usage_plans, OPERATIONS)
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STATE_KEY] = EmulatorState(config)
    app[DOCUMENTS_KEY] = app[STATE_KEY].documents
    app[OPERATIONS_KEY] = OPERATIONS
    app.router.add_post("/auth/o2/token", exchange_token)
    app.router.add_post("/", assume_role)
    app.router.add_get(STATS_PATH, stats)
    add_document_routes(app.router)
    add_consent_routes(app.router)  # before OperationRoutes' catch-all
    app.middlewares.append(spapi_middleware(OperationRoutes(app.router, OPERATIONS)))
    app.on_response_prepare.append(_finish_record)
    app.on_shutdown.append(_release_held_calls)
    return app


def _check_roles(config: EmulatorConfig, operations: tuple[Operation, ...]) -> None:
    """A denied role that names nothing the Tokens API knows would deny nothing: say so."""
    templates = {op.path for op in operations if op.restricted}
    unknown = sorted(config.denied_paths - templates) + sorted(
        config.denied_data_elements - DATA_ELEMENTS
    )
    if unknown:
        raise ValueError(
            f"EmulatorConfig denies what no restricted operation has: {', '.join(unknown)}; "
            f"denied_paths take path templates such as /mfn/v0/shipments/{{shipmentId}}, "
            f"denied_data_elements values among {', '.join(sorted(DATA_ELEMENTS))}."
        )


async def _finish_record(request: web.Request, response: web.StreamResponse) -> None:
    # A signal rather than a middleware: it also reaches the answers aiohttp makes itself.
    request_id = str(uuid.uuid4())
    response.headers["x-amzn-RequestId"] = request_id
    record = request.get(RECORD_KEY)
    if record is not None and record.fault != "drop":
        record.status = response.status
        record.request_id = request_id
        request.app[STATE_KEY].answers_by_status[response.status] += 1


async def _release_held_calls(app: web.Application) -> None:
    # Before the server waits for its handlers: a hold a test forgot must not stall shutdown.
    app[STATE_KEY].faults.release_all()
