"""Phase `accounts` (only with `--only accounts`; about 4 minutes): start-up with many accounts.

For each of `--accounts` (1000,10000), on 127.0.0.1 only: the emulator (in the bench's process,
with a middleware that counts LWA exchanges in flight and per second) and a real
`python -m spproxy serve --config FILE` whose file names that many accounts (all the emulator's
seller). Measured from the process's start: when `/_spproxy/ready` first answers 200 (the
default rule: the default account holds a token), when every account holds a token (the ready
body's count), spproxy's RSS at both, the most LWA exchanges in flight at once and the most
started in one second. Bounded: each count gives up after `--accounts-timeout` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.common import HOST, free_port
from bench.processes import Children, rss_mib
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    make_emulator_app,
)

ROOT = Path(__file__).resolve().parents[1]


def accounts(args: argparse.Namespace, children: Children) -> list[dict[str, Any]]:
    """Each count of `--accounts` in turn (`children` unused: spproxy runs as `spproxy serve`)."""
    return [asyncio.run(measure(count, args.accounts_timeout)) for count in args.accounts]


class LwaLoad:
    """What reached the emulated LWA: exchanges in flight now and at most, starts per second."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.started: Counter[int] = Counter()

    @web.middleware
    async def count(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path != "/auth/o2/token":
            return await handler(request)
        self.started[int(time.monotonic())] += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1


def config_text(accounts: int, port: int, emulator: str) -> str:
    lines = [
        f"listen: {{port: {port}}}",
        f'lwa: {{client_id: {DEMO_CLIENT_ID}, client_secret: "{DEMO_CLIENT_SECRET}", '
        f'endpoint: "{emulator}/auth/o2/token"}}',
        "upstream: {pacing: false}",
        "accounts:",
    ]
    lines += [
        f'  a{i}: {{refresh_token: "{DEMO_REFRESH_TOKEN}", region: na, endpoint: "{emulator}"}}'
        for i in range(accounts)
    ]
    return "\n".join(lines) + "\n"


async def measure(accounts: int, timeout_s: float) -> dict[str, Any]:
    load = LwaLoad()
    app = make_emulator_app()
    app.middlewares.append(load.count)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    emulator_port = free_port()
    await web.TCPSite(runner, HOST, emulator_port).start()
    emulator = f"http://{HOST}:{emulator_port}"
    port = free_port()
    figures: dict[str, Any] = {"accounts": accounts}
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "spproxy.yaml"
        config.write_text(config_text(accounts, port, emulator))
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "spproxy",
            "serve",
            "--config",
            str(config),
            "--log-level",
            "warning",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            figures |= await _watch(process, f"http://{HOST}:{port}", started, timeout_s)
        finally:
            process.terminate()
            await process.wait()
    await runner.cleanup()
    figures["lwa_exchanges"] = sum(load.started.values())
    figures["most_lwa_in_flight"] = load.most_in_flight
    figures["most_lwa_per_second"] = max(load.started.values(), default=0)
    return figures


async def _watch(
    process: asyncio.subprocess.Process, base: str, started: float, timeout_s: float
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session, asyncio.timeout(timeout_s):
        while True:
            try:
                async with session.get(f"{base}/_spproxy/ready") as answer:
                    body = await answer.json()
                    if answer.status == 200 and "ready_s" not in figures:
                        figures["ready_s"] = round(time.monotonic() - started, 2)
                        figures["rss_at_ready_mib"] = rss_mib(process.pid)["VmRSS"]
                    if body["accounts_holding_a_token"] == body["accounts_total"]:
                        figures["all_tokens_s"] = round(time.monotonic() - started, 2)
                        figures["rss_all_tokens_mib"] = rss_mib(process.pid)["VmRSS"]
                        return figures
            except aiohttp.ClientConnectionError:
                pass  # not listening yet: the config is still loading
            await asyncio.sleep(0.05)
