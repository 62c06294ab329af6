"""Benchmark: start-up with many accounts (not a test).

    python bench/accounts.py [--accounts 1000,10000] [--json]

For each count, on 127.0.0.1 only: the emulator (in this process, with a middleware that counts
LWA exchanges in flight and per second) and a real `python -m spproxy serve --config FILE`
whose file names that many accounts (all the emulator's seller). Measured from the process's
start: when `/_spproxy/ready` first answers 200 (the default rule: the default account holds a
token), when every account holds a token (the ready body's count), spproxy's RSS at both, the
most LWA exchanges in flight at once and the most started in one second. Bounded: each count
gives up after `--timeout` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    make_emulator_app,
)

ROOT = Path(__file__).resolve().parents[1]


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


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
    await web.TCPSite(runner, "127.0.0.1", emulator_port).start()
    emulator = f"http://127.0.0.1:{emulator_port}"
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
            figures |= await _watch(process, f"http://127.0.0.1:{port}", started, timeout_s)
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
                        figures["rss_at_ready_mib"] = round(rss_mib(process.pid), 1)
                    if body["accounts_holding_a_token"] == body["accounts_total"]:
                        figures["all_tokens_s"] = round(time.monotonic() - started, 2)
                        figures["rss_all_tokens_mib"] = round(rss_mib(process.pid), 1)
                        return figures
            except aiohttp.ClientConnectionError:
                pass  # not listening yet: the config is still loading
            await asyncio.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", default="1000,10000", help="comma-separated counts")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per count at most")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args()
    results = [asyncio.run(measure(int(count), args.timeout)) for count in args.accounts.split(",")]
    if args.json:
        print(json.dumps(results))
        return 0
    print(
        "accounts  ready s  RSS MiB  all tokens s  RSS MiB  LWA exchanges  most in flight  "
        "most per second"
    )
    for r in results:
        print(
            f"{r['accounts']:>8,}  {r['ready_s']:>7}  {r['rss_at_ready_mib']:>7}  "
            f"{r['all_tokens_s']:>12}  {r['rss_all_tokens_mib']:>7}  {r['lwa_exchanges']:>13,}  "
            f"{r['most_lwa_in_flight']:>14}  {r['most_lwa_per_second']:>15}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
