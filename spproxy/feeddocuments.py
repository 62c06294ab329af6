"""Feed uploads through spproxy: POST /_spproxy/documents/feeds.

The request's body is the feed's content and its Content-Type the feed's content type (say
`text/tab-separated-values; charset=UTF-8`). createFeedDocument goes through the proxy's own
pipeline (`app`: the client identified and authorized as for POST /feeds/2021-06-30/documents,
the account's credential, pacing, renewed once) with `{"contentType": ...}`; the content is then
streamed to the presigned `url` with that Content-Type and nothing else: no SP-API token, no
Authorization. The answer is createFeedDocument's 201 with the feedDocumentId alone (the URL is
a credential and stays here), ready for createFeed's inputFeedDocumentId.

A feed larger than MAX_FEED_BYTES (64 MiB, what the emulator's bucket takes in one PUT) gets 413
before any document is created; so does one without a Content-Length (a presigned PUT needs the
length before the content, and streaming never holds a whole feed here). Nothing is stored, and
neither the URL nor the content is ever logged.
"""

from __future__ import annotations

import json

import aiohttp
from aiohttp import hdrs, web

from spproxy.documents import CALL, presigned, read_answer, s3_timeout
from spproxy.errors import BadGateway, BadRequest, PayloadTooLarge
from spproxy.proxy import PROXY
from spproxy.relay import relay
from spproxy.target import RESERVED_PREFIX

FEEDS_PATH = RESERVED_PREFIX + "documents/feeds"
CREATE_FEED_DOCUMENT = "/feeds/2021-06-30/documents"
MAX_FEED_BYTES = 64 * 1024 * 1024
LIMIT = web.AppKey("feed_limit", int)  # MAX_FEED_BYTES unless a test lowers it


async def upload_feed(request: web.Request) -> web.StreamResponse:
    content_type = request.headers.get(hdrs.CONTENT_TYPE)
    length = _length(request)
    if not content_type:
        raise BadRequest(
            "A feed upload needs a Content-Type: the feed's content type.",
            "Send it as createFeedDocument's contentType, e.g. text/tab-separated-values; "
            "charset=UTF-8.",
        )
    specification = json.dumps({"contentType": content_type}).encode()
    answer, headers = await request.app[CALL](request, "POST", CREATE_FEED_DOCUMENT, specification)
    if answer.response.status not in (200, 201):  # Amazon's refusal, as it came
        return await relay(request, answer, headers)
    url, document = presigned(await read_answer(answer, "createFeedDocument"), "createFeedDocument")
    document_id = document.get("feedDocumentId")
    if not isinstance(document_id, str):
        raise BadGateway("createFeedDocument answered without a feedDocumentId.")
    await _put(request, url, content_type, length)
    return web.json_response({"feedDocumentId": document_id}, status=201, headers=headers)


def _length(request: web.Request) -> int:
    """The feed's declared length, within the limit; 413 otherwise, before anything is sent."""
    limit = request.app[LIMIT]
    length = request.content_length
    if length is None or length > limit:
        raise PayloadTooLarge(
            f"A feed upload takes at most {limit} bytes, with a Content-Length.",
            "Send a smaller feed, whole (no chunked transfer), or split it into several feeds.",
        )
    if length == 0:
        raise BadRequest("The feed is empty.", "Send the feed's content as the request body.")
    return length


async def _put(request: web.Request, url: str, content_type: str, length: int) -> None:
    """The content, streamed from the client to the presigned URL, with no token."""
    proxy = request.app[PROXY]
    headers = {hdrs.CONTENT_TYPE: content_type, hdrs.CONTENT_LENGTH: str(length)}
    try:
        s3 = await proxy.session.put(
            url,
            data=request.content,
            headers=headers,
            timeout=s3_timeout(proxy),
            allow_redirects=False,
        )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise BadGateway(f"The feed's upload failed ({type(exc).__name__}).") from None
    s3.release()
    if s3.status != 200:
        raise BadGateway(f"The feed's upload failed (S3 answered {s3.status}).")


def add_routes(app: web.Application, limit: int = MAX_FEED_BYTES) -> None:
    """The upload route; documents.add_routes first (it sets the pipeline, CALL)."""
    app[LIMIT] = limit
    app.router.add_post(FEEDS_PATH, upload_feed)
