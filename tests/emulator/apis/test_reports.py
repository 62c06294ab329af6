"""Reports API 2021-06-30: reports, and documents restricted by report type."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient
from yarl import URL

from spproxy.emulator import (
    STATE_KEY,
    EmulatorConfig,
    make_emulator_app,
)
from spproxy.emulator.apis.reports import RESTRICTED_REPORT_TYPES
from spproxy.emulator.fixtures import (
    FBA_INVOICING_DOCUMENT,
    INVENTORY_DOCUMENT,
    LISTINGS_DOCUMENT,
    ORDER_REPORT_DOCUMENT,
    REPORTS,
    SHIPPING_ORDERS_DOCUMENT,
)
from tests.emulator.conftest import (
    Client,
    FakeClock,
    bearer,
    error_of,
    mint,
    resource,
    seller,
    state_of,
)

TOKENS = "/tokens/2021-03-01/restrictedDataToken"
DOCUMENTS = "/reports/2021-06-30/documents"


async def denied(aiohttp_client: AiohttpClient, **config: Any) -> Client:
    return await aiohttp_client(make_emulator_app(EmulatorConfig(**config)))


async def test_a_denied_report_type_refuses_its_documents(aiohttp_client: AiohttpClient) -> None:
    invoicing = "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_INVOICING"
    amazon = await denied(aiohttp_client, denied_report_types=frozenset({invoicing}))
    body = {"restrictedResources": [resource("GET", f"{DOCUMENTS}/{FBA_INVOICING_DOCUMENT}")]}
    response = await amazon.post(TOKENS, json=body, headers=seller(amazon))
    error = await error_of(response, 403)
    assert (
        error["details"]
        == f"The application does not have the role required for report type {invoicing}."
    )
    await mint(amazon, resource("GET", f"{DOCUMENTS}/{SHIPPING_ORDERS_DOCUMENT}"))


async def test_get_reports_names_each_reports_type_and_document(amazon: Client) -> None:
    response = await amazon.get(
        "/reports/2021-06-30/reports",
        params={
            "reportTypes": "GET_ORDER_REPORT_DATA_SHIPPING,GET_MERCHANT_LISTINGS_ALL_DATA",
            "processingStatuses": "DONE",
        },
        headers=seller(amazon),
    )
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0222"
    reports = (await response.json())["reports"]
    assert {(r["reportType"], r["reportDocumentId"]) for r in reports} == {
        ("GET_ORDER_REPORT_DATA_SHIPPING", ORDER_REPORT_DOCUMENT),
        ("GET_MERCHANT_LISTINGS_ALL_DATA", LISTINGS_DOCUMENT),
    }


async def test_get_reports_pages(amazon: Client) -> None:
    types = ",".join(sorted({r["reportType"] for r in REPORTS} & RESTRICTED_REPORT_TYPES))
    first = await amazon.get(
        "/reports/2021-06-30/reports",
        params={"reportTypes": types, "pageSize": "2"},
        headers=seller(amazon),
    )
    page = await first.json()
    assert len(page["reports"]) == 2 and page["nextToken"]
    seen = [report["reportId"] for report in page["reports"]]
    while "nextToken" in page:
        more = await amazon.get(
            "/reports/2021-06-30/reports",
            params={"nextToken": page["nextToken"]},
            headers=seller(amazon),
        )
        page = await more.json()
        seen += [report["reportId"] for report in page["reports"]]
    assert len(seen) == len(set(seen)) == 5  # four restricted documents, one report in progress


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"processingStatuses": "DONE"},
        {"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "nextToken": "x"},
        {"nextToken": "not a token"},
        {"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "processingStatuses": "FINISHED"},
        {"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "pageSize": "101"},
        {"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "createdSince": "yesterday"},
        {"reportTypes": ",".join(sorted(RESTRICTED_REPORT_TYPES))},  # at most 10
    ],
)
async def test_get_reports_refuses_invalid_input(amazon: Client, params: dict[str, str]) -> None:
    response = await amazon.get(
        "/reports/2021-06-30/reports", params=params, headers=seller(amazon)
    )
    assert (await error_of(response, 400))["code"] == "InvalidInput"


async def test_get_report(amazon: Client) -> None:
    response = await amazon.get("/reports/2021-06-30/reports/50039018868", headers=seller(amazon))
    assert response.headers["x-amzn-RateLimit-Limit"] == "2"
    report = await response.json()
    assert report["reportType"] == "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
    assert report["reportDocumentId"] == SHIPPING_ORDERS_DOCUMENT
    assert report["processingStatus"] == "DONE"
    missing = await amazon.get("/reports/2021-06-30/reports/1", headers=seller(amazon))
    assert (await error_of(missing, 404))["code"] == "NotFound"


@pytest.mark.parametrize("document", [LISTINGS_DOCUMENT, INVENTORY_DOCUMENT])
async def test_ordinary_report_document_answers_the_lwa_token(
    amazon: Client, document: str
) -> None:
    response = await amazon.get(f"{DOCUMENTS}/{document}", headers=seller(amazon))
    assert response.status == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    answer = await response.json()
    assert answer["reportDocumentId"] == document
    assert answer["url"].startswith("https://")
    gzip = {"compressionAlgorithm": "GZIP"} if document == INVENTORY_DOCUMENT else {}
    assert set(answer) == {"reportDocumentId", "url", *gzip}
    assert answer.get("compressionAlgorithm") == gzip.get("compressionAlgorithm")


@pytest.mark.parametrize(
    "document", [SHIPPING_ORDERS_DOCUMENT, ORDER_REPORT_DOCUMENT, FBA_INVOICING_DOCUMENT]
)
async def test_restricted_report_document_needs_an_rdt_for_its_path(
    amazon: Client, document: str
) -> None:
    path = f"{DOCUMENTS}/{document}"
    refused = await amazon.get(path, headers=seller(amazon))
    error = await error_of(refused, 403)
    assert error["code"] == "Unauthorized"
    assert f"minted for GET {path}" in error["details"]

    rdt = await mint(amazon, resource("GET", path))
    response = await amazon.get(path, headers=bearer(rdt))
    assert (await response.json())["reportDocumentId"] == document
    assert state_of(amazon).requests[-1].token_kind == "rdt"

    other = await amazon.get(f"{DOCUMENTS}/{LISTINGS_DOCUMENT}", headers=bearer(rdt))
    assert "does not grant access" in (await error_of(other, 403))["details"]


async def test_report_listings_refuse_an_rdt(amazon: Client) -> None:
    rdt = await mint(amazon, resource("GET", f"{DOCUMENTS}/{SHIPPING_ORDERS_DOCUMENT}"))
    for path in ("/reports/2021-06-30/reports", "/reports/2021-06-30/reports/50039018868"):
        response = await amazon.get(
            path, params={"reportTypes": "GET_ORDER_REPORT_DATA_SHIPPING"}, headers=bearer(rdt)
        )
        assert (await error_of(response, 403))["code"] == "Unauthorized"


async def test_unknown_report_document_is_404(amazon: Client) -> None:
    path = f"{DOCUMENTS}/amzn1.spdoc.1.4.na.00000000-0000-0000-0000-000000000000"
    assert (await error_of(await amazon.get(path, headers=seller(amazon)), 404))[
        "code"
    ] == "NotFound"
    rdt = await mint(amazon, resource("GET", path))
    assert (await amazon.get(path, headers=bearer(rdt))).status == 404


def test_restricted_report_types_are_the_sixteen_of_the_tokens_guide() -> None:
    assert len(RESTRICTED_REPORT_TYPES) == 16
    assert "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING" in RESTRICTED_REPORT_TYPES
    assert "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL" not in RESTRICTED_REPORT_TYPES
    assert "GET_MERCHANT_LISTINGS_ALL_DATA" not in RESTRICTED_REPORT_TYPES


# --- createReport, processed over time -------------------------------------------------------

REPORTS_PATH = "/reports/2021-06-30/reports"
LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"


async def timed(aiohttp_client: AiohttpClient, clock: FakeClock, **config: Any) -> Client:
    config = {"clock": clock, "processing_s": (2.0, 3.0), "sandbox_examples": False, **config}
    return await aiohttp_client(make_emulator_app(EmulatorConfig(**config)))


async def create(amazon: Client, report_type: str) -> str:
    body = {"reportType": report_type, "marketplaceIds": ["ATVPDKIKX0DER"]}
    response = await amazon.post(REPORTS_PATH, json=body, headers=seller(amazon))
    assert response.status == 202
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    report_id: str = (await response.json())["reportId"]
    return report_id


async def report_of(amazon: Client, report_id: str) -> dict[str, Any]:
    response = await amazon.get(f"{REPORTS_PATH}/{report_id}", headers=seller(amazon))
    assert response.status == 200
    report: dict[str, Any] = await response.json()
    return report


async def test_a_created_report_is_processed_over_time(aiohttp_client: AiohttpClient) -> None:
    clock = FakeClock()
    amazon = await timed(aiohttp_client, clock)
    report_id = await create(amazon, LISTINGS)
    report = await report_of(amazon, report_id)
    assert report == {
        "reportId": report_id,
        "reportType": LISTINGS,
        "marketplaceIds": ["ATVPDKIKX0DER"],
        "processingStatus": "IN_QUEUE",
        "createdTime": report["createdTime"],
    }
    clock.advance(2)
    report = await report_of(amazon, report_id)
    assert report["processingStatus"] == "IN_PROGRESS"
    assert "processingStartTime" in report and "reportDocumentId" not in report
    clock.advance(3)
    report = await report_of(amazon, report_id)
    assert report["processingStatus"] == "DONE"
    assert "processingEndTime" in report
    document = await document_of(amazon, report["reportDocumentId"])
    assert "compressionAlgorithm" not in document
    content = await download(amazon, document["url"])
    assert content.decode().startswith("report-type\t")


async def document_of(amazon: Client, document_id: str) -> dict[str, Any]:
    response = await amazon.get(f"{DOCUMENTS}/{document_id}", headers=seller(amazon))
    assert response.status == 200
    document: dict[str, Any] = await response.json()
    assert set(document) <= {"reportDocumentId", "url", "compressionAlgorithm"}
    assert document["reportDocumentId"] == document_id
    return document


async def download(amazon: Client, url: str) -> bytes:
    assert url.startswith(str(amazon.make_url("/_emulator/documents/")))
    response = await amazon.get(str(URL(url).relative()))
    assert response.status == 200
    return await response.read()


async def test_a_compressed_report_round_trips(aiohttp_client: AiohttpClient) -> None:
    clock = FakeClock()
    amazon = await timed(aiohttp_client, clock)
    report_id = await create(amazon, "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA")
    clock.advance(5)
    document = await document_of(amazon, (await report_of(amazon, report_id))["reportDocumentId"])
    assert document["compressionAlgorithm"] == "GZIP"
    content = gzip.decompress(await download(amazon, document["url"]))
    assert b"GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA" in content


async def test_a_report_ends_fatal_with_a_processing_report(
    aiohttp_client: AiohttpClient,
) -> None:
    clock = FakeClock()
    amazon = await timed(aiohttp_client, clock, fatal_report_types=frozenset({LISTINGS}))
    report_id = await create(amazon, LISTINGS)
    clock.advance(4)
    assert (await report_of(amazon, report_id))["processingStatus"] == "IN_PROGRESS"
    clock.advance(1)
    report = await report_of(amazon, report_id)
    assert report["processingStatus"] == "FATAL"
    document = await document_of(amazon, report["reportDocumentId"])
    assert b"Report processing failed" in await download(amazon, document["url"])


async def test_an_unknown_report_type_is_refused_at_once(aiohttp_client: AiohttpClient) -> None:
    amazon = await timed(aiohttp_client, FakeClock())
    body = {"reportType": "GET_NO_SUCH_REPORT", "marketplaceIds": ["ATVPDKIKX0DER"]}
    response = await amazon.post(REPORTS_PATH, json=body, headers=seller(amazon))
    error = await error_of(response, 400)
    assert error["code"] == "InvalidInput" and "GET_NO_SUCH_REPORT" in error["details"]
    assert amazon.app[STATE_KEY].reports.jobs == {}


async def test_only_a_queued_report_can_be_cancelled(aiohttp_client: AiohttpClient) -> None:
    clock = FakeClock()
    amazon = await timed(aiohttp_client, clock)
    queued, working = await create(amazon, LISTINGS), None
    response = await amazon.delete(f"{REPORTS_PATH}/{queued}", headers=seller(amazon))
    assert response.status == 200
    clock.advance(10)
    report = await report_of(amazon, queued)
    assert report["processingStatus"] == "CANCELLED" and "reportDocumentId" not in report
    working = await create(amazon, LISTINGS)
    clock.advance(2)
    response = await amazon.delete(f"{REPORTS_PATH}/{working}", headers=seller(amazon))
    assert (await error_of(response, 400))["code"] == "InvalidInput"
    response = await amazon.delete(f"{REPORTS_PATH}/999", headers=seller(amazon))
    assert response.status == 404


async def test_a_created_restricted_document_needs_an_rdt(aiohttp_client: AiohttpClient) -> None:
    clock = FakeClock()
    amazon = await timed(aiohttp_client, clock)
    report_id = await create(amazon, "GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING")
    clock.advance(5)
    document_id = (await report_of(amazon, report_id))["reportDocumentId"]
    response = await amazon.get(f"{DOCUMENTS}/{document_id}", headers=seller(amazon))
    assert response.status == 403
    token = await mint(amazon, resource("GET", f"{DOCUMENTS}/{document_id}"))
    response = await amazon.get(f"{DOCUMENTS}/{document_id}", headers=bearer(token))
    assert response.status == 200


async def test_a_document_is_named_only_once_its_report_ends(
    aiohttp_client: AiohttpClient,
) -> None:
    amazon = await timed(aiohttp_client, FakeClock())
    await create(amazon, LISTINGS)
    [job] = state_of(amazon).reports.jobs.values()
    response = await amazon.get(f"{DOCUMENTS}/{job.document_id}", headers=seller(amazon))
    assert response.status == 404
