"""Feeds API 2021-06-30: feed documents, uploads and feeds processed over time."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient
from yarl import URL

from spproxy.emulator import EmulatorConfig, make_emulator_app
from tests.emulator.conftest import Client, FakeClock, seller_token, spapi_error, state_of


# The second is the model's sandbox example: the handler still answers it, with a URL that takes
# the upload (handler_first), not the published one on Amazon's bucket.
@pytest.mark.parametrize(
    "content_type", ["text/xml; charset=UTF-8", "text/tab-separated-values; charset=UTF-8"]
)
async def test_create_feed_document(amazon: Client, content_type: str) -> None:
    response = await amazon.post(
        "/feeds/2021-06-30/documents",
        json={"contentType": content_type},
        headers=seller_token(amazon),
    )
    assert response.status == 201
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.5"
    document = await response.json()
    assert document["feedDocumentId"]
    assert "/_emulator/documents/" in document["url"]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"contentType": 7}'])
async def test_create_feed_document_needs_a_content_type(amazon: Client, body: bytes) -> None:
    headers = {**seller_token(amazon), "Content-Type": "application/json"}
    response = await amazon.post("/feeds/2021-06-30/documents", data=body, headers=headers)
    assert response.status == 400
    assert (await spapi_error(response))["code"] == "InvalidInput"


async def test_an_empty_feed_document_body_gets_amazons_published_answer(amazon: Client) -> None:
    # The model's sandbox example for the body {}: a 400 whose code is "400", as Amazon wrote it.
    headers = {**seller_token(amazon), "Content-Type": "application/json"}
    response = await amazon.post("/feeds/2021-06-30/documents", data=b"{}", headers=headers)
    assert response.status == 400
    assert (await spapi_error(response))["code"] == "400"


# --- Upload, createFeed, processing over time ------------------------------------------------

FEEDS = "/feeds/2021-06-30"
FEED_XML = b"<AmazonEnvelope><Message>1</Message><Message>2</Message></AmazonEnvelope>"


async def timed(aiohttp_client: AiohttpClient, clock: FakeClock, **config: Any) -> Client:
    config = {"clock": clock, "processing_s": (2.0, 3.0), "sandbox_examples": False, **config}
    return await aiohttp_client(make_emulator_app(EmulatorConfig(**config)))


async def feed_document(amazon: Client, content: bytes | None) -> str:
    body = {"contentType": "text/xml; charset=UTF-8"}
    response = await amazon.post(f"{FEEDS}/documents", json=body, headers=seller_token(amazon))
    document = await response.json()
    if content is not None:
        url = str(URL(document["url"]).relative())
        refused = await amazon.put(url, data=content, headers=seller_token(amazon))
        assert refused.status == 403  # a token on a presigned URL (presigned.py)
        assert (await amazon.put(url, data=content)).status == 200
    feed_document_id: str = document["feedDocumentId"]
    return feed_document_id


async def create_feed(amazon: Client, feed_type: str, document_id: str) -> str:
    body = {
        "feedType": feed_type,
        "marketplaceIds": ["ATVPDKIKX0DER"],
        "inputFeedDocumentId": document_id,
    }
    response = await amazon.post(f"{FEEDS}/feeds", json=body, headers=seller_token(amazon))
    assert response.status == 202
    feed_id: str = (await response.json())["feedId"]
    return feed_id


async def feed_of(amazon: Client, feed_id: str) -> dict[str, Any]:
    response = await amazon.get(f"{FEEDS}/feeds/{feed_id}", headers=seller_token(amazon))
    assert response.status == 200
    feed: dict[str, Any] = await response.json()
    return feed


async def result_of(amazon: Client, feed: dict[str, Any]) -> bytes:
    path = f"{FEEDS}/documents/{feed['resultFeedDocumentId']}"
    response = await amazon.get(path, headers=seller_token(amazon))
    assert response.status == 200
    document = await response.json()
    assert set(document) == {"feedDocumentId", "url"}
    download = await amazon.get(str(URL(document["url"]).relative()))
    assert download.status == 200
    return await download.read()


async def test_an_uploaded_feed_is_processed_over_time(aiohttp_client: AiohttpClient) -> None:
    clock = FakeClock()
    amazon = await timed(aiohttp_client, clock)
    document_id = await feed_document(amazon, FEED_XML)
    assert state_of(amazon).documents.documents[document_id].content == FEED_XML
    feed_id = await create_feed(amazon, "POST_PRODUCT_DATA", document_id)
    feed = await feed_of(amazon, feed_id)
    assert feed == {
        "feedId": feed_id,
        "feedType": "POST_PRODUCT_DATA",
        "marketplaceIds": ["ATVPDKIKX0DER"],
        "processingStatus": "IN_QUEUE",
        "createdTime": feed["createdTime"],
    }
    clock.advance(2)
    assert (await feed_of(amazon, feed_id))["processingStatus"] == "IN_PROGRESS"
    clock.advance(3)
    feed = await feed_of(amazon, feed_id)
    assert feed["processingStatus"] == "DONE"
    report = await result_of(amazon, feed)
    assert b"<MessagesProcessed>2</MessagesProcessed>" in report
    assert b"<MessagesWithError>0</MessagesWithError>" in report


@pytest.mark.parametrize("configured", [False, True])
async def test_a_feed_ends_fatal(aiohttp_client: AiohttpClient, configured: bool) -> None:
    clock = FakeClock()
    fatal = frozenset({"POST_PRODUCT_DATA"}) if configured else frozenset()
    amazon = await timed(aiohttp_client, clock, fatal_feed_types=fatal)
    document_id = await feed_document(amazon, FEED_XML if configured else None)
    feed_id = await create_feed(amazon, "POST_PRODUCT_DATA", document_id)
    clock.advance(5)
    feed = await feed_of(amazon, feed_id)
    assert feed["processingStatus"] == "FATAL"
    assert b"<ResultCode>Error</ResultCode>" in await result_of(amazon, feed)


async def test_only_a_queued_feed_can_be_cancelled(aiohttp_client: AiohttpClient) -> None:
    clock = FakeClock()
    amazon = await timed(aiohttp_client, clock)
    document_id = await feed_document(amazon, FEED_XML)
    queued = await create_feed(amazon, "POST_PRODUCT_DATA", document_id)
    assert (
        await amazon.delete(f"{FEEDS}/feeds/{queued}", headers=seller_token(amazon))
    ).status == 200
    assert (await feed_of(amazon, queued))["processingStatus"] == "CANCELLED"
    working = await create_feed(amazon, "POST_PRODUCT_DATA", document_id)
    clock.advance(2)
    response = await amazon.delete(f"{FEEDS}/feeds/{working}", headers=seller_token(amazon))
    assert response.status == 400
    response = await amazon.get(f"{FEEDS}/feeds/999", headers=seller_token(amazon))
    assert response.status == 404


async def test_create_feed_needs_a_known_document(aiohttp_client: AiohttpClient) -> None:
    amazon = await timed(aiohttp_client, FakeClock())
    body = {"feedType": "X", "marketplaceIds": ["A"], "inputFeedDocumentId": "nope"}
    response = await amazon.post(f"{FEEDS}/feeds", json=body, headers=seller_token(amazon))
    assert (await spapi_error(response))["code"] == "InvalidInput"
    response = await amazon.post(
        f"{FEEDS}/feeds", json={"feedType": "X"}, headers=seller_token(amazon)
    )
    assert response.status == 400
