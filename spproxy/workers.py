"""`spproxy serve --workers N`: N processes serving one port, for the cores of one machine.

The parent binds the port first (so `--port 0` still means one port, chosen once), then forks N
workers before any event loop or thread exists; each listens on that port with SO_REUSEPORT and
the kernel spreads connections across them. They share tokens, buckets and what was learned
through the configured shared state (`state:`); without it each would spend the whole usage
plan, so N > 1 is refused. The parent only supervises: SIGINT, SIGTERM and SIGHUP go on to every
worker; a worker that dies is started again, at most RESTARTS times in RESTART_WINDOW_S, and
after that the parent stops the others and exits 1.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable

from spproxy.config import Config, ConfigError

log = logging.getLogger("spproxy")

RESTARTS = 5
RESTART_WINDOW_S = 60.0
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def check_workers(workers: int, config: Config) -> None:
    """ConfigError unless `workers` processes can share one seller's plans."""
    if workers > 1 and config.state is None:
        raise ConfigError(
            [
                f"--workers {workers}: needs shared state (state.url): without it each worker "
                "would spend every usage plan on its own and draw Amazon's 429s"
            ]
        )


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to the port every worker will listen on (the kernel's choice for 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    held = socket.socket(family, socket.SOCK_STREAM)
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    held.bind((host, port))
    return held  # bound, never listening: it receives no connection


def run_workers(workers: int, serve_one: Callable[[int], int]) -> int:
    """Fork `workers` processes running `serve_one(index)`; supervise until they stop."""
    running: dict[int, int] = {}  # pid -> worker index
    restarts: list[float] = []
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = stopping or signum != signal.SIGHUP
        for pid in list(running):
            # One just reaped (os.wait returned, not yet popped) is gone: nothing to tell.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    for signum in FORWARDED:  # before the first fork: no signal falls between
        signal.signal(signum, forward)
    for index in range(workers):
        running[_fork(index, serve_one)] = index
    status = 0
    while running:
        pid, wait_status = os.wait()
        index = running.pop(pid, -1)
        if index < 0:
            continue
        code = os.waitstatus_to_exitcode(wait_status)
        if stopping:
            status = max(status, code if code > 0 else 0)
            continue
        now = time.monotonic()
        restarts = [t for t in restarts if now - t < RESTART_WINDOW_S] + [now]
        if len(restarts) > RESTARTS:
            log.error("worker %d exited (%d); too many restarts: stopping", index, code)
            stopping, status = True, 1
            forward(signal.SIGTERM, None)
            continue
        log.warning("worker %d exited (%d); starting it again", index, code)
        running[_fork(index, serve_one)] = index
    return status


def _fork(index: int, serve_one: Callable[[int], int]) -> int:
    pid = os.fork()
    if pid == 0:  # the worker: serve, then leave without running the parent's cleanup
        for signum in FORWARDED:
            signal.signal(signum, signal.SIG_DFL)
        code = 1
        try:
            code = serve_one(index)
        finally:
            logging.shutdown()
            os._exit(code)
    return pid
