"""Amazon's report and feed documents, as the S3 bucket behind their presigned URLs serves them.

getReportDocument, createFeedDocument and getFeedDocument answer a presigned URL; here it points
at the emulator: `/_emulator/documents/{id}?X-Amz-Algorithm=...&X-Amz-Date=...&X-Amz-Expires=300
&X-Amz-Signature=...`, signed with a key only the emulator knows, for one method (GET to download,
PUT to upload a feed) and 5 minutes ("The URL expires after 5 minutes": Reports and Feeds API
use-case guides). The URL is its own authorization, so these routes are outside the SP-API
pipeline: no token, no usage plan, no record. Refusals have S3's XML error shape:
- expired: 403 AccessDenied "Request has expired";
- altered (another path, method, date, expiry or signature): 403 SignatureDoesNotMatch;
- an Authorization header as well: 400 InvalidArgument "Only one auth mechanism allowed" (S3
  refuses a request that carries both query-string and header authentication);
- an x-amz-access-token header (an SP-API token sent where it does not belong): S3 requires every
  x-amz-* header of a presigned request to be signed, and answers 403 AccessDenied "There were
  headers present in the request which were not signed" (HeadersNotSigned) otherwise.
So an SP-API token never reaches the bucket's answer; a client must send the URL bare.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from aiohttp import hdrs, web

DOCUMENTS_PATH = "/_emulator/documents/"
URL_TTL_S = 300
MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # what the emulator accepts in one body (app.py)
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass
class Document:
    content: bytes  # as stored: gzip-compressed when `compression` is "GZIP"
    content_type: str
    compression: str | None = None  # "GZIP" or None
    uploaded: bool = False  # feed documents: True once the PUT arrived


class DocumentStore:
    """The bucket: documents by id, and the URLs that reach them."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self.documents: dict[str, Document] = {}
        self.max_upload_bytes = MAX_UPLOAD_BYTES

    def put(self, document_id: str, content: bytes, content_type: str, *, gzipped: bool) -> None:
        stored = gzip.compress(content, mtime=0) if gzipped else content
        self.documents[document_id] = Document(stored, content_type, "GZIP" if gzipped else None)

    def presign(self, origin: str, method: str, document_id: str) -> str:
        """An absolute URL on the emulator (`origin`, e.g. http://127.0.0.1:8000) for `method`."""
        path = DOCUMENTS_PATH + document_id
        date = datetime.fromtimestamp(self._clock(), UTC).strftime(_DATE_FORMAT)
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Date": date,
            "X-Amz-Expires": str(URL_TTL_S),
            "X-Amz-SignedHeaders": "host",
        }
        query["X-Amz-Signature"] = self._signature(method, path, date, str(URL_TTL_S))
        return f"{origin}{path}?{urlencode(query)}"

    def _signature(self, method: str, path: str, date: str, expires: str) -> str:
        message = "\n".join((method, path, date, expires)).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def refusal(self, request: web.Request) -> web.Response | None:
        """S3's answer to a request its URL does not authorize; None: it does."""
        if hdrs.AUTHORIZATION in request.headers:
            return s3_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be specified",
            )
        if "x-amz-access-token" in request.headers:
            return s3_error(
                403,
                "AccessDenied",
                "There were headers present in the request which were not signed",
                HeadersNotSigned="x-amz-access-token",
            )
        query = request.query
        date, expires = query.get("X-Amz-Date", ""), query.get("X-Amz-Expires", "")
        expected = self._signature(request.method, request.path, date, expires)
        if not hmac.compare_digest(expected, query.get("X-Amz-Signature", "")):
            return s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            )
        issued = datetime.strptime(date, _DATE_FORMAT).replace(tzinfo=UTC).timestamp()
        if self._clock() > issued + int(expires):
            return s3_error(403, "AccessDenied", "Request has expired", Expires=date)
        return None


def s3_error(status: int, code: str, message: str, **more: str) -> web.Response:
    """S3's error body: <Error><Code/><Message/>...</Error> as application/xml."""
    fields = {"Code": code, "Message": message, **more}
    inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{inner}</Error>'
    return web.Response(status=status, text=body, content_type="application/xml")


def _no_such_key() -> web.Response:
    return s3_error(404, "NoSuchKey", "The specified key does not exist.")


DOCUMENTS_KEY = web.AppKey("emulator_documents", DocumentStore)
"""The emulator state's DocumentStore, on the app (state.py imports this module, not back)."""


def store_of(request: web.Request) -> DocumentStore:
    return request.app[DOCUMENTS_KEY]


def _addressed(request: web.Request) -> tuple[DocumentStore, Document] | web.Response:
    """The store and the document a presigned request names, or S3's refusal of it."""
    store = store_of(request)
    refusal = store.refusal(request)
    if refusal is not None:
        return refusal
    document = store.documents.get(request.match_info["documentId"])
    if document is None:
        return _no_such_key()
    return store, document


async def download(request: web.Request) -> web.Response:
    addressed = _addressed(request)
    if isinstance(addressed, web.Response):
        return addressed
    _, document = addressed
    # S3 serves the stored bytes as they are: a GZIP document is the compressed file, with no
    # Content-Encoding (the client decompresses, as compressionAlgorithm tells it).
    return web.Response(body=document.content, headers={hdrs.CONTENT_TYPE: document.content_type})


async def upload(request: web.Request) -> web.Response:
    addressed = _addressed(request)
    if isinstance(addressed, web.Response):
        return addressed
    store, document = addressed
    # Refused by its announced length before reading, and by what arrived (none announced).
    if (request.content_length or 0) > store.max_upload_bytes:
        return _too_large()
    content = await request.read()
    if len(content) > store.max_upload_bytes:
        return _too_large()
    document.content, document.uploaded = content, True
    return web.Response(status=200)


def _too_large() -> web.Response:
    return s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")


def add_document_routes(router: web.UrlDispatcher) -> None:
    router.add_get(DOCUMENTS_PATH + "{documentId}", download)
    router.add_put(DOCUMENTS_PATH + "{documentId}", upload)
