"""`spproxy report` against the emulator, through the proxy: every way a report ends."""

from __future__ import annotations

import asyncio
import gzip
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from spproxy.config import Client, Secret
from spproxy.emulator import STATE_KEY, EmulatorConfig, make_emulator_app
from spproxy.report_command import add_report_options, report
from tests.emulator.conftest import FakeClock
from tests.harness import (
    Harness,
    ServerFactory,
    StartHarness,
    finish,
    serve,
    serve_yaml,
    start_spproxy,
)
from tests.jobs import Ran, run

PLAIN = "GET_MERCHANT_LISTINGS_ALL_DATA"
GZIPPED = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"
MARKETPLACE = ["--marketplace", "ATVPDKIKX0DER"]


async def started(start: StartHarness, **emulator: Any) -> tuple[Harness, FakeClock]:
    clock = FakeClock()
    return await start(emulator=EmulatorConfig(clock=clock, **emulator)), clock


async def report_run(
    harness: Harness, clock: FakeClock, argv: Sequence[str], **options: Any
) -> Ran:
    return await run(harness, clock, "report", report, add_report_options, argv, **options)


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def nothing_written(folder: Path) -> bool:
    return names(folder) == []  # no file, no temporary one either


@pytest.mark.parametrize("report_type", [PLAIN, GZIPPED])
async def test_a_report_is_written_whole_to_its_file(
    start: StartHarness, tmp_path: Path, report_type: str
) -> None:
    harness, clock = await started(start)
    out = tmp_path / "report.tsv"
    argv = [report_type, *MARKETPLACE, "--start", "2026-11-01T00:00:00Z", "-o", str(out)]
    ran = await report_run(harness, clock, argv)
    assert ran.status == 0, ran.stderr
    (job,) = harness.amazon.reports.jobs.values()
    stored = harness.amazon.documents.documents[job.document_id]
    expected = gzip.decompress(stored.content) if stored.compression else stored.content
    assert out.read_bytes() == expected and report_type.encode() in expected
    assert job.spec["dataStartTime"] == "2026-11-01T00:00:00Z"
    assert names(tmp_path) == ["report.tsv"]  # no temporary file left
    assert ran.waits == [1.0, 2.0, 4.0]  # IN_QUEUE 2 s, IN_PROGRESS 3 s: done at 7 s
    lines = ran.stderr.splitlines()
    assert lines[0].endswith(": IN_QUEUE, 0 s, 1 poll")  # one line per status change
    assert "IN_PROGRESS, 3 s, 3 polls" in lines[1] and "DONE, 7 s, 4 polls" in lines[2]
    assert lines[3].endswith(f"written to {out}")


async def test_without_a_file_the_document_goes_to_standard_output(start: StartHarness) -> None:
    harness, clock = await started(start)
    ran = await report_run(harness, clock, [PLAIN, *MARKETPLACE])
    assert ran.status == 0
    assert ran.stdout.startswith(b"report-type\tgenerated-by\n")


async def test_on_a_terminal_one_line_is_redrawn(start: StartHarness) -> None:
    harness, clock = await started(start)
    ran = await report_run(harness, clock, [PLAIN, *MARKETPLACE], tty=True)
    assert ran.status == 0
    drawn = ran.stderr.split("\n")[0]
    assert drawn.count("\r") == 4 and "DONE, 7 s, 4 polls" in drawn


async def test_long_jobs_are_polled_at_most_every_15_s(start: StartHarness) -> None:
    harness, clock = await started(start, processing_s=(100.0, 0.0))
    ran = await report_run(harness, clock, [PLAIN, *MARKETPLACE])
    assert ran.status == 0
    assert ran.waits == [1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0]


async def test_an_unknown_report_type_is_a_clear_line(start: StartHarness, tmp_path: Path) -> None:
    harness, clock = await started(start)
    ran = await report_run(
        harness, clock, ["GET_NO_SUCH_REPORT", *MARKETPLACE, "-o", str(tmp_path / "r")]
    )
    assert ran.status == 1
    assert ran.stderr == (
        "spproxy report: createReport: 400 InvalidInput: Invalid input "
        "(Invalid report type GET_NO_SUCH_REPORT.)\n"
    )
    assert nothing_written(tmp_path)


async def test_a_fatal_report_names_its_processing_report(
    start: StartHarness, tmp_path: Path
) -> None:
    harness, clock = await started(start, fatal_report_types=frozenset({PLAIN}))
    ran = await report_run(harness, clock, [PLAIN, *MARKETPLACE, "-o", str(tmp_path / "r")])
    assert ran.status == 1
    (job,) = harness.amazon.reports.jobs.values()
    base = str(harness.proxy.make_url("")).rstrip("/")
    where = f"{base}/_spproxy/documents/reports/{job.document_id}"
    assert ran.stderr.splitlines()[-1] == (
        f"report {job.job_id} ended FATAL; its processing report: GET {where}"
    )
    assert nothing_written(tmp_path)


async def test_a_report_cancelled_elsewhere_exits_1(start: StartHarness, tmp_path: Path) -> None:
    harness, clock = await started(start)

    def cancel_it(poll: int) -> None:
        for job in harness.amazon.reports.jobs.values():
            job.cancelled = True  # as if another client's cancelReport

    ran = await report_run(
        harness, clock, [PLAIN, *MARKETPLACE, "-o", str(tmp_path / "r")], hook=cancel_it
    )
    assert ran.status == 1
    assert "was CANCELLED" in ran.stderr.splitlines()[-1]
    assert nothing_written(tmp_path)


async def test_a_vanished_document_writes_nothing(start: StartHarness, tmp_path: Path) -> None:
    harness, clock = await started(start)

    def remove_it(poll: int) -> None:
        harness.amazon.documents.documents.clear()  # the bucket lost it: NoSuchKey

    ran = await report_run(
        harness, clock, [PLAIN, *MARKETPLACE, "-o", str(tmp_path / "r")], hook=remove_it
    )
    assert ran.status == 1
    assert ran.stderr.splitlines()[-1] == (
        "spproxy report: getReportDocument: 502 BadGateway: The document's download failed "
        "(S3 answered 404)."
    )
    assert nothing_written(tmp_path)


async def test_a_truncated_gzip_stream_writes_nothing(start: StartHarness, tmp_path: Path) -> None:
    harness, clock = await started(start)

    def truncate(poll: int) -> None:
        for stored in harness.amazon.documents.documents.values():
            stored.content = stored.content[:-12]  # the deflate stream's end and trailer lost

    ran = await report_run(
        harness, clock, [GZIPPED, *MARKETPLACE, "-o", str(tmp_path / "r")], hook=truncate
    )
    assert ran.status == 1
    assert "getReportDocument: the document arrived truncated" in ran.stderr
    assert nothing_written(tmp_path)


async def test_ctrl_c_while_queued_cancels_the_report(start: StartHarness, tmp_path: Path) -> None:
    harness, clock = await started(start)

    def interrupt(poll: int) -> None:
        raise asyncio.CancelledError  # what asyncio.run makes of SIGINT, in the wait

    ran = await report_run(
        harness, clock, [PLAIN, *MARKETPLACE, "-o", str(tmp_path / "r")], hook=interrupt
    )
    assert ran.status == 130
    (job,) = harness.amazon.reports.jobs.values()
    assert job.cancelled
    assert (
        ran.stderr.splitlines()[-1] == f"interrupted: report {job.job_id} cancelled (cancelReport)"
    )
    assert nothing_written(tmp_path)


async def test_ctrl_c_once_in_progress_leaves_the_report_be(start: StartHarness) -> None:
    harness, clock = await started(start)

    def interrupt(poll: int) -> None:
        if poll == 3:  # after the poll at 3 s: IN_PROGRESS
            raise asyncio.CancelledError

    ran = await report_run(harness, clock, [PLAIN, *MARKETPLACE], hook=interrupt)
    assert ran.status == 130
    (job,) = harness.amazon.reports.jobs.values()
    assert not job.cancelled
    assert "is IN_PROGRESS, past cancelling" in ran.stderr
    assert harness.amazon.requests[-1].operation == "getReport"  # no cancelReport sent


# --- the real command, against a real `spproxy serve` -----------------------------------------


async def test_the_command_against_a_served_proxy(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    emulator = await aiohttp_server(make_emulator_app(EmulatorConfig(processing_s=(0.0, 0.0))))
    emulator_url = str(emulator.make_url("")).rstrip("/")
    out = tmp_path / "listings.tsv"
    async with serve(tmp_path, lambda port: serve_yaml(emulator_url, port)) as served:
        argv = ["report", PLAIN, *MARKETPLACE, "-o", str(out)]
        status, stdout, stderr = await finish(await start_spproxy(*argv, "--proxy", served.base))
        assert status == 0, stderr
        assert out.read_bytes().startswith(b"report-type\tgenerated-by\n")
        assert stdout == "" and stderr.splitlines()[0].endswith(": DONE, 0 s, 1 poll")
        argv = ["report", "GET_NO_SUCH_REPORT", *MARKETPLACE]
        status, _, stderr = await finish(await start_spproxy(*argv, "--proxy", served.base))
        assert status == 1
        assert stderr.startswith("spproxy report: createReport: 400 InvalidInput: ")
        assert "Traceback" not in stderr


async def test_sigint_cancels_a_queued_report_and_exits_130(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    emulator = await aiohttp_server(make_emulator_app(EmulatorConfig(processing_s=(600.0, 0.0))))
    emulator_url = str(emulator.make_url("")).rstrip("/")
    out = tmp_path / "listings.tsv"
    async with serve(tmp_path, lambda port: serve_yaml(emulator_url, port)) as served:
        argv = ["report", PLAIN, *MARKETPLACE, "-o", str(out), "--proxy", served.base]
        process = await start_spproxy(*argv)
        assert process.stderr is not None
        first = await asyncio.wait_for(process.stderr.readline(), timeout=30)
        assert first.endswith(b": IN_QUEUE, 0 s, 1 poll\n")  # now waiting for the next poll
        process.send_signal(signal.SIGINT)
        status, _, stderr = await finish(process)
    assert status == 130
    (job,) = emulator.app[STATE_KEY].reports.jobs.values()
    assert job.cancelled
    assert stderr == f"interrupted: report {job.job_id} cancelled (cancelReport)\n"
    assert not out.exists()


async def test_a_client_key_is_sent_and_its_grants_apply(start: StartHarness) -> None:
    key = "reports-key-0123456789"
    grants = ("createReport", "getReport", "getReportDocument")
    clients = {"reports": Client("reports", Secret(key), operations=grants)}
    clock = FakeClock()
    harness = await start(emulator=EmulatorConfig(clock=clock), clients=clients)
    ran = await report_run(harness, clock, [PLAIN, *MARKETPLACE], key=key)
    assert ran.status == 0 and ran.stdout.startswith(b"report-type\t")
    ran = await report_run(harness, clock, [PLAIN, *MARKETPLACE])
    assert ran.status == 1
    assert ran.stderr.startswith("spproxy report: createReport: 401 Unauthorized: ")
