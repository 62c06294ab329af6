"""Phase `accounts` (only with `--only accounts`; about 4 minutes): what many accounts cost.

For each of `--accounts` (1,1000,10000), on 127.0.0.1 only: the emulator (in the bench's process,
with a middleware that counts LWA exchanges in flight and per second) and a real
`python -m spproxy serve --config FILE` whose file names that many accounts (all the emulator's
seller). Measured:

    load s        `load_config` of the file, in the bench's process (the best of 3)
    ready s       from the process's start until `/_spproxy/ready` first answers 200 (the
                  default rule: the default account holds a token); spproxy's RSS then
    all tokens s  until every account holds a token (the ready body's count; the keeper warms
                  50 a second); spproxy's RSS then
    KiB/account   RSS at ready and with every token held, over the fewest accounts' RSS, per
                  account more (goal: under 3 KiB)
    CPU us/req    spproxy's CPU time (/proc/PID/stat) per request, once every token is held:
                  LOAD_ROUNDS rounds of LOAD_REQUESTS calls of getMarketplaceParticipations for
                  the default account, LOAD_CONCURRENCY at a time; the least round (the machine
                  is shared: others only add) (goal: the same at every count)
    LWA           the most exchanges in flight at once and the most started in one second

Bounded: each count gives up after `--accounts-timeout` seconds.
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

from bench.common import HOST, PARTICIPATIONS, BenchError, free_port
from bench.processes import Children, cpu_seconds, rss_mib
from spproxy.configload import load_config
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    make_emulator_app,
)

ROOT = Path(__file__).resolve().parents[1]


LOAD_ROUNDS, LOAD_REQUESTS = 5, 2000  # per round: CPU ticks are 10 ms, a request ~0.2 ms
LOAD_CONCURRENCY = 16
WARM_UP_REQUESTS = 400


def accounts(args: argparse.Namespace, children: Children) -> list[dict[str, Any]]:
    """Each count of `--accounts` in turn (`children` unused: spproxy runs as `spproxy serve`),
    then what each account more costs than with the fewest."""
    rows = [asyncio.run(measure(count, args.accounts_timeout)) for count in args.accounts]
    fewest = min(rows, key=lambda row: row["accounts"])
    for row in rows:
        more = row["accounts"] - fewest["accounts"]
        if more > 0:
            for rss, per in (("rss_at_ready_mib", "ready"), ("rss_all_tokens_mib", "all_tokens")):
                added_kib = (row[rss] - fewest[rss]) * 1024
                row[f"kib_per_account_{per}"] = round(added_kib / more, 2)
            row["cpu_vs_fewest"] = round(
                row["cpu_us_per_request"] / fewest["cpu_us_per_request"], 3
            )
    return rows


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
        figures["load_s"] = load_seconds(config)
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


def load_seconds(config: Path) -> float:
    """`load_config` of the file in this process, the best of 3 (s)."""
    times = []
    for _ in range(3):
        began = time.perf_counter()
        load_config(str(config), {})
        times.append(time.perf_counter() - began)
    return round(min(times), 3)


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
                        figures["cpu_us_per_request"] = await _cpu_per_request(
                            session, base, process.pid
                        )
                        return figures
            except aiohttp.ClientConnectionError:
                pass  # not listening yet: the config is still loading
            await asyncio.sleep(0.05)


async def _cpu_per_request(session: aiohttp.ClientSession, base: str, pid: int) -> float:
    """spproxy's CPU time per request (us), the default account's, after a warm-up: the least
    of LOAD_ROUNDS rounds."""
    await _calls(session, f"{base}{PARTICIPATIONS}", WARM_UP_REQUESTS)
    rounds = []
    for _ in range(LOAD_ROUNDS):
        before = cpu_seconds(pid)
        await _calls(session, f"{base}{PARTICIPATIONS}", LOAD_REQUESTS)
        rounds.append((cpu_seconds(pid) - before) / LOAD_REQUESTS)
    return round(min(rounds) * 1e6, 1)


async def _calls(session: aiohttp.ClientSession, url: str, count: int) -> None:
    remaining = iter(range(count))  # shared: each worker takes the next until none is left

    async def worker() -> None:
        for _ in remaining:
            async with session.get(url) as answer:
                await answer.read()
                if answer.status != 200:
                    raise BenchError(f"{url} answered {answer.status} with every token held")

    await asyncio.gather(*(worker() for _ in range(LOAD_CONCURRENCY)))
