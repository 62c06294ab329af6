"""Feeds API 2021-06-30."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from spproxy.emulator.errors import invalid_input
from spproxy.emulator.operations import Operation


async def create_feed_document(request: web.Request) -> web.Response:
    try:
        specification: Any = await request.json()
    except ValueError:
        specification = None
    content_type = specification.get("contentType") if isinstance(specification, dict) else None
    if not isinstance(content_type, str) or not content_type:
        raise invalid_input("Invalid input", "The body must be a JSON object with a contentType.")
    feed_document_id = f"amzn1.tortuga.4.na.{uuid.uuid4()}"
    # Where Amazon would presign an S3 upload URL; nothing is listening there.
    url = f"https://tortuga-prod-na.s3-external-1.amazonaws.com/%2FNinetyDays/{feed_document_id}"
    return web.json_response({"feedDocumentId": feed_document_id, "url": url}, status=201)


OPERATIONS = (
    Operation(
        "createFeedDocument",
        "POST",
        "/feeds/2021-06-30/documents",
        create_feed_document,
        rate=0.5,
    ),
)
