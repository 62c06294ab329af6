"""Feeds API 2021-06-30: createFeedDocument, createFeed, getFeed, cancelFeed, getFeedDocument.

createFeedDocument answers a URL presigned for PUT on the emulator (presigned.py); the feed's
content is uploaded there, then createFeed names it. A feed is processed over time (jobs.py):
IN_QUEUE, IN_PROGRESS, then DONE with a processing report as resultFeedDocumentId, or FATAL (its
type is in EmulatorConfig.fatal_feed_types, or its input document was never uploaded) with a
processing report saying why. getFeedDocument answers a URL presigned for GET.

createFeedDocument asks its handler before Amazon's published sandbox examples (`handler_first`):
the published URL is on Amazon's bucket, where no upload would land, and the emulator's own takes
it; a body the handler refuses ({}) still gets the published answer.
"""

from __future__ import annotations

import uuid
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from spproxy.emulator.apis.query import json_object
from spproxy.emulator.errors import invalid_input, not_found
from spproxy.emulator.fixtures import JsonObject
from spproxy.emulator.jobs import Job, Jobs
from spproxy.emulator.operations import Operation
from spproxy.emulator.state import STATE_KEY

FEEDS = "/feeds/2021-06-30"


def _document_id() -> str:
    return f"amzn1.tortuga.4.na.{uuid.uuid4()}"


async def create_feed_document(request: web.Request) -> web.Response:
    try:
        specification: Any = await request.json()
    except ValueError:
        specification = None
    content_type = specification.get("contentType") if isinstance(specification, dict) else None
    if not isinstance(content_type, str) or not content_type:
        raise invalid_input("Invalid input", "The body must be a JSON object with a contentType.")
    feed_document_id = _document_id()
    documents = request.app[STATE_KEY].documents
    documents.put(feed_document_id, b"", content_type, gzipped=False)
    url = documents.presign(str(request.url.origin()), "PUT", feed_document_id)
    return web.json_response({"feedDocumentId": feed_document_id, "url": url}, status=201)


def _processing_report(feed_id: str, messages: int, error: str | None) -> bytes:
    """Amazon's XML processing report (the shape its XML feeds get), in short."""
    result = (
        f"<Result><ResultCode>Error</ResultCode><ResultDescription>{escape(error)}</ResultDescription>"
        "</Result>"
        if error
        else ""
    )
    failed = 1 if error else 0
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<AmazonEnvelope><Header><DocumentVersion>1.02'
        "</DocumentVersion></Header><MessageType>ProcessingReport</MessageType><Message>"
        f"<MessageID>1</MessageID><ProcessingReport><DocumentTransactionID>{feed_id}"
        "</DocumentTransactionID><StatusCode>Complete</StatusCode><ProcessingSummary>"
        f"<MessagesProcessed>{messages}</MessagesProcessed><MessagesSuccessful>"
        f"{messages - failed}</MessagesSuccessful><MessagesWithError>{failed}"
        f"</MessagesWithError><MessagesWithWarning>0</MessagesWithWarning></ProcessingSummary>"
        f"{result}</ProcessingReport></Message></AmazonEnvelope>\n"
    ).encode()


async def create_feed(request: web.Request) -> web.Response:
    spec = await json_object(request)
    feed_type, input_id = spec.get("feedType"), spec.get("inputFeedDocumentId")
    marketplace_ids = spec.get("marketplaceIds")
    if not isinstance(feed_type, str) or not isinstance(input_id, str):
        raise invalid_input("feedType and inputFeedDocumentId are required.")
    if not isinstance(marketplace_ids, list) or not 1 <= len(marketplace_ids) <= 25:
        raise invalid_input("marketplaceIds takes 1 to 25 marketplace ids.")
    state = request.app[STATE_KEY]
    document = state.documents.documents.get(input_id)
    if document is None:
        raise invalid_input("Invalid input", f"No feed document has the id {input_id}.")
    feed_id = str(60_000_000_000 + len(state.feeds.jobs) + 1)
    error = None
    if feed_type in state.config.fatal_feed_types:
        error = f"The feed of type {feed_type} could not be processed."
    elif not document.uploaded:
        error = "The input feed document was never uploaded."
    messages = max(1, document.content.count(b"<Message>"))
    result_id = _document_id()
    report = _processing_report(feed_id, messages, error)
    state.documents.put(result_id, report, "text/xml; charset=UTF-8", gzipped=False)
    kept = {"feedType": feed_type, "marketplaceIds": marketplace_ids}
    state.feeds.add(feed_id, kept, fatal=error is not None, document_id=result_id)
    return web.json_response({"feedId": feed_id}, status=202)


def _feed(request: web.Request) -> tuple[Jobs, Job]:
    feeds = request.app[STATE_KEY].feeds
    job = feeds.jobs.get(request.match_info["feedId"])
    if job is None:
        raise not_found("Feed not found.", f"No feed has the id {request.match_info['feedId']}.")
    return feeds, job


async def get_feed(request: web.Request) -> web.Response:
    feeds, job = _feed(request)
    return web.json_response(feeds.answer(job, "feedId", "resultFeedDocumentId"))


async def cancel_feed(request: web.Request) -> web.Response:
    feeds, job = _feed(request)
    if not feeds.cancel(job):
        raise invalid_input(
            "Only feeds with processingStatus=IN_QUEUE can be cancelled.",
            f"Feed {job.job_id} is {feeds.status(job)}.",
        )
    return web.Response(status=200)


async def get_feed_document(request: web.Request) -> web.Response:
    document_id = request.match_info["feedDocumentId"]
    documents = request.app[STATE_KEY].documents
    if document_id not in documents.documents:
        raise not_found("Feed document not found.", f"No feed document has the id {document_id}.")
    url = documents.presign(str(request.url.origin()), "GET", document_id)
    answer: JsonObject = {"feedDocumentId": document_id, "url": url}
    if compression := documents.documents[document_id].compression:
        answer["compressionAlgorithm"] = compression
    return web.json_response(answer)


OPERATIONS = (
    Operation(
        "createFeedDocument",
        "POST",
        f"{FEEDS}/documents",
        create_feed_document,
        rate=0.5,
        handler_first=True,
    ),
    Operation("createFeed", "POST", f"{FEEDS}/feeds", create_feed, rate=0.0083),
    Operation("getFeed", "GET", f"{FEEDS}/feeds/{{feedId}}", get_feed, rate=2),
    Operation("cancelFeed", "DELETE", f"{FEEDS}/feeds/{{feedId}}", cancel_feed, rate=2),
    Operation(
        "getFeedDocument",
        "GET",
        f"{FEEDS}/documents/{{feedDocumentId}}",
        get_feed_document,
        rate=0.0222,
    ),
)
