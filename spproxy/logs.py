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

The access line is spproxy's one log line per request, so `spproxy serve` writes it without the
logging machinery (`AccessLines`): logging would build a LogRecord (the caller's frame looked up,
the time, thread and process read), pass it down a handler chain, and write and flush the stream
for each line, about a sixth of spproxy's CPU per request at saturation. The same line (same
format, escaped the same way; the same JSON object) goes into a buffer that is written once per
turn of the event loop, so a burst of answers is one write; any other record flushes it first,
so lines keep their order. Without `configure_logging` (spproxy embedded, the tests), the access
line goes through logging as any other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from dataclasses import dataclass, fields
from typing import Literal, TextIO

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
        if _access_lines is not None:
            _access_lines.write(self)
        elif access_log.isEnabledFor(logging.INFO):
            access_log.info("%s", self.message(), extra={"access": self})

    def message(self) -> str:
        upstream = f"{self.upstream_ms:.1f}" if self.upstream_ms is not None else "-"
        return (
            f"{self.method} {self.path} {self.operation} account={self.account} "
            f"token={self.token_kind} status={self.status} upstream_ms={upstream} "
            f"request_id={self.request_id or '-'} client={self.client}"
        )

    def entry(self) -> dict[str, object]:
        """For the JSON line: every field, by name, in order."""
        return {name: getattr(self, name) for name in ACCESS_FIELDS}


ACCESS_FIELDS = tuple(field.name for field in fields(AccessRecord))


class AccessLines:
    """The access log of `spproxy serve`: lines as logging would write them, buffered for one
    turn of the event loop (see the module's docstring)."""

    def __init__(self, stream: TextIO, fmt: LogFormat) -> None:
        self._stream = stream
        self._json = fmt == "json"
        self._pending: list[str] = []
        self._second = -1
        self._stamp = ""  # the second's time, formatted once per second

    def write(self, access: AccessRecord) -> None:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second, self._stamp = second, time.strftime(TIME_FORMAT, time.gmtime(second))
        stamp = f"{self._stamp}.{int((now - second) * 1000):03d}Z"
        if self._json:
            line = json.dumps({"time": stamp, **ACCESS_ENTRY, **access.entry()})
        else:
            line = f"{stamp} INFO {ACCESS_LOGGER} {access.message()}"
            line = line if line.isprintable() else escape_unprintable(line)
        first = not self._pending
        self._pending.append(line)
        if first:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop runs: no later turn to wait for
                self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        text = "\n".join(self._pending) + "\n"
        self._pending.clear()
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # as logging does: a log that cannot be written stops nothing
            pass


class OrderedHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler: writes the access lines still buffered before any other record."""

    def __init__(self, stream: TextIO, lines: AccessLines) -> None:
        super().__init__(stream)
        self._lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self._lines.flush()
        super().emit(record)

    def flush(self) -> None:
        """Also what logging.shutdown calls at exit, a worker's too: no access line is lost."""
        self._lines.flush()
        super().flush()


TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"  # AccessLines writes the same
ACCESS_ENTRY = {"level": "info", "logger": ACCESS_LOGGER}
_access_lines: AccessLines | None = None  # set by configure_logging: `spproxy serve`'s own


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
            entry.update(access.entry())
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
    global _access_lines  # the process's, as logging's own configuration
    lines = AccessLines(sys.stderr, fmt)
    handler = OrderedHandler(sys.stderr, lines)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        formatter = TextFormatter(TEXT_FORMAT)
        formatter.converter = time.gmtime
        formatter.default_time_format = TIME_FORMAT
        formatter.default_msec_format = "%s.%03dZ"
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_third_party_loggers()
    _access_lines = lines if access_log.isEnabledFor(logging.INFO) else None


def quiet_third_party_loggers() -> None:
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
