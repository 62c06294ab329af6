"""Test helpers under /_emulator/: checked like any seller operation, answered by no Amazon API.

`echo` returns the request body byte for byte; `blob` returns `size` deterministic bytes. Both
exist to test that the proxy relays bodies unchanged and streams large ones. They have no usage
plan (no rate limit) unless `EmulatorConfig.usage_plans` gives them one, and the static sandbox
mode (`EmulatorConfig.static_sandbox`) leaves them as they are: they are no Amazon API.

`GET /_emulator/stats` is no operation: a route of its own, answered without a token, never
recorded, never faulted, so that a benchmark running the emulator in another process can read
what Amazon answered. It holds counts only, never a token or secret.
"""

from __future__ import annotations

import hashlib

from aiohttp import hdrs, web

from spproxy.emulator.errors import invalid_input
from spproxy.emulator.operations import Operation
from spproxy.emulator.state import STATE_KEY

STATS_PATH = "/_emulator/stats"

MAX_BLOB_BYTES = 256 * 1024 * 1024


def blob_bytes(size: int) -> bytes:
    """`size` bytes that look random but are always the same (each a prefix of longer ones)."""
    return hashlib.shake_256(b"spproxy emulator blob").digest(size)


async def echo(request: web.Request) -> web.Response:
    content_type = request.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
    return web.Response(body=await request.read(), headers={hdrs.CONTENT_TYPE: content_type})


async def blob(request: web.Request) -> web.Response:
    size = int(request.match_info["size"])
    if size > MAX_BLOB_BYTES:
        raise invalid_input(f"A blob has at most {MAX_BLOB_BYTES} bytes.")
    return web.Response(body=blob_bytes(size), content_type="application/octet-stream")


async def stats(request: web.Request) -> web.Response:
    """Counts of what the emulated Amazon received and answered (SP-API calls, LWA, RDTs)."""
    state = request.app[STATE_KEY]
    by_status = sorted(state.answers_by_status.items())
    return web.json_response(
        {
            "requests": state.requests_received,
            "by_status": {str(status): count for status, count in by_status},
            "quota_refusals": state.quota_refusals,
            "quota_refusals_by_operation": dict(sorted(state.quota_refusals_by_operation.items())),
            "lwa_exchanges": dict(sorted(state.lwa_exchanges.items())),
            "rdt_mints": len(state.rdt_mints),
            "sts_calls": state.sts_calls,
        }
    )


OPERATIONS = (
    Operation(
        "emulatorEcho",
        hdrs.METH_ANY,
        "/_emulator/echo/{tail:.*}",
        echo,
        rate=None,
        emulator_helper=True,
    ),
    Operation(
        "emulatorBlob",
        hdrs.METH_GET,
        r"/_emulator/blob/{size:\d+}",
        blob,
        rate=None,
        emulator_helper=True,
    ),
)
