"""Feed uploads through spproxy: createFeedDocument by the pipeline, the content PUT bare."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from pytest_aiohttp import AiohttpClient

from spproxy.app import make_app
from spproxy.config import Client, Secret
from spproxy.emulator import EmulatorConfig
from spproxy.emulator.presigned import s3_error
from spproxy.feeddocuments import FEEDS_PATH, LIMIT
from tests.emulator.conftest import FakeClock
from tests.harness import Harness, StartHarness, proxy_config

# The model's example contentType: the emulator's handler answers it (handler_first), not its
# published URL on Amazon's bucket.
TSV = "text/tab-separated-values; charset=UTF-8"
FEED = b"sku\tprice\nSKU-1\t9.99\n"
ORDERS_KEY = "orders-only-key-0123456789"
CLIENTS = {"orders": Client("orders", Secret(ORDERS_KEY), operations=("getOrders",))}


async def upload(
    harness: Harness, content: bytes, content_type: str = TSV, **headers: str
) -> aiohttp.ClientResponse:
    return await harness.proxy.post(
        FEEDS_PATH, data=content, headers={"Content-Type": content_type, **headers}
    )


async def test_a_feed_is_uploaded_and_its_document_id_answered(
    start: StartHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness = await start(emulator=EmulatorConfig(clock=FakeClock()))
    response = await upload(harness, FEED)
    assert response.status == 201, await response.text()
    answer = await response.json()
    assert set(answer) == {"feedDocumentId"}  # never the URL
    assert response.headers["x-spproxy-operation"] == "createFeedDocument"
    stored = harness.amazon.documents.documents[answer["feedDocumentId"]]
    # 201: the presigned PUT carried no token nor Authorization (the emulator refuses those)
    assert stored.uploaded and stored.content == FEED and stored.content_type == TSV
    created = harness.amazon.requests[-1]
    assert created.operation == "createFeedDocument" and created.token_kind == "lwa"
    assert created.headers["Content-Type"] == "application/json"
    assert created.body == b'{"contentType": "text/tab-separated-values; charset=UTF-8"}'
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "X-Amz-Signature" not in logged and "SKU-1" not in logged


async def test_a_feed_over_the_limit_is_413_before_any_document(
    aiohttp_client: AiohttpClient, start: StartHarness
) -> None:
    harness = await start()
    app = make_app(proxy_config(str(harness.emulator.make_url("")).rstrip("/")))
    app[LIMIT] = 16
    proxy = await aiohttp_client(app)
    before = len(harness.amazon.documents.documents)
    response = await proxy.post(FEEDS_PATH, data=FEED, headers={"Content-Type": TSV})
    assert response.status == 413
    error = (await response.json())["errors"][0]
    assert error["code"] == "RequestEntityTooLarge" and "at most 16 bytes" in error["message"]
    assert len(harness.amazon.documents.documents) == before


async def test_chunked_empty_or_untyped_feeds_are_refused(harness: Harness) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield FEED

    response = await harness.proxy.post(FEEDS_PATH, data=chunks(), headers={"Content-Type": TSV})
    assert response.status == 413  # no Content-Length
    assert (await upload(harness, b"")).status == 400
    response = await harness.proxy.post(FEEDS_PATH, data=FEED, skip_auto_headers={"Content-Type"})
    assert response.status == 400
    assert "Content-Type" in (await response.json())["errors"][0]["message"]
    assert harness.amazon.requests == []


async def test_a_client_whose_grants_exclude_create_feed_document_gets_403(
    start: StartHarness,
) -> None:
    harness = await start(clients=CLIENTS)
    response = await upload(harness, FEED, **{"x-spproxy-key": ORDERS_KEY})
    assert response.status == 403
    assert harness.amazon.requests == []


async def test_a_refused_upload_is_502(harness: Harness) -> None:
    refused = s3_error(403, "AccessDenied", "Request has expired")
    harness.amazon.documents.refusal = lambda request: refused  # type: ignore[method-assign]
    response = await upload(harness, FEED)
    assert response.status == 502
    text = await response.text()
    assert "S3 answered 403" in text and "X-Amz-Signature" not in text
