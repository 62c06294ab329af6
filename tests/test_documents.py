"""Report documents through spproxy: getReportDocument by the pipeline, the presigned URL bare."""

from __future__ import annotations

import gzip
import logging

import aiohttp
import pytest

from spproxy.config import Client, Secret
from spproxy.emulator import EmulatorConfig
from spproxy.emulator.presigned import s3_error
from tests.emulator.conftest import FakeClock
from tests.harness import Harness, StartHarness

ENDPOINT = "/_spproxy/documents/reports/"
PLAIN = "GET_MERCHANT_LISTINGS_ALL_DATA"
GZIPPED = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"  # Amazon compresses these
RESTRICTED = "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
ANALYTICS_KEY = "analytics-key-0123456789"
CLIENTS = {"analytics": Client("analytics", Secret(ANALYTICS_KEY))}  # no PII


async def started(start: StartHarness, **options: object) -> tuple[Harness, FakeClock]:
    clock = FakeClock()
    return await start(emulator=EmulatorConfig(clock=clock), **options), clock


async def report_document(
    harness: Harness, clock: FakeClock, report_type: str, headers: dict[str, str] | None = None
) -> str:
    """createReport, the emulator's clock past processing, getReport's reportDocumentId."""
    created = await harness.proxy.post(
        "/reports/2021-06-30/reports",
        json={"reportType": report_type, "marketplaceIds": ["ATVPDKIKX0DER"]},
        headers=headers,
    )
    assert created.status == 202, await created.text()
    report_id = (await created.json())["reportId"]
    clock.advance(60)
    report = await harness.proxy.get(f"/reports/2021-06-30/reports/{report_id}", headers=headers)
    answer = await report.json()
    assert answer["processingStatus"] == "DONE"
    return str(answer["reportDocumentId"])


def content_of(harness: Harness, document_id: str) -> bytes:
    stored = harness.amazon.documents.documents[document_id]
    return gzip.decompress(stored.content) if stored.compression else stored.content


@pytest.mark.parametrize("report_type", [PLAIN, GZIPPED])
async def test_a_document_streams_decompressed_with_its_content_type(
    start: StartHarness, report_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness, clock = await started(start)
    document_id = await report_document(harness, clock, report_type)
    response = await harness.proxy.get(ENDPOINT + document_id)
    # 200: the presigned GET carried no token nor Authorization (the emulator refuses those)
    assert response.status == 200, await response.text()
    body = await response.read()
    assert body == content_of(harness, document_id)
    assert report_type.encode() in body
    assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert response.headers["x-spproxy-operation"] == "getReportDocument"
    assert harness.amazon.requests[-1].raw_path == f"/reports/2021-06-30/documents/{document_id}"
    assert harness.amazon.requests[-1].token_kind == "lwa"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "X-Amz-Signature" not in logged and "_emulator/documents" not in logged
    assert "spproxy emulator" not in logged  # the content
    access = [r.getMessage() for r in caplog.records if r.name == "spproxy.access"]
    assert any("getReportDocument" in line and "status=200" in line for line in access)


async def test_a_restricted_document_uses_an_rdt(start: StartHarness) -> None:
    harness, clock = await started(start)
    document_id = await report_document(harness, clock, RESTRICTED)
    response = await harness.proxy.get(ENDPOINT + document_id)
    assert response.status == 200, await response.text()
    assert await response.read() == content_of(harness, document_id)
    assert harness.amazon.requests[-1].token_kind == "rdt"


async def test_a_client_without_pii_gets_403_and_nothing_is_fetched(start: StartHarness) -> None:
    harness, clock = await started(start, clients=CLIENTS)
    key = {"x-spproxy-key": ANALYTICS_KEY}
    document_id = await report_document(harness, clock, RESTRICTED, key)  # its type now known
    before = len(harness.amazon.requests)
    response = await harness.proxy.get(ENDPOINT + document_id, headers=key)
    assert response.status == 403
    assert "restricted report type" in (await response.json())["errors"][0]["message"]
    assert len(harness.amazon.requests) == before  # not even getReportDocument


async def test_an_unknown_document_is_404(start: StartHarness) -> None:
    harness, _ = await started(start)
    response = await harness.proxy.get(ENDPOINT + "amzn1.spdoc.1.4.na.no-such-document")
    assert response.status == 404
    assert (await response.json())["errors"][0]["code"]


async def test_a_truncated_gzip_stream_cuts_the_connection(start: StartHarness) -> None:
    harness, clock = await started(start)
    document_id = await report_document(harness, clock, GZIPPED)
    stored = harness.amazon.documents.documents[document_id]
    stored.content = stored.content[:-12]  # the end of the deflate stream and the trailer lost
    response = await harness.proxy.get(ENDPOINT + document_id)
    assert response.status == 200  # sent before the end was known
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()


async def test_a_failed_download_is_502(start: StartHarness) -> None:
    harness, clock = await started(start)
    document_id = await report_document(harness, clock, PLAIN)
    refused = s3_error(403, "AccessDenied", "Request has expired")
    harness.amazon.documents.refusal = lambda request: refused  # type: ignore[method-assign]
    response = await harness.proxy.get(ENDPOINT + document_id)
    assert response.status == 502
    text = await response.text()
    assert "S3 answered 403" in text and "X-Amz-Signature" not in text


async def test_a_feeds_processing_report_streams(start: StartHarness) -> None:
    harness, clock = await started(start)
    feed = b"<AmazonEnvelope><Message>1</Message></AmazonEnvelope>"
    uploaded = await harness.proxy.post(
        "/_spproxy/documents/feeds", data=feed, headers={"Content-Type": "text/xml"}
    )
    assert uploaded.status == 201, await uploaded.text()
    created = await harness.proxy.post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": "POST_PRODUCT_DATA",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "inputFeedDocumentId": (await uploaded.json())["feedDocumentId"],
        },
    )
    feed_id = (await created.json())["feedId"]
    clock.advance(60)
    answer = await (await harness.proxy.get(f"/feeds/2021-06-30/feeds/{feed_id}")).json()
    assert answer["processingStatus"] == "DONE"
    response = await harness.proxy.get(
        "/_spproxy/documents/feeds/" + answer["resultFeedDocumentId"]
    )
    assert response.status == 200, await response.text()
    assert response.headers["x-spproxy-operation"] == "getFeedDocument"
    assert b"<MessagesProcessed>1</MessagesProcessed>" in await response.read()
