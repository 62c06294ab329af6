"""Which report documents hold PII: learned from the getReport/getReports answers we relay.

getReportDocument needs an RDT, for the document's own path, only when the report's type is one
of the restricted types (Tokens API use-case guide). The document id alone does not say its
type, but the getReport and getReports answers that led the client to it do. So we remember
document id -> report type from them, bounded and expiring; a client may also say the type in
`x-spproxy-report-type`; and when neither is known, the caller tries the LWA token first and
mints an RDT only if Amazon answers 403. With shared state, what one replica learns serves the
others (`sharedfacts`): a client may fetch the report from one and its document from another.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from spproxy.operations import REPORT_LISTINGS, RESTRICTED_REPORT_TYPES, Operation
from spproxy.sharedfacts import LearnedFacts
from spproxy.sharedtokens import fingerprint

if TYPE_CHECKING:
    from spproxy.sharedstate import SharedState

Observer = Callable[[bytes], Awaitable[None]]  # awaited before the answer goes out


class ReportTypes:
    def __init__(
        self,
        *,
        maxsize: int = 100_000,
        ttl_s: float = 86_400.0,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedState | None = None,
    ) -> None:
        # document id -> whether its report type is restricted
        self._restricted: LearnedFacts[str, bool] = LearnedFacts(
            maxsize=maxsize,
            ttl_s=ttl_s,
            kind="report-restricted",
            name=lambda document_id: fingerprint(document_id, hex_digits=32),  # clients choose ids
            encode=lambda restricted: b"1" if restricted else b"0",
            decode={b"1": True, b"0": False}.get,
            shared=shared,
            clock=clock,
        )

    def __len__(self) -> int:
        return len(self._restricted)

    def snapshot(self) -> dict[str, int]:
        """For /_spproxy/status: how many documents' types are known."""
        return {"report_documents_known": len(self._restricted)}

    def restricted(self, document_id: str, hint: str | None) -> bool | None:
        """Whether the document needs an RDT, as this process knows; None when not known."""
        if hint:
            return hint in RESTRICTED_REPORT_TYPES
        return self._restricted.get(document_id)

    async def recall(self, document_id: str, hint: str | None) -> bool | None:
        """`restricted`, or else what another replica learned."""
        known = self.restricted(document_id, hint)
        return known if known is not None else await self._restricted.recall(document_id)

    async def mark_restricted(self, document_id: str) -> None:
        """Amazon refused the document to the LWA token and served it with an RDT."""
        await self._restricted.learn([(document_id, True)])

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
        learned: list[tuple[str, bool]] = []
        for report in reports if isinstance(reports, list) else []:
            if not isinstance(report, dict):
                continue
            document, report_type = report.get("reportDocumentId"), report.get("reportType")
            if isinstance(document, str) and isinstance(report_type, str):
                learned.append((document, report_type in RESTRICTED_REPORT_TYPES))
        await self._restricted.learn(learned)
