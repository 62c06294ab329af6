"""A whole run of `spproxy serve --log-level debug`, its log grepped for every secret it touched."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    EmulatorConfig,
    make_emulator_app,
)
from spproxy.logs import (
    ACCESS_LOGGER,
    TEXT_FORMAT,
    TIME_FORMAT,
    AccessLines,
    AccessRecord,
    JsonFormatter,
    LogFormat,
    OrderedHandler,
    TextFormatter,
)
from tests.harness import AWS_KEY_ID, AWS_SECRET, MARKETPLACE, serve

CLIENT_SENT_SECRET = "Bearer client-side-secret-value-123"
PII_IN_QUERY = "Jordan Rivera 410 Terry Ave N"
PII_IN_BODY = "fzyrv6gwkhbb15c@example.com"


async def _drive(base: str) -> None:
    """A run touching every credential path: seller, grantless, signing, STS, refusals."""
    async with aiohttp.ClientSession() as session:
        calls = [
            session.get(
                f"{base}/sellers/v1/marketplaceParticipations",
                headers={"Authorization": CLIENT_SENT_SECRET},
            ),
            session.get(
                f"{base}/orders/v0/orders?MarketplaceIds={MARKETPLACE}&CreatedAfter=2024-01-01T00:00:00Z"
            ),
            session.get(f"{base}/orders/v0/orders/902-1845936-5435065"),
            session.get(
                f"{base}/catalog/2022-04-01/items",
                params={"marketplaceIds": MARKETPLACE, "keywords": PII_IN_QUERY},
            ),
            session.post(
                f"{base}/feeds/2021-06-30/documents",
                json={"contentType": "text/xml", "note": PII_IN_BODY},
            ),
            session.get(f"{base}/notifications/v1/destinations"),
            session.get(
                f"{base}/sellers/v1/marketplaceParticipations",
                headers={"x-spproxy-account": "revoked"},
            ),
            session.get(
                URL(f"{base}/orders/v0/orders/%2e%2e/x?q={quote(PII_IN_QUERY)}", encoded=True)
            ),
        ]
        statuses, bodies = [], []
        for call in calls:
            async with call as response:
                bodies.append(await response.text())
                statuses.append(response.status)
        # A delegatee's RDT, minted by a delegator through spproxy, then handed over.
        mint = {
            "targetApplication": "amzn1.sp.solution.delegatee",
            "restrictedResources": [
                {"method": "GET", "path": "/orders/v0/orders/{orderId}/address"}
            ],
        }
        async with session.post(
            f"{base}/tokens/2021-03-01/restrictedDataToken", json=mint
        ) as minted:
            rdt = (await minted.json())["restrictedDataToken"]
        address = f"{base}/orders/v0/orders/902-1845936-5435065/address"
        async with session.get(address, headers={"x-spproxy-rdt": rdt}) as response:
            assert response.status == 200 and "410 Terry Ave N" in await response.text()
    assert statuses == [200, 200, 200, 200, 201, 200, 502, 400]
    # The buyer's PII did pass through spproxy (with an RDT): the log must not have kept it.
    assert "410 Terry Ave N" in bodies[2] and PII_IN_BODY in bodies[2]


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_debug_run_logs_access_but_no_secret_token_or_pii(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
    tmp_path: Path,
    log_format: str,
) -> None:
    emulator = await aiohttp_server(
        make_emulator_app(EmulatorConfig(aws_keys={AWS_KEY_ID: AWS_SECRET}))
    )
    url = str(emulator.make_url("")).rstrip("/")

    def config(port: int) -> str:
        return f"""
listen: {{port: {port}}}
lwa:
  client_id: {DEMO_CLIENT_ID}
  client_secret: "${{LWA_SECRET}}"
  endpoint: "{url}/auth/o2/token"
aws:
  access_key_id: {AWS_KEY_ID}
  secret_access_key_file: aws_secret
  role_arn: arn:aws:iam::123456789012:role/SellingPartnerAPI
  sts_endpoint: {url}
accounts:
  main: {{refresh_token: "{DEMO_REFRESH_TOKEN}", region: na, endpoint: "{url}"}}
  revoked: {{refresh_token: "Atzr|revoked-refresh-token", region: eu, endpoint: "{url}"}}
"""

    (tmp_path / "aws_secret").write_text(AWS_SECRET)
    options = ("--log-level", "debug", "--log-format", log_format)
    async with serve(tmp_path, config, *options, env={"LWA_SECRET": DEMO_CLIENT_SECRET}) as proxy:
        await _drive(proxy.base)
    log = proxy.log

    amazon = emulator.app[STATE_KEY]
    assert amazon.sts_calls == 1 and all(r.signature == "valid" for r in amazon.requests)
    forbidden = [
        *amazon.issued_secrets(),
        AWS_SECRET,
        CLIENT_SENT_SECRET,
        "client-side-secret",
        PII_IN_BODY,
    ]
    forbidden += [
        PII_IN_QUERY,
        PII_IN_QUERY.replace(" ", "%20"),
        PII_IN_QUERY.replace(" ", "+"),
        "Jordan",
    ]
    forbidden += [r.headers["x-amz-access-token"] for r in amazon.requests]
    forbidden += [r.headers["authorization"].rpartition("Signature=")[2] for r in amazon.requests]
    kinds = sorted(token.kind for token in amazon.tokens.values())
    assert kinds == ["grantless", "lwa", "rdt", "rdt", "rdt"]  # every kind was used, and is checked
    assert len(amazon.temporary_credentials) == 1
    leaks = [secret for secret in forbidden if secret and secret in log]
    assert leaks == []

    lines = log.splitlines()
    access = [line for line in lines if "spproxy.access" in line]
    assert len(access) == 10
    if log_format == "json":
        entries = [json.loads(line) for line in lines]
        records = [e for e in entries if e["logger"] == "spproxy.access"]
        assert records[1] | {"time": "-", "upstream_ms": 0, "request_id": "-"} == {
            "time": "-",
            "level": "info",
            "logger": "spproxy.access",
            "account": "main",
            "method": "GET",
            "path": "/orders/v0/orders",
            "operation": "getOrders",
            "token_kind": "rdt",
            "status": 200,
            "upstream_ms": 0,
            "request_id": "-",
            "client": "-",
            "restricted": True,
            "data_elements": ["buyerInfo", "shippingAddress"],
            "origin": "amazon",
            "credential": "rdt-minted",
        }
        assert (
            records[1]["request_id"] == amazon.requests[1].headers.get("x-amzn-RequestId")
            or records[1]["request_id"]
        )
        assert records[2]["path"] == "/orders/v0/orders/{orderId}"
        assert [r["status"] for r in records] == [200, 200, 200, 200, 201, 200, 502, 400, 200, 200]
        assert records[-1]["token_kind"] == "delegated"
    else:
        assert (
            " GET /orders/v0/orders/{orderId} getOrder account=main token=rdt status=200 "
            in access[2]
        )
        assert " token=grantless status=200 " in access[5]
        assert "account=revoked token=none status=502" in access[6]


def test_the_text_format_escapes_whatever_could_start_a_line_or_drive_a_terminal() -> None:
    formatter = TextFormatter("%(levelname)s %(name)s %(message)s")
    hostile = "/x\r\n2099-01-01T00:00:00.000Z INFO spproxy.access FORGED\x1b[2J\u2028\x85\udcff é"
    record = logging.LogRecord("spproxy.access", logging.INFO, __file__, 1, "%s", (hostile,), None)
    line = formatter.format(record)
    assert line.isprintable() and "\n" not in line
    assert line == (
        "INFO spproxy.access /x\\r\\n2099-01-01T00:00:00.000Z INFO spproxy.access FORGED"
        "\\x1b[2J\\u2028\\x85\\udcff é"
    )


HOSTILE_PATH = "/x\r\n2099-01-01T00:00:00.000Z INFO spproxy.access FORGED\x1b[2J\u2028"


def a_record() -> AccessRecord:
    return AccessRecord(
        "GET",
        HOSTILE_PATH,
        account="main",
        operation="getOrders",
        token_kind="lwa",
        credential="lwa",
        status=200,
        upstream_ms=12.34,
        request_id="rid-1",
        data_elements=("buyerInfo",),
    )


def logging_line(record: AccessRecord, fmt: LogFormat) -> str:
    """The line logging itself writes for the record (the way before AccessLines)."""
    formatter = JsonFormatter() if fmt == "json" else TextFormatter(TEXT_FORMAT)
    if isinstance(formatter, TextFormatter):
        formatter.converter = time.gmtime
        formatter.default_time_format = TIME_FORMAT
        formatter.default_msec_format = "%s.%03dZ"
    entry = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 1, "%s", None, None)
    entry.msg, entry.args, entry.access = "%s", (record.message(),), record
    return formatter.format(entry)


def without_time(line: str, fmt: LogFormat) -> object:
    if fmt == "json":
        entry = json.loads(line)
        del entry["time"]
        return entry
    return line.split(" ", 1)[1]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_access_line_is_the_one_logging_would_write(fmt: LogFormat) -> None:
    stream = io.StringIO()
    lines = AccessLines(stream, fmt)
    lines.write(a_record())  # no event loop runs: written at once
    (written,) = stream.getvalue().splitlines()
    assert without_time(written, fmt) == without_time(logging_line(a_record(), fmt), fmt)
    assert written.isprintable() and "FORGED" in written  # escaped, on its one line
    stamp = json.loads(written)["time"] if fmt == "json" else written.split(" ", 1)[0]
    assert time.strptime(stamp, TIME_FORMAT + ".%fZ")


async def test_lines_wait_for_the_end_of_the_loops_turn_and_keep_their_order() -> None:
    stream = io.StringIO()
    lines = AccessLines(stream, "text")
    handler = OrderedHandler(stream, lines)
    handler.setFormatter(logging.Formatter("%(message)s"))
    lines.write(a_record())
    lines.write(a_record())
    assert stream.getvalue() == ""  # one write for the turn's lines
    handler.emit(logging.LogRecord("spproxy", logging.WARNING, __file__, 1, "later", None, None))
    assert stream.getvalue().splitlines()[2] == "later"  # the access lines went first
    lines.write(a_record())
    await asyncio.sleep(0)  # the loop's next turn
    assert len(stream.getvalue().splitlines()) == 4


def test_what_is_buffered_is_written_when_logging_shuts_down() -> None:
    """logging.shutdown flushes every handler, in a worker that leaves by os._exit too."""
    stream = io.StringIO()
    lines = AccessLines(stream, "text")
    handler = OrderedHandler(stream, lines)

    loop = asyncio.new_event_loop()
    try:  # the line is written in the loop's last turn: its flush is scheduled, never run
        loop.call_soon(lines.write, a_record())
        loop.call_soon(loop.stop)
        loop.run_forever()
    finally:
        loop.close()
    assert stream.getvalue() == ""
    handler.flush()
    assert len(stream.getvalue().splitlines()) == 1
