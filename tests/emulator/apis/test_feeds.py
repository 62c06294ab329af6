"""Feeds API 2021-06-30: feed documents."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import Client, seller_token, spapi_error


async def test_create_feed_document(amazon: Client) -> None:
    response = await amazon.post(
        "/feeds/2021-06-30/documents",
        json={"contentType": "text/xml; charset=UTF-8"},
        headers=seller_token(amazon),
    )
    assert response.status == 201
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.5"
    document = await response.json()
    assert document["feedDocumentId"]
    assert document["url"].startswith("https://")


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
