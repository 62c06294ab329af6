"""Following a job: the progress line, on a terminal and not, and the command's last word."""

from __future__ import annotations

import argparse
import io

from spproxy.jobwatch import Progress, Terminal, run_job
from spproxy.proxyclient import Failed, ProxyClient
from tests.emulator.conftest import FakeClock
from tests.harness import free_port


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
    args = argparse.Namespace(proxy=f"http://127.0.0.1:{free_port()}", key=None, account=None)
    assert await run_job("report", job, args, {}, shown) == 1
    assert stderr.getvalue() == "spproxy report: createReport: 400 InvalidInput: Invalid input\n"
