"""The audit log: one JSON line per call to a restricted operation, kept as long as Amazon asks.

Amazon's Data Protection Policy: access to PII is logged, and the logs are kept (90 days). A line
names who asked (client), for which seller (account), what (operation), which data elements the
token granted, and what Amazon answered (status, x-amzn-RequestId): never the PII, the key or
the token. Files rotate daily (or hourly) in UTC; `keep_days` of them are kept, older ones deleted.
"""

from __future__ import annotations

import json
import logging
import time
from logging.handlers import TimedRotatingFileHandler
from pathlib import Path

from spproxy.config import AuditLogConfig
from spproxy.logs import AccessRecord


class AuditLog:
    def __init__(self, config: AuditLogConfig) -> None:
        Path(config.path).parent.mkdir(parents=True, exist_ok=True)
        hourly = config.rotate == "hourly"
        self._handler = TimedRotatingFileHandler(
            config.path,
            when="H" if hourly else "midnight",
            backupCount=config.keep_days * (24 if hourly else 1),
            encoding="utf-8",
            utc=True,
        )
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        # A logger of its own, not propagated: the audit trail never mixes with stderr.
        self._log = logging.getLogger(f"spproxy.audit.{id(self)}")
        self._log.propagate = False
        self._log.setLevel(logging.INFO)
        self._log.addHandler(self._handler)

    def record(self, access: AccessRecord) -> None:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "client": access.client,
            "account": access.account,
            "operation": access.operation,
            "path": access.path,  # the template: ids stay out
            "token": access.token_kind,
            "data_elements": list(access.data_elements),
            "status": access.status,
            "request_id": access.request_id,
        }
        self._log.info(json.dumps(entry))

    def event(self, entry: dict[str, str]) -> None:
        """Another kind of access worth a line: a seller's onboarding (never a code or token)."""
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._log.info(json.dumps({"time": now, **entry}))

    def close(self) -> None:
        self._log.removeHandler(self._handler)
        self._handler.close()
