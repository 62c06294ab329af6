"""Following a job: the progress line, on a terminal and not, and the command's last word."""

from __future__ import annotations

import argparse
import io

import aiohttp
import pytest

from spproxy.emulator import EmulatorConfig
from spproxy.jobwatch import Progress, Terminal, follow, run_job
from spproxy.proxyclient import Failed, ProxyClient
from tests.emulator.conftest import FakeClock
from tests.harness import StartHarness, free_port


def terminal(tty: bool, clock: FakeClock) -> tuple[Terminal, io.StringIO]:
    stderr = io.StringIO()
    return Terminal(io.BytesIO(), stderr, tty, clock=clock), stderr


def test_not_on_a_terminal_a_line_per_status_change() -> None:
    clock = FakeClock()
    shown, stderr = terminal(False, clock)
    progress = Progress(shown, "report 1", clock())
    for status in ("IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "DONE"):
        clock.advance(2)
        progress.show(status)
    progress.end()
    assert stderr.getvalue() == (
        "report 1: IN_QUEUE, 2 s, 1 poll\n"
        "report 1: IN_PROGRESS, 6 s, 3 polls\n"
        "report 1: DONE, 8 s, 4 polls\n"
    )


def test_on_a_terminal_one_line_redrawn_then_left() -> None:
    clock = FakeClock()
    shown, stderr = terminal(True, clock)
    progress = Progress(shown, "feed 7", clock())
    progress.show("IN_QUEUE")
    clock.advance(1.4)
    progress.show("IN_QUEUE")
    progress.end()
    progress.end()  # once only
    drawn = stderr.getvalue()
    assert drawn.startswith("\rfeed 7: IN_QUEUE, 0 s, 1 poll ")
    assert drawn.endswith("\rfeed 7: IN_QUEUE, 1 s, 2 polls".ljust(61) + "\n")  # 60 wide


async def test_a_failure_is_one_line_and_exit_1() -> None:
    async def job(client: ProxyClient, args: argparse.Namespace, shown: Terminal) -> int:
        raise Failed("createReport: 400 InvalidInput: Invalid input")

    shown, stderr = terminal(False, FakeClock())
    base = f"http://127.0.0.1:{free_port()}"
    args = argparse.Namespace(proxy=base, config=None, key=None, account=None)
    assert await run_job("report", job, args, {}, shown) == 1
    assert stderr.getvalue() == "spproxy report: createReport: 400 InvalidInput: Invalid input\n"


async def test_a_failed_poll_on_a_terminal_starts_its_own_line(start: StartHarness) -> None:
    clock = FakeClock()
    harness = await start(emulator=EmulatorConfig(clock=clock))
    created = await harness.proxy.post(
        "/reports/2021-06-30/reports",
        json={"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": ["ATVPDKIKX0DER"]},
    )
    path = f"/reports/2021-06-30/reports/{(await created.json())['reportId']}"

    async def refuse_next(seconds: float) -> None:
        harness.amazon.faults.fail(403)  # the next poll is refused

    shown = Terminal(io.BytesIO(), io.StringIO(), True, sleep=refuse_next, clock=clock)
    base = str(harness.proxy.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        client = ProxyClient(session, base, argparse.Namespace(key=None, account=None), {})
        with pytest.raises(Failed, match=r"^getReport: 403 "):
            await follow(client, ("getReport", "cancelReport"), path, "report 1", shown)
    assert isinstance(shown.stderr, io.StringIO)
    drawn = "\rreport 1: IN_QUEUE, 0 s, 1 poll".ljust(61)
    assert shown.stderr.getvalue() == drawn + "\n"  # the error line will start a line of its own
