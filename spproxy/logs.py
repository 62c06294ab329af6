"""Logging: an access line per request, text or JSON, and nothing that may hold a secret or PII.

Amazon's Data Protection Policy: API access is logged; tokens, secrets, bodies and PII never are.
So the access line names the path *template* and operation (never the query, whose values may be
PII), and third-party loggers that would print request data at debug level are held at WARNING
whatever --log-level says: botocore logs the canonical request (with the access token) and
aiohttp logs malformed request lines (with their query strings).

Whatever a client controls (a path, an account name, a header value) may reach a log line, so
the text format escapes every character that is not printable (CR, LF, other controls, Unicode
line separators): no client can start a forged line or send escape sequences to a terminal. JSON
escapes them by itself.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from typing import Literal

ACCESS_LOGGER = "spproxy.access"
QUIET_LOGGERS = {
    "botocore": logging.WARNING,
    "aiohttp": logging.WARNING,
    "aiohttp.server": logging.CRITICAL,
    "aiohttp.access": logging.CRITICAL,
    "asyncio": logging.WARNING,
}
LogFormat = Literal["text", "json"]

NOT_CLASSIFIED = "-"  # the operation before classification; "unknown" after, if no operation

access_log = logging.getLogger(ACCESS_LOGGER)


@dataclass(slots=True)
class AccessRecord:
    """One request's access-log line, filled in as the pipeline learns each field."""

    method: str
    path: str  # the operation's path template, or the bare path when unknown
    account: str = "-"
    operation: str = NOT_CLASSIFIED
    token_kind: str = "none"  # noqa: S105 - a kind, not a token: Credential.token_kind
    credential: str | None = None  # x-spproxy-credential: Credential.kind
    status: int = 0  # 0: no answer was made (the client went away first)
    upstream_ms: float | None = None
    request_id: str | None = None  # Amazon's x-amzn-RequestId
    client: str = "-"  # the client key's name, when clients: are configured
    restricted: bool = False  # a restricted operation: the audit log records it too
    data_elements: tuple[str, ...] = ()  # what the RDT granted
    origin: str = "amazon"  # amazon: relayed; proxy: an answer spproxy made itself

    def emit(self) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        upstream = f"{self.upstream_ms:.1f}" if self.upstream_ms is not None else "-"
        access_log.info(
            "%s %s %s account=%s token=%s status=%d upstream_ms=%s request_id=%s client=%s",
            self.method,
            self.path,
            self.operation,
            self.account,
            self.token_kind,
            self.status,
            upstream,
            self.request_id or "-",
            self.client,
            extra={"access": self},
        )


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        access = getattr(record, "access", None)
        if isinstance(access, AccessRecord):
            entry.update(asdict(access))
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class TextFormatter(logging.Formatter):
    """One line per record, whatever the record holds: non-printable characters escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        return line if line.isprintable() else escape_unprintable(line)


def escape_unprintable(text: str) -> str:
    """`\\r`, `\\n`, `\\x1b`, `\\u2028`, ... for every character str.isprintable() refuses."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def configure_logging(level: str = "info", fmt: LogFormat = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        formatter = TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        formatter.converter = time.gmtime
        formatter.default_time_format = "%Y-%m-%dT%H:%M:%S"
        formatter.default_msec_format = "%s.%03dZ"
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_third_party_loggers()


def quiet_third_party_loggers() -> None:
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
