"""Amazon's sandbox examples, matched against a request as Amazon's sandbox matches them: path
parameters, query parameters, the body, the most specific example first."""

from __future__ import annotations

from typing import Any

import pytest

from spproxy.emulator import STATE_KEY
from spproxy.emulator.sandbox import NO_MATCH_MESSAGE
from tests.emulator.conftest import Client
from tests.emulator.test_sandbox import error_of, example, seller

FEEDS = "/feeds/2021-06-30/feeds"
FEED_QUERY = {
    "feedTypes": "POST_PRODUCT_DATA",
    "pageSize": "10",
    "processingStatuses": "CANCELLED,DONE",
}

SCHEDULES = "/reports/2021-06-30/schedules"
SCHEDULE = {
    "reportType": "FEE_DISCOUNTS_REPORT",
    "period": "PT5M",
    "nextReportCreationTime": "2024-03-10T20:11:24.000Z",
    "marketplaceIds": ["A1PA6795UKMFR9", "ATVPDKIKX0DER"],
}
FEED = {
    "feedType": "POST_PRODUCT_DATA",
    "marketplaceIds": ["ATVPDKIKX0DER", "A1F83G8C2ARO7P"],
    "inputFeedDocumentId": "3d4e42b5-1d6e-44e8-a89c-2abfca0625bb",
}


async def test_path_parameters_are_read_as_aiohttp_reads_them(amazon: Client) -> None:
    # %4F is an unreserved "O": the same path as /inboundOrders/TestOrderId.
    path = "/awd/2024-05-09/inboundOrders/Test%4FrderId"
    response = await amazon.get(path, headers=seller(amazon))
    assert response.status == 200
    assert amazon.app[STATE_KEY].requests[-1].operation == "getInbound"


async def test_path_parameters_are_percent_decoded(amazon: Client) -> None:
    response = await amazon.get("/awd/2024-05-09/inboundOrders/%20", headers=seller(amazon))
    assert response.status == 400
    assert await response.json() == example("GET", "/awd/2024-05-09/inboundOrders/{orderId}", 400)
    response = await amazon.get("/awd/2024-05-09/inboundOrders/TestOrderId", headers=seller(amazon))
    assert response.status == 200


@pytest.mark.parametrize(
    "query",
    [
        FEED_QUERY,
        {**FEED_QUERY, "pageSize": "10.0"},  # numbers by value
        {**FEED_QUERY, "marketplaceIds": "ATVPDKIKX0DER"},  # parameters it does not name
        [  # an array as repeated parameters
            ("feedTypes", "POST_PRODUCT_DATA"),
            ("pageSize", "10"),
            ("processingStatuses", "CANCELLED"),
            ("processingStatuses", "DONE"),
        ],
    ],
)
async def test_query_parameters_match(amazon: Client, query: Any) -> None:
    response = await amazon.get(FEEDS, params=query, headers=seller(amazon))
    assert response.status == 200
    assert await response.json() == example("GET", FEEDS, 200)
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0222"


@pytest.mark.parametrize(
    "query",
    [
        {**FEED_QUERY, "pageSize": "11"},
        {**FEED_QUERY, "processingStatuses": "DONE,CANCELLED"},  # element by element, in order
        {**FEED_QUERY, "processingStatuses": "CANCELLED"},
        {"feedTypes": "POST_PRODUCT_DATA", "pageSize": "10"},
    ],
)
async def test_no_match_lists_what_the_examples_expect(amazon: Client, query: Any) -> None:
    response = await amazon.get(FEEDS, params=query, headers=seller(amazon))
    assert response.status == 400
    error = await error_of(response)
    assert (error["code"], error["message"]) == ("InvalidInput", NO_MATCH_MESSAGE)
    assert error["details"] == (
        "getFeeds answers the sandbox examples of Amazon's model "
        "(feeds-api-model/feeds_2021-06-30.json): "
        "feedTypes=POST_PRODUCT_DATA pageSize=10 processingStatuses=CANCELLED,DONE -> 200; "
        "feedTypes=POST_PRODUCT_DATA processingStatuses=BAD_VALUE,DONE -> 400."
    )


async def test_an_error_example_answers_its_status(amazon: Client) -> None:
    query = {"feedTypes": "POST_PRODUCT_DATA", "processingStatuses": "BAD_VALUE,DONE"}
    response = await amazon.get(FEEDS, params=query, headers=seller(amazon))
    assert response.status == 400
    assert await response.json() == example("GET", FEEDS, 400)
    assert "x-amzn-RateLimit-Limit" not in response.headers


async def test_the_body_must_equal_the_examples(amazon: Client) -> None:
    # createReportSchedule: answered from its examples only (createFeed now has a handler).
    reordered = dict(reversed(SCHEDULE.items()))
    response = await amazon.post(SCHEDULES, json=reordered, headers=seller(amazon))
    assert response.status == 201
    assert await response.json() == {"reportScheduleId": "ID323"}
    for body in ({**SCHEDULE, "reportOptions": {}}, {**SCHEDULE, "marketplaceIds": ["X"]}):
        response = await amazon.post(SCHEDULES, json=body, headers=seller(amazon))
        assert response.status == 400
        assert (await error_of(response))["message"] == NO_MATCH_MESSAGE
    response = await amazon.post(SCHEDULES, data=b"not json", headers=seller(amazon))
    assert response.status == 400


async def test_a_matching_example_answers_before_the_handler(amazon: Client) -> None:
    reordered = dict(reversed(FEED.items()))
    response = await amazon.post(FEEDS, json=reordered, headers=seller(amazon))
    assert response.status == 202
    assert await response.json() == {"feedId": "3485934"}


async def test_the_most_specific_example_wins(amazon: Client) -> None:
    query = {"CreatedAfter": "TEST_CASE_200_NEXT_TOKEN", "MarketplaceIds": "ATVPDKIKX0DER"}
    first = await amazon.get("/orders/v0/orders", params=query, headers=seller(amazon))
    assert "NextToken" in (await first.json())["payload"]
    token = {"NextToken": "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"}
    second = await amazon.get(
        "/orders/v0/orders", params={**query, **token}, headers=seller(amazon)
    )
    assert await second.json() == example("GET", "/orders/v0/orders", 200, **token)
