"""A report or feed followed until it ends: getReport or getFeed polled, the progress shown, and
Ctrl-C cancelling the job where Amazon allows it.

Polls are 1 s apart at first, then twice as far each time up to 15 s: a short job ends quickly,
a long one costs a few calls a minute, well inside getReport's and getFeed's plans (2 per
second), and spproxy paces them anyway. On a terminal one line is redrawn (status, elapsed,
polls); otherwise a plain line per status change. The clock and the sleep are passed in: tests
drive them, nothing waits for real.

Ctrl-C: Amazon cancels only a job still IN_QUEUE (cancelReport and cancelFeed in its models), so
that is when cancelReport or cancelFeed is called; a job further along goes on at Amazon, and
the command says so. Either way it ends with exit status 130.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import aiohttp

from spproxy.jobproxy import reached
from spproxy.proxyclient import Failed, ProxyClient

ENDED = frozenset({"DONE", "FATAL", "CANCELLED"})
FIRST_WAIT_S = 1.0
LONGEST_WAIT_S = 15.0
INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


@dataclass(frozen=True)
class Terminal:
    """Where a command writes, and the time it runs on (tests pass their own)."""

    stdout: IO[bytes]
    stderr: IO[str]
    tty: bool  # stderr is a terminal: redraw one progress line
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic

    def say(self, line: str) -> None:
        print(line, file=self.stderr, flush=True)


@dataclass
class Progress:
    terminal: Terminal
    label: str  # "report 50000000001"
    started: float
    status: str | None = None
    polls: int = 0
    _drawn: bool = field(default=False, repr=False)

    def show(self, status: str) -> None:
        changed, self.status = status != self.status, status
        self.polls += 1
        elapsed = self.terminal.clock() - self.started
        line = f"{self.label}: {status}, {elapsed:.0f} s, {self.polls} poll"
        line += "" if self.polls == 1 else "s"
        if self.terminal.tty:
            self.terminal.stderr.write(f"\r{line:<60}")
            self.terminal.stderr.flush()
            self._drawn = True
        elif changed:
            self.terminal.say(line)

    def end(self) -> None:
        """Leave the redrawn line as it is, and go on below it."""
        if self._drawn:
            self.terminal.say("")
            self._drawn = False


async def follow(
    client: ProxyClient, operations: tuple[str, str], path: str, label: str, terminal: Terminal
) -> dict[str, Any] | None:
    """The job at `path` once it has ended; None if Ctrl-C stopped the wait (and the job was
    cancelled if it could be). `operations`: the get and cancel operations' names."""
    get, cancel = operations
    progress = Progress(terminal, label, terminal.clock())
    wait_s = FIRST_WAIT_S
    try:
        while True:
            job = await client.call(get, "GET", path)
            progress.show(str(job.get("processingStatus")))
            if progress.status in ENDED:
                return job
            await terminal.sleep(wait_s)
            wait_s = min(wait_s * 2, LONGEST_WAIT_S)
    except asyncio.CancelledError:
        _uncancel()
        progress.end()
        await _cancel(client, cancel, path, progress, terminal)
        return None
    finally:  # whatever comes next (the end, a failure) starts on a line of its own
        progress.end()


async def _cancel(
    client: ProxyClient, cancel: str, path: str, progress: Progress, terminal: Terminal
) -> None:
    if progress.status not in (None, "IN_QUEUE"):
        terminal.say(
            f"interrupted: {progress.label} is {progress.status}, past cancelling (Amazon "
            "cancels only jobs IN_QUEUE); it goes on at Amazon, and nothing was downloaded"
        )
        return
    try:
        await client.call(cancel, "DELETE", path)
    except Failed as failed:
        terminal.say(f"interrupted: {progress.label} could not be cancelled: {failed}")
        return
    terminal.say(f"interrupted: {progress.label} cancelled ({cancel})")


def _uncancel() -> None:
    """Ctrl-C cancelled the command's task once; it goes on to cancel the job and return."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


Job = Callable[[ProxyClient, argparse.Namespace, Terminal], Awaitable[int]]


def run_command(name: str, job: Job, args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """`spproxy NAME`'s exit status, on this process's terminal."""
    terminal = Terminal(sys.stdout.buffer, sys.stderr, sys.stderr.isatty())
    try:
        return asyncio.run(run_job(name, job, args, env, terminal))
    except KeyboardInterrupt:  # a second Ctrl-C, while the first was being handled
        terminal.say(f"spproxy {name}: interrupted")
        return INTERRUPTED


async def run_job(
    name: str, job: Job, args: argparse.Namespace, env: Mapping[str, str], terminal: Terminal
) -> int:
    """`job` against the running spproxy; a failure is one line and exit status 1."""
    try:
        # trust_env off: an HTTP_PROXY in the environment must not catch the local proxy
        async with reached(args, env) as base, aiohttp.ClientSession(trust_env=False) as session:
            return await job(ProxyClient(session, base, args, env), args, terminal)
    except Failed as failed:
        terminal.say(f"spproxy {name}: {failed}")
        return 1
    except asyncio.CancelledError:  # Ctrl-C outside a wait: creating, uploading, downloading
        _uncancel()
        terminal.say(f"spproxy {name}: interrupted")
        return INTERRUPTED
