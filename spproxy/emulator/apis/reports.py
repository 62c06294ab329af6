"""Reports API 2021-06-30: createReport, cancelReport, getReports, getReport, getReportDocument.

createReport's reports are processed over time (jobs.py): IN_QUEUE, IN_PROGRESS, then DONE with a
document, or FATAL with a processing-report document for the types EmulatorConfig names. A report
type the emulator does not know is refused at once, 400 "Invalid input", as the model's own
example refuses BAD_FEE_DISCOUNTS_REPORT (createReport's 400 in reports_2021-06-30.json). Their
documents are served by the emulator behind a presigned URL (presigned.py), GZIP-compressed for
the types Amazon compresses here. The fixture
reports (getReports lists only those) keep their documents' URLs on Amazon's bucket.

getReportDocument is restricted only for documents of restricted report types: those need a
Restricted Data Token minted for the document's specific path (the Tokens API refuses the generic
one); other documents answer the seller's LWA token. getReports and getReport answer the LWA
token and name each report's type and document, so a client can learn which documents need an
RDT before asking for them.
"""

from __future__ import annotations

import uuid

from aiohttp import web

from spproxy.emulator.access import holds_restricted_data_token, unauthorized
from spproxy.emulator.apis.query import (
    csv_values,
    date_time,
    json_object,
    next_token,
    page_query,
    utc,
)
from spproxy.emulator.errors import invalid_input, not_found
from spproxy.emulator.fixtures import (
    COMPRESSED_REPORT_TYPES,
    REPORT_DOCUMENTS,
    REPORT_TYPE_OF_DOCUMENT,
    REPORTS,
    JsonObject,
)
from spproxy.emulator.operations import Operation
from spproxy.emulator.state import STATE_KEY, EmulatorState

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
# The report types this emulator makes documents of: its fixtures' and the restricted ones.
KNOWN_REPORT_TYPES = frozenset(
    {report["reportType"] for report in REPORTS} | RESTRICTED_REPORT_TYPES
)
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


async def create_report(request: web.Request) -> web.Response:
    spec = await json_object(request)
    report_type, marketplace_ids = spec.get("reportType"), spec.get("marketplaceIds")
    if not isinstance(report_type, str) or not report_type:
        raise invalid_input("reportType is required.")
    if not isinstance(marketplace_ids, list) or not 1 <= len(marketplace_ids) <= 25:
        raise invalid_input("marketplaceIds takes 1 to 25 marketplace ids.")
    if report_type not in KNOWN_REPORT_TYPES:
        raise invalid_input("Invalid input", f"Invalid report type {report_type}.")
    state = request.app[STATE_KEY]
    fatal = report_type in state.config.fatal_report_types
    document_id = f"amzn1.spdoc.1.4.na.{uuid.uuid4()}"
    report_id = str(50_000_000_000 + len(state.reports.jobs) + 1)
    content, gzipped = _report_content(report_type, fatal)
    state.documents.put(document_id, content, "text/plain; charset=UTF-8", gzipped=gzipped)
    kept = ("reportType", "marketplaceIds", "dataStartTime", "dataEndTime")
    state.reports.add(
        report_id, {k: spec[k] for k in kept if k in spec}, fatal=fatal, document_id=document_id
    )
    return web.json_response({"reportId": report_id}, status=202)


def _report_content(report_type: str, fatal: bool) -> tuple[bytes, bool]:
    """The document a report ends with: a small tab-separated report, or a processing report."""
    if fatal:
        # Amazon's FATAL reports may name a document explaining why; it is never compressed.
        return f"Report processing failed: report type {report_type}.\n".encode(), False
    rows = f"report-type\tgenerated-by\n{report_type}\tspproxy emulator\n"
    return rows.encode(), report_type in COMPRESSED_REPORT_TYPES


async def get_report(request: web.Request) -> web.Response:
    report_id = request.match_info["reportId"]
    reports = request.app[STATE_KEY].reports
    if job := reports.jobs.get(report_id):
        return web.json_response(reports.answer(job, "reportId", "reportDocumentId"))
    report = next((report for report in REPORTS if report["reportId"] == report_id), None)
    if report is None:
        raise not_found("Report not found.", f"No report has the id {report_id}.")
    return web.json_response(report)


async def cancel_report(request: web.Request) -> web.Response:
    report_id = request.match_info["reportId"]
    reports = request.app[STATE_KEY].reports
    job = reports.jobs.get(report_id)
    if job is None:
        raise not_found("Report not found.", f"No report has the id {report_id}.")
    if not reports.cancel(job):
        raise invalid_input(
            "Only reports with processingStatus=IN_QUEUE can be cancelled.",
            f"Report {report_id} is {reports.status(job)}.",
        )
    return web.Response(status=200)  # the model's 200 has no body


def _created_document(
    state: EmulatorState, request: web.Request, document_id: str
) -> JsonObject | None:
    """getReportDocument's answer for a created report's document, once the report has ended."""
    job = next((j for j in state.reports.jobs.values() if j.document_id == document_id), None)
    if job is None or state.reports.status(job) not in ("DONE", "FATAL"):
        return None
    if job.spec["reportType"] in RESTRICTED_REPORT_TYPES and not holds_restricted_data_token(
        request
    ):
        raise unauthorized(
            "This report document is of a restricted report type: it needs a Restricted Data "
            f"Token minted for GET {request.path}."
        )
    url = state.documents.presign(str(request.url.origin()), "GET", document_id)
    answer: JsonObject = {"reportDocumentId": document_id, "url": url}
    stored = state.documents.documents.get(document_id)  # gone: the bucket answers NoSuchKey
    if stored is not None and stored.compression:
        answer["compressionAlgorithm"] = stored.compression
    return answer


async def get_report_document(request: web.Request) -> web.Response:
    document_id = request.match_info["reportDocumentId"]
    if created := _created_document(request.app[STATE_KEY], request, document_id):
        return web.json_response(created)
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
    Operation("createReport", "POST", "/reports/2021-06-30/reports", create_report, rate=0.0167),
    Operation(
        "cancelReport",
        "DELETE",
        "/reports/2021-06-30/reports/{reportId}",
        cancel_report,
        rate=0.0222,
    ),
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
