"""Amazon's answer to the client, as it came: status, headers, body bytes (no decompression).

A small answer (most of SP-API's JSON) is read whole and sent in one write; a large one, or one of
unknown length, is streamed, so large report documents never sit in memory. Hop-by-hop headers
stay behind (RFC 9110 7.6.1), spproxy's debugging headers are added. `observe`, where given, is
handed the whole body of a successful answer (up to OBSERVE_LIMIT), and awaited before a small
answer goes out: how report document types are learned from getReport(s), and RDTs a client
minted from the Tokens API's (shared with the other replicas before the client can use them).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import aiohttp
from aiohttp import hdrs, web
from multidict import CIMultiDict

from spproxy.errors import UpstreamUnreachable
from spproxy.http1 import Http1Response
from spproxy.upstream import HOP_BY_HOP
from spproxy.wire import UpstreamAnswer

log = logging.getLogger("spproxy.relay")

RELAY_CHUNK = 64 * 1024
OBSERVE_LIMIT = 4 * 1024 * 1024


async def relay(
    request: web.Request,
    answer: UpstreamAnswer,
    extra_headers: Mapping[str, str],
    observe: Callable[[bytes], Awaitable[None]] | None = None,
) -> web.StreamResponse:
    """Relay the upstream answer to the client unchanged, plus spproxy's debugging headers.

    A small answer (most of SP-API's JSON) is read whole and sent in one write; a large one, or
    one of unknown length, is streamed. `observe`, if given, is handed the whole body of a
    successful answer (up to OBSERVE_LIMIT): how report types are learned from getReport(s).
    """
    upstream = answer.response
    headers = CIMultiDict(upstream.headers)  # copied whole, then pruned: both in C
    for name in HOP_BY_HOP:
        headers.popall(name, None)
    headers.update(extra_headers)
    if _small(request, upstream) or (answer.body is not None and hdrs.CONTENT_TYPE in headers):
        try:
            body = answer.body if answer.body is not None else await upstream.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamUnreachable(
                f"{upstream.host} broke off its answer ({type(exc).__name__}).", "Retry."
            ) from None
        finally:
            upstream.release()
        del headers[hdrs.CONTENT_LENGTH]  # web.Response counts the body itself
        if observe is not None and upstream.status == 200:
            await observe(body)
        return web.Response(
            status=upstream.status, reason=upstream.reason, headers=headers, body=body
        )
    return await _stream(request, answer, headers, observe)


def _small(request: web.Request, upstream: Http1Response) -> bool:
    """Worth reading whole: a known small length, and a Content-Type web.Response will keep."""
    length = upstream.content_length
    return (
        request.method != "HEAD"  # its Content-Length describes a body that is not there
        and length is not None
        and length <= RELAY_CHUNK
        and hdrs.CONTENT_TYPE in upstream.headers
    )


async def _stream(
    request: web.Request,
    answer: UpstreamAnswer,
    headers: CIMultiDict[str],
    observe: Callable[[bytes], Awaitable[None]] | None,
) -> web.StreamResponse:
    upstream = answer.response
    relayed = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers=headers)
    await relayed.prepare(request)
    kept: list[bytes] | None = [] if observe is not None and upstream.status == 200 else None
    size = 0
    try:
        async for chunk in _body_chunks(answer):
            if kept is not None:
                size += len(chunk)
                if size > OBSERVE_LIMIT:
                    kept = None
                else:
                    kept.append(chunk)
            try:
                await relayed.write(chunk)
            except ConnectionResetError:
                log.debug("the client went away mid-answer")
                return relayed
    except (aiohttp.ClientError, TimeoutError) as exc:
        # The status line is already sent: all we can do is cut the connection so the client
        # sees a truncated answer rather than a complete-looking one.
        log.warning("upstream broke off the answer mid-body (%s)", type(exc).__name__)
        if request.transport is not None:
            request.transport.close()
        return relayed
    finally:
        upstream.release()
    await relayed.write_eof()
    if observe is not None and kept is not None:
        await observe(b"".join(kept))
    return relayed


async def _body_chunks(answer: UpstreamAnswer) -> AsyncIterator[bytes]:
    if answer.body is not None:  # already read ahead
        yield answer.body
        return
    async for chunk in answer.response.content.iter_chunked(RELAY_CHUNK):
        yield chunk
