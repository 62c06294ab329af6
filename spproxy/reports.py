"""Which report documents hold PII: learned from the getReport/getReports answers we relay.

getReportDocument needs an RDT, for the document's own path, only when the report's type is one
of the restricted types (Tokens API use-case guide). The document id alone does not say its
type, but the getReport and getReports answers that led the client to it do. So we remember
document id -> report type from them, bounded and expiring; a client may also say the type in
`x-spproxy-report-type`; and when neither is known, the caller tries the LWA token first and
mints an RDT only if Amazon answers 403.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable

from cachetools import TTLCache

from spproxy.operations import REPORT_LISTINGS, RESTRICTED_REPORT_TYPES, Operation

Observer = Callable[[bytes], Awaitable[None]]  # awaited before the answer goes out


class ReportTypes:
    def __init__(
        self,
        *,
        maxsize: int = 100_000,
        ttl_s: float = 86_400.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # document id -> whether its report type is restricted
        self._restricted: TTLCache[str, bool] = TTLCache(maxsize=maxsize, ttl=ttl_s, timer=clock)

    def __len__(self) -> int:
        return len(self._restricted)

    def snapshot(self) -> dict[str, int]:
        """For /_spproxy/status: how many documents' types are known."""
        return {"report_documents_known": len(self._restricted)}

    def restricted(self, document_id: str, hint: str | None) -> bool | None:
        """Whether the document needs an RDT; None when its type is not known."""
        if hint:
            return hint in RESTRICTED_REPORT_TYPES
        return self._restricted.get(document_id)

    def mark_restricted(self, document_id: str) -> None:
        """Amazon refused the document to the LWA token and served it with an RDT."""
        self._restricted[document_id] = True

    def observer(self, operation: Operation | None) -> Observer | None:
        """What reads the answer of `operation`, if it names report documents' types."""
        if operation is None or (operation.method, operation.path) not in REPORT_LISTINGS:
            return None
        return self.learn

    async def learn(self, body: bytes) -> None:
        """Remember the document types a getReport or getReports answer names."""
        try:
            payload = json.loads(body)
        except ValueError:
            return
        if not isinstance(payload, dict):
            return
        reports = payload.get("reports", [payload])
        for report in reports if isinstance(reports, list) else []:
            if not isinstance(report, dict):
                continue
            document, report_type = report.get("reportDocumentId"), report.get("reportType")
            if isinstance(document, str) and isinstance(report_type, str):
                self._restricted[document] = report_type in RESTRICTED_REPORT_TYPES
