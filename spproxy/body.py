"""Request bodies, read whole: bounded in size and in time.

Buffered rather than streamed: SigV4 signs a hash of the body, and a retry must send it again. A
client that declares or sends more than the limit gets 413; one whose body has not all arrived
within the time gets 408 and its connection closed, so a stalled upload cannot hold a connection
(and its buffer) for ever.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from spproxy.errors import PayloadTooLarge, RequestTimeout


async def read_body(request: web.Request, limit: int, timeout_s: float) -> bytes:
    """The whole body: 413 past `limit` (declared or sent), 408 if not in within `timeout_s`."""
    if not request.body_exists:
        return b""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(
            f"The request body did not arrive within {timeout_s:g} s (listen.body_timeout_s).",
            "Send the whole body at once; the connection is closed.",
        ) from None
    return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body exceeds upstream.max_body_bytes ({limit} bytes).",
        "Send a smaller body, or raise upstream.max_body_bytes.",
    )
