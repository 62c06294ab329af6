"""Reports API 2021-06-30: getReports, getReport and getReportDocument.

getReportDocument is restricted only for documents of restricted report types: those need a
Restricted Data Token minted for the document's specific path (the Tokens API refuses the generic
one); other documents answer the seller's LWA token. getReports and getReport answer the LWA
token and name each report's type and document, so a client can learn which documents need an
RDT before asking for them.
"""

from __future__ import annotations

from aiohttp import web

from spproxy.emulator.access import holds_restricted_data_token, unauthorized
from spproxy.emulator.apis.query import csv_values, date_time, next_token, page_query, utc
from spproxy.emulator.errors import invalid_input, not_found
from spproxy.emulator.fixtures import (
    REPORT_DOCUMENTS,
    REPORT_TYPE_OF_DOCUMENT,
    REPORTS,
    JsonObject,
)
from spproxy.emulator.operations import Operation

# The report types whose documents hold PII, as listed under "Restricted report types" in Amazon's
# Tokens API use-case guide (v2021-03-01): https://developer-docs.amazon.com/sp-api/docs/
# tokens-api-use-case-guide and github.com/amzn/selling-partner-api-docs, guides/en-US/
# use-case-guides/tokens-api-use-case-guide/tokens-API-use-case-guide-2021-03-01.md.
# GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL and the GET_*_ALL_ORDERS_DATA_* types are NOT in it.
RESTRICTED_REPORT_TYPES = frozenset(
    {
        "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_INVOICING",
        "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_TAX",
        "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING",
        "GET_FLAT_FILE_ORDER_REPORT_DATA_SHIPPING",
        "GET_FLAT_FILE_ORDER_REPORT_DATA_INVOICING",
        "GET_FLAT_FILE_ORDER_REPORT_DATA_TAX",
        "GET_FLAT_FILE_ORDERS_RECONCILIATION_DATA_TAX",
        "GET_FLAT_FILE_ORDERS_RECONCILIATION_DATA_INVOICING",
        "GET_FLAT_FILE_ORDERS_RECONCILIATION_DATA_SHIPPING",
        "GET_ORDER_REPORT_DATA_INVOICING",
        "GET_ORDER_REPORT_DATA_TAX",
        "GET_ORDER_REPORT_DATA_SHIPPING",
        "GET_EASYSHIP_DOCUMENTS",
        "GET_GST_MTR_B2B_CUSTOM",
        "GET_VAT_TRANSACTION_DATA",
        "SC_VAT_TAX_REPORT",
    }
)

PROCESSING_STATUSES = frozenset({"CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"})
_PAGE_SIZE = 10
_MAX_PAGE_SIZE = 100
_MAX_FILTER_VALUES = 10  # reportTypes and marketplaceIds take 1 to 10 values


async def get_reports(request: web.Request) -> web.Response:
    if "nextToken" in request.query and len(request.query) > 1:
        raise invalid_input("nextToken must be the only parameter when it is given.")
    query, offset = page_query(request)
    report_types = csv_values(query, "reportTypes")
    if not report_types:
        raise invalid_input("Either reportTypes or nextToken is required.")
    marketplace_ids = csv_values(query, "marketplaceIds")
    if len(report_types) > _MAX_FILTER_VALUES or len(marketplace_ids) > _MAX_FILTER_VALUES:
        raise invalid_input("reportTypes and marketplaceIds take at most 10 values.")
    statuses = csv_values(query, "processingStatuses")
    unknown = sorted(set(statuses) - PROCESSING_STATUSES)
    if unknown:
        raise invalid_input(f"Invalid processingStatuses value(s): {', '.join(unknown)}.")
    since = date_time(query, "createdSince")
    until = date_time(query, "createdUntil")
    try:
        page_size = int(query.get("pageSize", str(_PAGE_SIZE)))
    except ValueError:
        page_size = 0
    if not 1 <= page_size <= _MAX_PAGE_SIZE:
        raise invalid_input(f"pageSize must be an integer from 1 to {_MAX_PAGE_SIZE}.")
    # Amazon's createdSince defaults to 90 days ago; the fixtures are fixed in time, so here it
    # defaults to no bound.
    found = [
        report
        for report in REPORTS
        if report["reportType"] in report_types
        and (not statuses or report["processingStatus"] in statuses)
        and (not marketplace_ids or set(report["marketplaceIds"]) & set(marketplace_ids))
        and (since is None or utc(report["createdTime"]) >= since)
        and (until is None or utc(report["createdTime"]) <= until)
    ]
    found.sort(key=lambda report: str(report["createdTime"]), reverse=True)  # newest first
    answer: JsonObject = {"reports": found[offset : offset + page_size]}
    if offset + page_size < len(found):
        answer["nextToken"] = next_token(query, offset + page_size)
    return web.json_response(answer)


async def get_report(request: web.Request) -> web.Response:
    report_id = request.match_info["reportId"]
    report = next((report for report in REPORTS if report["reportId"] == report_id), None)
    if report is None:
        raise not_found("Report not found.", f"No report has the id {report_id}.")
    return web.json_response(report)


async def get_report_document(request: web.Request) -> web.Response:
    document_id = request.match_info["reportDocumentId"]
    if document_id not in REPORT_DOCUMENTS:
        raise not_found(
            "Report document not found.", f"No report document has the id {document_id}."
        )
    restricted = REPORT_TYPE_OF_DOCUMENT[document_id] in RESTRICTED_REPORT_TYPES
    if restricted and not holds_restricted_data_token(request):
        # The pipeline let the LWA token through (the operation answers it for other types);
        # an RDT reaching here was minted for this very document.
        raise unauthorized(
            "This report document is of a restricted report type: it needs a Restricted Data "
            f"Token minted for GET {request.path}."
        )
    return web.json_response(REPORT_DOCUMENTS[document_id])


def report_type_of_document_path(path: str) -> str | None:
    """The report type behind a getReportDocument path, if the path names a known document."""
    prefix = "/reports/2021-06-30/documents/"
    return REPORT_TYPE_OF_DOCUMENT.get(path[len(prefix) :]) if path.startswith(prefix) else None


OPERATIONS = (
    Operation("getReports", "GET", "/reports/2021-06-30/reports", get_reports, rate=0.0222),
    Operation("getReport", "GET", "/reports/2021-06-30/reports/{reportId}", get_report, rate=2),
    Operation(
        "getReportDocument",
        "GET",
        "/reports/2021-06-30/documents/{reportDocumentId}",
        get_report_document,
        rate=0.0167,
        restricted=True,
        answers_lwa_token=True,
        generic_path_allowed=False,
    ),
)
