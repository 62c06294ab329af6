"""`spproxy report` and `spproxy feed` run in-process against a harness: the emulator's fake
clock is the command's, and each wait the command makes moves it on (nothing waits for real)."""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from spproxy.jobwatch import Job, Terminal, run_job
from spproxy.proxyclient import KEY_VARIABLE
from tests.emulator.conftest import FakeClock
from tests.harness import Harness


@dataclass
class Ran:
    status: int
    stdout: bytes
    stderr: str
    waits: list[float] = field(default_factory=list)


class Waits:
    """The command's sleep: the clock moves on by the wait, then `hook(poll number)` runs."""

    def __init__(self, clock: FakeClock, hook: Callable[[int], None] | None) -> None:
        self.clock, self.hook = clock, hook
        self.seen: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)
        self.clock.advance(seconds)
        if self.hook is not None:
            self.hook(len(self.seen))


async def run(
    harness: Harness,
    clock: FakeClock,
    name: str,
    job: Job,
    add_options: Callable[[argparse.ArgumentParser], None],
    argv: Sequence[str],
    *,
    hook: Callable[[int], None] | None = None,
    key: str | None = None,
    tty: bool = False,
) -> Ran:
    parser = argparse.ArgumentParser()
    add_options(parser)
    base = str(harness.proxy.make_url("")).rstrip("/")
    args = parser.parse_args([*argv, "--proxy", base])
    stdout, stderr = io.BytesIO(), io.StringIO()
    waits = Waits(clock, hook)
    terminal = Terminal(stdout, stderr, tty, sleep=waits, clock=clock)
    env = {KEY_VARIABLE: key} if key else {}
    status = await run_job(name, job, args, env, terminal)
    return Ran(status, stdout.getvalue(), stderr.getvalue(), waits.seen)
