"""`spproxy report TYPE --marketplace ID [--start TIME] [--end TIME] [-o FILE]`: a report, from
createReport to its document, through a running spproxy (or, with --config, one of its own:
jobproxy).

createReport, then getReport until the report ends (jobwatch: paced polls, progress, Ctrl-C
cancelling it while IN_QUEUE), then its document through GET /_spproxy/documents/reports/{id},
decompressed, to FILE (whole or not at all) or standard output. A report that ends FATAL or
CANCELLED writes nothing and exits 1; a FATAL one's processing report is named, to fetch.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from spproxy.jobwatch import INTERRUPTED, Terminal, follow, run_command
from spproxy.proxyclient import Failed, ProxyClient, add_client_options, output, written_to

REPORTS = "/reports/2021-06-30/reports"
REPORT_DOCUMENTS = "/_spproxy/documents/reports/"


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report_type", metavar="TYPE", help="e.g. GET_MERCHANT_LISTINGS_ALL_DATA")
    parser.add_argument("--start", metavar="TIME", help="dataStartTime, ISO 8601")
    parser.add_argument("--end", metavar="TIME", help="dataEndTime, ISO 8601")
    add_client_options(parser)


def run_report(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> int:
    return run_command("report", report, args, env)


async def report(client: ProxyClient, args: argparse.Namespace, terminal: Terminal) -> int:
    spec: dict[str, Any] = {"reportType": args.report_type, "marketplaceIds": args.marketplace}
    if args.start:
        spec["dataStartTime"] = args.start
    if args.end:
        spec["dataEndTime"] = args.end
    created = await client.call("createReport", "POST", REPORTS, spec)
    report_id = created.get("reportId")
    if not isinstance(report_id, str):
        raise Failed("createReport answered without a reportId")
    label = f"report {report_id}"
    path = f"{REPORTS}/{quote(report_id, safe='')}"
    ended = await follow(client, ("getReport", "cancelReport"), path, label, terminal)
    if ended is None:
        return INTERRUPTED
    return await _finish(client, args, ended, label, terminal)


async def _finish(
    client: ProxyClient,
    args: argparse.Namespace,
    ended: dict[str, Any],
    label: str,
    terminal: Terminal,
) -> int:
    status, document = ended.get("processingStatus"), ended.get("reportDocumentId")
    if status == "CANCELLED":
        terminal.say(f"{label} was CANCELLED (at Amazon, or by another client): no document")
        return 1
    if not isinstance(document, str):
        if status == "FATAL":
            terminal.say(f"{label} ended FATAL, without a processing report")
            return 1
        raise Failed(f"{label} is {status} without a reportDocumentId")
    where = REPORT_DOCUMENTS + quote(document, safe="")
    if status == "FATAL":
        terminal.say(f"{label} ended FATAL; its processing report: GET {client.base}{where}")
        return 1
    with output(args.output, terminal.stdout) as sink:
        await client.download("getReportDocument", where, sink)
    terminal.say(f"{label}: DONE, document {document}" + written_to(args.output))
    return 0
