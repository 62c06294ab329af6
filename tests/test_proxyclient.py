"""The command line's client of a running spproxy: where it is, its errors, whole files."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import aiohttp
import pytest

from spproxy.proxyclient import Failed, ProxyClient, failure, output, proxy_base
from tests.harness import Harness, free_port


def test_the_proxy_is_found_as_spproxy_serve_listens() -> None:
    assert proxy_base(None, {}) == "http://127.0.0.1:8000"
    everywhere = {"SPPROXY_HOST": "0.0.0.0", "SPPROXY_PORT": "9000"}  # noqa: S104 (read)
    assert proxy_base(None, everywhere) == ("http://127.0.0.1:9000")
    assert proxy_base(None, {"SPPROXY_HOST": "::1"}) == "http://[::1]:8000"
    assert proxy_base("http://proxy.internal:8000/", {"SPPROXY_PORT": "1"}) == (
        "http://proxy.internal:8000"
    )


def test_an_error_answer_is_one_line_with_its_code_and_message() -> None:
    body = {"errors": [{"code": "QuotaExceeded", "message": "Slow down.", "details": "1 s"}]}
    refused = failure("getReport", 429, json.dumps(body).encode())
    assert str(refused) == "getReport: 429 QuotaExceeded: Slow down. (1 s)"
    assert str(failure("getReport", 502, b"<html>")) == "getReport: spproxy answered 502"


def test_a_file_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "report.tsv"
    target.write_bytes(b"the previous report")
    with pytest.raises(Failed), output(str(target), io.BytesIO()) as sink:
        sink.write(b"half of it")
        raise Failed("cut short")
    assert target.read_bytes() == b"the previous report"  # untouched, and no temporary file
    assert [p.name for p in tmp_path.iterdir()] == ["report.tsv"]
    with output(str(target), io.BytesIO()) as sink:
        sink.write(b"the new report")
    assert target.read_bytes() == b"the new report"
    stdout = io.BytesIO()
    with output(None, stdout) as sink:
        sink.write(b"to standard output")
    assert stdout.getvalue() == b"to standard output"


def test_a_file_where_none_can_be_written_is_one_line(tmp_path: Path) -> None:
    nowhere = str(tmp_path / "missing" / "report.tsv")
    with pytest.raises(Failed) as refused, output(nowhere, io.BytesIO()):
        pass
    assert str(refused.value) == f"{nowhere}: cannot write there (No such file or directory)"


def client_args(key: str | None = None, account: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(key=key, account=account)


async def test_an_unreachable_proxy_is_one_line() -> None:
    base = f"http://127.0.0.1:{free_port()}"
    async with aiohttp.ClientSession() as session:
        client = ProxyClient(session, base, client_args(), {})
        with pytest.raises(Failed, match=rf"^getReport: cannot reach spproxy at {base} "):
            await client.call("getReport", "GET", "/reports/2021-06-30/reports/1")


async def test_key_and_account_go_as_spproxy_headers(harness: Harness) -> None:
    base = str(harness.proxy.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        client = ProxyClient(session, base, client_args(account="main"), {"SPPROXY_KEY": "k" * 20})
        assert client.headers == {"x-spproxy-key": "k" * 20, "x-spproxy-account": "main"}
        answer = await client.call(
            "getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations"
        )
        assert "payload" in answer
        flagged = ProxyClient(session, base, client_args(key="flag-key"), {"SPPROXY_KEY": "env"})
        assert flagged.headers == {"x-spproxy-key": "flag-key"}
