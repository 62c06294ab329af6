"""The emulated Amazon as one aiohttp application: LWA, STS and SP-API on a single server.

POST /auth/o2/token   LWA token endpoint (lwa.py)
POST /                STS AssumeRole (sts.py)
anything else         SP-API: the operations in apis/, behind the pipeline in spapi.py
"""

from __future__ import annotations

import uuid

from aiohttp import web

from spproxy.emulator.apis import OPERATIONS
from spproxy.emulator.lwa import exchange_token
from spproxy.emulator.operations import route_operations
from spproxy.emulator.spapi import spapi_middleware
from spproxy.emulator.state import STATE_KEY, EmulatorConfig, EmulatorState
from spproxy.emulator.sts import assume_role

MAX_BODY_BYTES = 64 * 1024 * 1024  # room for the largest bodies the tests stream through


def make_emulator_app(config: EmulatorConfig | None = None) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STATE_KEY] = EmulatorState(config or EmulatorConfig())
    app.router.add_post("/auth/o2/token", exchange_token)
    app.router.add_post("/", assume_role)
    app.middlewares.append(spapi_middleware(route_operations(app.router, OPERATIONS)))
    app.on_response_prepare.append(_add_request_id)
    return app


async def _add_request_id(_request: web.Request, response: web.StreamResponse) -> None:
    # A signal rather than a middleware: it also reaches the answers aiohttp makes itself.
    response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
