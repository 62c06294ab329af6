"""The audit log: a JSON line per restricted call, naming the client, with no PII."""

from __future__ import annotations

import json
from logging.handlers import TimedRotatingFileHandler
from pathlib import Path

from spproxy.audit import AuditLog
from spproxy.config import AuditLogConfig
from spproxy.logs import AccessRecord
from tests.harness import StartHarness
from tests.test_clients import ANALYTICS, CLIENTS, ORDER, SHIPPING


async def test_a_line_per_restricted_call_naming_the_client_and_no_pii(
    start: StartHarness, tmp_path: Path
) -> None:
    path = tmp_path / "audit" / "spproxy-audit.jsonl"
    harness = await start(clients=CLIENTS, audit_log=AuditLogConfig(str(path)))
    calls = [
        (ORDER, SHIPPING),  # restricted: an RDT with shippingAddress
        (ORDER, ANALYTICS),  # restricted, without PII: the LWA token
        ("/mfn/v0/shipments/abc", ANALYTICS),  # restricted, refused by the client's grants
        ("/sellers/v1/marketplaceParticipations", ANALYTICS),  # not restricted: not audited
    ]
    for call_path, headers in calls:
        await harness.proxy.get(call_path, headers=headers)
    await harness.proxy.close()  # flush and close the file
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(e["client"], e["operation"], e["status"]) for e in lines] == [
        ("shipping", "getOrder", 200),
        ("analytics", "getOrder", 200),
        ("analytics", "getShipment", 403),
    ]
    first = lines[0]
    assert first["account"] == "main" and first["path"] == "/orders/v0/orders/{orderId}"
    assert (first["token"], first["data_elements"]) == ("rdt", ["shippingAddress"])
    assert first["request_id"] == harness.amazon.requests[-1].request_id or first["request_id"]
    assert lines[1]["token"] == "lwa" and lines[1]["data_elements"] == []
    text = path.read_text()
    for secret in (
        "410 Terry Ave N",
        "Jordan",
        "@example.com",
        "902-1845936",
        *harness.amazon.tokens,
    ):
        assert secret not in text


def test_files_rotate_daily_and_are_kept_90_days_by_default(tmp_path: Path) -> None:
    audit = AuditLog(AuditLogConfig(str(tmp_path / "a.jsonl")))
    handler = audit._handler
    assert isinstance(handler, TimedRotatingFileHandler)
    assert (handler.when, handler.backupCount, handler.utc) == ("MIDNIGHT", 90, True)
    audit.record(AccessRecord("GET", "/x", restricted=True, status=200))
    audit.close()
    hourly = AuditLog(AuditLogConfig(str(tmp_path / "h.jsonl"), rotate="hourly", keep_days=2))
    assert (hourly._handler.when, hourly._handler.backupCount) == ("H", 48)
    hourly.close()
