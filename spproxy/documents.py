"""Documents through spproxy: GET /_spproxy/documents/reports/{reportDocumentId} and
GET /_spproxy/documents/feeds/{feedDocumentId} (a feed's processing report); feeddocuments
uploads feeds.

getReportDocument (getFeedDocument) goes through the proxy's own pipeline (`app`: the client
identified and authorized as for GET /reports/2021-06-30/documents/{id}, the account's
credential, an RDT for a restricted report type, pacing, renewed once); its presigned `url` is
then fetched bare, without an SP-API token or Authorization (S3 refuses them), and the content
streamed to the client with S3's Content-Type, gunzipped on the way when `compressionAlgorithm`
is GZIP. Nothing is stored, and neither the URL (it is a credential) nor the content is ever
logged.

Before the first byte, failures have spproxy's error shape: getReportDocument's own refusal
relayed (404 for an unknown document, 403 outside the client's grants), 502 when its answer has
no URL or the download fails. Once the 200 is sent, a download that breaks off or a gzip stream
that ends early closes the connection without the chunked terminator: the client sees a
truncated answer, never a complete-looking one.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from urllib.parse import quote

import aiohttp
from aiohttp import hdrs, web

from spproxy.errors import BadGateway
from spproxy.proxy import PROXY, Proxy
from spproxy.relay import RELAY_CHUNK, relay
from spproxy.target import RESERVED_PREFIX
from spproxy.wire import UpstreamAnswer

log = logging.getLogger("spproxy.documents")

REPORTS_PREFIX = RESERVED_PREFIX + "documents/reports/"
FEEDS_PREFIX = RESERVED_PREFIX + "documents/feeds/"
GET_REPORT_DOCUMENT = "/reports/2021-06-30/documents/"
GET_FEED_DOCUMENT = "/feeds/2021-06-30/documents/"
# Amazon's answer to a call, and spproxy's debugging headers once it is chosen.
Called = tuple[UpstreamAnswer, Mapping[str, str]]
# (request, method, raw path, a JSON body to send instead of the request's, if any)
Call = Callable[[web.Request, str, str, bytes | None], Awaitable[Called]]
CALL: web.AppKey[Call] = web.AppKey("documents_call")
GZIP = 16 + zlib.MAX_WBITS  # zlib's wbits for a gzip header and trailer


async def report_document(request: web.Request) -> web.StreamResponse:
    document_id = request.match_info["reportDocumentId"]
    return await _document(request, GET_REPORT_DOCUMENT, document_id, "getReportDocument")


async def feed_document(request: web.Request) -> web.StreamResponse:
    document_id = request.match_info["feedDocumentId"]
    return await _document(request, GET_FEED_DOCUMENT, document_id, "getFeedDocument")


async def _document(
    request: web.Request, path: str, document_id: str, operation: str
) -> web.StreamResponse:
    answer, headers = await request.app[CALL](
        request, "GET", path + quote(document_id, safe=""), None
    )
    if answer.response.status != 200:  # Amazon's refusal, as it came (404, 403, 429, ...)
        return await relay(request, answer, headers)
    url, gzipped = _location(await read_answer(answer, operation), operation)
    proxy = request.app[PROXY]
    try:  # the session's own headers only: no token, no Authorization, no signing middleware
        s3 = await proxy.session.get(url, timeout=s3_timeout(proxy), allow_redirects=False)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise BadGateway(f"The document's download failed ({type(exc).__name__}).") from None
    try:
        if s3.status != 200:
            raise BadGateway(f"The document's download failed (S3 answered {s3.status}).")
        content_type = s3.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
        return await _stream(request, s3, content_type, gzipped, headers)
    finally:
        s3.release()


def s3_timeout(proxy: Proxy) -> aiohttp.ClientTimeout:
    """Connecting, and each wait for bytes, within upstream.timeout_s (as for Amazon)."""
    timeout_s = proxy.config.upstream.timeout_s
    return aiohttp.ClientTimeout(sock_connect=timeout_s, sock_read=timeout_s)


async def read_answer(answer: UpstreamAnswer, operation: str) -> bytes:
    try:
        return answer.body if answer.body is not None else await answer.response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise BadGateway(f"{operation}'s answer broke off ({type(exc).__name__}).") from None
    finally:
        answer.response.release()


def presigned(body: bytes, operation: str) -> tuple[str, dict[str, object]]:
    """The presigned `url` of a document answer, and the whole answer."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    url = document.get("url") if isinstance(document, dict) else None
    if not isinstance(document, dict) or not isinstance(url, str):
        raise BadGateway(f"{operation} answered without a document URL.")
    if not url.startswith(("https://", "http://")):
        raise BadGateway(f"{operation} answered a document URL that is not HTTP(S).")
    return url, document


def _location(body: bytes, operation: str) -> tuple[str, bool]:
    """The presigned URL, and whether the document is GZIP-compressed."""
    url, document = presigned(body, operation)
    algorithm = document.get("compressionAlgorithm")
    if algorithm not in (None, "GZIP"):
        raise BadGateway(f"{operation} answered an unknown compressionAlgorithm.")
    return url, algorithm == "GZIP"


async def _stream(
    request: web.Request,
    s3: aiohttp.ClientResponse,
    content_type: str,
    gzipped: bool,
    headers: Mapping[str, str],
) -> web.StreamResponse:
    answer = web.StreamResponse(headers={**headers, hdrs.CONTENT_TYPE: content_type})
    answer.enable_chunked_encoding()
    await answer.prepare(request)
    inflate = zlib.decompressobj(GZIP) if gzipped else None
    try:
        async for chunk in s3.content.iter_chunked(RELAY_CHUNK):
            for piece in _inflated(inflate, chunk) if inflate else (chunk,):
                await answer.write(piece)
        complete = inflate is None or inflate.eof
        why = "the gzip stream ended early"
    except zlib.error:
        complete, why = False, "the gzip stream is corrupt"
    except (aiohttp.ClientError, TimeoutError) as exc:
        complete, why = False, f"the download broke off ({type(exc).__name__})"
    except ConnectionResetError:
        log.debug("the client went away mid-document")
        return answer
    if not complete:  # the status is sent: cut the connection, so the answer reads truncated
        log.warning("document cut short: %s", why)
        if request.transport is not None:
            request.transport.close()
        return answer
    await answer.write_eof()
    return answer


def _inflated(inflate: zlib._Decompress, chunk: bytes) -> Iterator[bytes]:
    """`chunk` decompressed, at most RELAY_CHUNK bytes at a time (a gzip bomb stays small)."""
    data = inflate.decompress(chunk, RELAY_CHUNK)
    while True:
        if data:
            yield data
        if not inflate.unconsumed_tail and len(data) < RELAY_CHUNK:
            return
        data = inflate.decompress(inflate.unconsumed_tail, RELAY_CHUNK)


def add_routes(app: web.Application, call: Call) -> None:
    """`call` is app's pipeline to Amazon (documents knows nothing above it)."""
    app[CALL] = call
    app.router.add_get(REPORTS_PREFIX + "{reportDocumentId}", report_document)
    app.router.add_get(FEEDS_PREFIX + "{feedDocumentId}", feed_document)
