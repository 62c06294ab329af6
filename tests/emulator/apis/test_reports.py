"""Reports API 2021-06-30: reports, and documents restricted by report type."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient

from spproxy.emulator import (
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
from tests.emulator.conftest import Client, bearer, error_of, mint, resource, seller, state_of

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
