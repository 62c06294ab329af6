"""Benchmark: spproxy against a bare aiohttp pass-through, both in front of the emulator.

    .venv/bin/python bench/bench.py [--seconds S] [--concurrency C] [--signing] [--json]
                                    [--only PHASES | --skip PHASES] [--soak]
    .venv/bin/python bench/bench.py --only soak [--soak-seconds S] [--soak-documents N]

Everything runs on 127.0.0.1 with ports chosen by the kernel, is bounded in time and stops by
itself (about 70-90 s with the defaults; PHASES is a comma-separated subset of
startup,load,quota,rdt,soak, e.g. `--only quota,rdt`, about 25 s). The soak phase takes minutes
(about 3 with its defaults), so it is not in the default run: it runs when `--only` names it or
with `--soak` (added to the phases otherwise chosen). Each server runs in its own
process, started with multiprocessing's "spawn" method (a fresh interpreter), so no two share an
event loop:

- emulator: `make_emulator_app()` (with `--signing`, `EmulatorConfig(aws_keys=...)`, which then
  requires a valid SigV4 signature on every SP-API call), plus a bench-only route
  `GET /_bench/stats` (LWA exchanges and the number of SP-API requests received). The bench's
  emulator process moves `state.requests` into a counter every 0.5 s so that the fake Amazon's
  memory (and garbage collector) stays flat during the run; the emulator package is unchanged.
- spproxy: `make_app(demo_config(...))` as `spproxy demo` builds it (with `--signing`, plus an
  `AwsConfig` with the emulator's keys), served as `spproxy serve` serves it
  (`spproxy.server.serving`: header deadline, handler cancellation, no aiohttp access log).
  Logging is configured at WARNING, so the per-request access line is not written (its record
  is still built); `--access-log` configures INFO instead, written to /dev/null. Client-side
  pacing (`upstream.pacing`, where the option exists) is off: paced, spproxy would hold the
  calls to their SP-API usage plans and the bench would measure the plan, not the proxy.
- bare: the simplest honest reverse proxy: one `ClientSession(auto_decompress=False)`, a
  catch-all handler that forwards method, raw path and query, headers (minus Host,
  Content-Length and hop-by-hop ones) and body, adds an `x-amz-access-token` obtained once at
  start-up from the emulator's LWA endpoint, and answers
  `web.Response(status, headers minus hop-by-hop, body=await resp.read())`. With `--signing`
  it also signs each request with botocore's SigV4Auth (the same keys), so that both proxies
  get 200s from the same verifying emulator and the ratio still measures the proxies.
- load: `--clients` worker processes (default 1), each an aiohttp client holding one
  keep-alive connection pool per target, sharing `--concurrency` closed-loop workers.

Phases (`load` is 1-4, `startup` is 5; they run in the order startup, load, quota, rdt, soak):
1. Throughput: after a warm-up of each target, short rounds (`--round` s) alternate between
   spproxy and bare, in ABBA order, for `--seconds` s in all, so drift and noise hit both alike.
   Reported: requests/s (median over rounds and overall), the spproxy/bare ratio (overall and
   the median of each round pair), and CPU time per request of each process, read from
   /proc/PID/stat. CPU per request does not depend on who saturates the cores, so it is the
   steadier measure of what each proxy costs.
2. Latency: sequential requests (concurrency 1), `--latency-requests` per target, in blocks of
   100 rotating between the emulator directly, bare and spproxy; p50/p99 and the latency each
   proxy adds over going direct.
3. Tokens: LWA exchanges the emulator performed from spproxy's start to the end of the load,
   against the requests spproxy forwarded (expected: 1 exchange in all).
4. Memory: spproxy's (and bare's) VmRSS after start-up, after warm-up and after the load.
5. Start-up: `python -m spproxy demo --port P` in a fresh interpreter until `/_spproxy/ready`
   answers 200, then SIGINT and exit status 0 (median of `--startup-runs`); the time of
   `python -c "import spproxy.app"` (wall, and `-X importtime`'s cumulative figure); and
   whether botocore is loaded by an unsigned proxy: by the bench's spproxy process itself,
   and by a separate `python -c` that builds and serves the app like the bench and sends one
   request through it (and, as a check of the check, the same with signing on). These fresh
   interpreters get a private bytecode cache (a temporary PYTHONPYCACHEPREFIX, primed by one
   uncounted run, PYTHONDONTWRITEBYTECODE dropped), so the figures are those of an installed
   spproxy and the repository is not written to.
6. Quota (`quota`): Amazon-side 429s per 1,000 over-quota calls, spproxy against plain
   forwarding. A fresh emulator with `EmulatorConfig(rate_limits=True)` and getInventorySummaries'
   plan overridden to `--quota-rate`/`--quota-burst` (100/s burst 10; the model says 2/s burst 2),
   a fresh spproxy with pacing on as it ships (`UpstreamConfig` defaults: queue_timeout_s 30,
   3 retries) and a fresh bare (no pacing, no retries). The same `--quota-calls` (1000) calls,
   `--quota-concurrency` (20) at a time, as fast as each lets them: spproxy cold, bare, then
   spproxy again (warm: the rate already learned). All share the seller, hence Amazon's bucket,
   which is full at each start. Reported: Amazon's 429s (`/_emulator/stats` quota_refusals and
   by_status, deltas) and requests received, what the client saw (200, 429 relayed from Amazon,
   429 made by spproxy, other), elapsed time and client latency. Cold, spproxy paces by the
   model's plan until an answer's `x-amzn-RateLimit-Limit` says 100/s; calls that queued before
   that are planned again at the learned rate, in order (spproxy/ratelimit.py), so they neither
   wait out the model's slots (up to ~9 s) nor go out on top of the learned rate and draw
   Amazon's 429s, as they did before. Held longer than the learned rate explains, a call points
   at a machine too busy to keep time (a stalled event loop sends overdue calls at once).
7. RDT mints (`rdt`): mints per 1,000 restricted calls with bundling (`bundle_limit` 50, as
   spproxy ships) and without (1). In a process of its own: the emulator on loopback, and
   spproxy's credential code (Credentials, RestrictedDataTokens, the real TokensApi through
   Upstream, built like `Proxy.build`) on a fake clock that advances `--rdt-step` (36 s) before
   each of `--rdt-calls` (1000) calls, so they span 10 hours of RDTs that live an hour (the
   emulator's expiresIn) and are renewed 300 s ahead. The calls cycle getOrder,
   getOrderAddress, getOrderBuyerInfo, getOrderItems and MFN getShipment, alternating ids that
   exist with made-up ones (404, after Amazon accepted the RDT), and are sent to the emulator
   with the RDT chosen. Pacing is off there (the calls run in under a second of real time).
   Reported: Amazon's mints (`/_emulator/stats` rdt_mints), per 1,000 calls and per simulated
   hour, resources per mint, and the ratio.
8. Soak (`soak`, only with `--only soak` or `--soak`): whether spproxy's memory and
   /_spproxy/status stay bounded when it meets many distinct restricted report documents, each
   of which needs an RDT minted for its own path (so each is a cache entry of its own). A fresh
   emulator (rate limits off) and a fresh spproxy (pacing off: the Tokens API's plan is 1/s, and
   20,000 paced mints would take hours), built like the load phases'. One load process sends
   `--soak-documents` (20,000) GET /reports/2021-06-30/documents/{id} with distinct made-up ids
   and `x-spproxy-report-type: GET_ORDER_REPORT_DATA_SHIPPING` (a restricted type), spread
   evenly over `--soak-seconds` (180; at most 8 in flight), while `--soak-concurrency` (8)
   closed-loop workers send getMarketplaceParticipations, getOrders, getOrder and
   getOrderAddress in turn (orders alternating between existing ids and made-up ones, each used
   once), until the time is up and every document is sent (nothing is sent after 2 x
   --soak-seconds + 60 s). Amazon answers each document 404 (no such document) after accepting
   the RDT minted for it; the answer's `x-spproxy-credential: rdt-minted` and Amazon's mint count
   show that every document cost a mint. Every second the bench reads spproxy's VmRSS and
   Amazon's mint count, every 5 s it GETs /_spproxy/status (size, and time to its last byte,
   under load). Warm-up ends with the first 10% of the documents minted (or 10% of the time,
   whichever comes first). Reported: requests and answers by operation, documents answered
   rdt-minted, mints (Amazon's and spproxy's own count), client latency; RSS at the start, at
   the end of warm-up, its peak after warm-up and at the end (idle), the growth after warm-up,
   and over the second half of the soak (bounded but large, or still growing?);
   /_spproxy/status's size at the start, its peak and at the end, the time to serve it idle at
   the end (median of 5) and its slowest under load, what it says of RDTs (numbers and list
   lengths under keys naming rdt or restricted), RestrictedDataTokens' parameter defaults; a
   timeline; and a PASS/FAIL line for each goal: RSS growth after warm-up (its peak) <= 5 MiB,
   /_spproxy/status <= 64 KiB throughout. It reports whatever the figures are; it asserts
   nothing (the exit status is 0 either way).

The machine's core count is printed: the load generator, the proxies and the emulator compete
for the same cores, so compare ratios and CPU per request, not absolute requests/s.

Options: --seconds (throughput time, default 40), --round (default 1.5), --concurrency
(default 32), --clients (default 1), --latency-requests (default 2000), --startup-runs
(default 3), --mix (alternate getMarketplaceParticipations with getOrders), --signing,
--access-log, --quota-calls, --quota-concurrency, --quota-rate, --quota-burst, --rdt-calls,
--rdt-step, --only/--skip PHASES, --soak, --soak-seconds (default 180), --soak-documents
(default 20000), --soak-concurrency (default 8), --soak-document-rdts (spproxy's
`limits.document_rdts` for the soak; default: spproxy's own), --json (one JSON document on
stdout instead of the table).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import inspect
import json
import logging
import math
import multiprocessing
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from spproxy.headers import ACCESS_TOKEN_HEADER
from spproxy.upstream import HOP_BY_HOP

if TYPE_CHECKING:
    from spproxy.config import Config

HOST = "127.0.0.1"
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
ORDERS = "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&CreatedAfter=2024-01-01T00:00:00Z"
AWS_KEY_ID = "AKIDSPPROXYBENCH0001"
AWS_SECRET = "spproxy-bench-aws-secret-access-key-0001"  # noqa: S105 - a fake for the emulator
AWS_REGION = "us-east-1"
BARE_REQUEST_DROPPED = HOP_BY_HOP | {"host", "content-length"}
BARE_RESPONSE_DROPPED = HOP_BY_HOP | {"content-length"}  # web.Response sets its own
LATENCY_BLOCK = 100
DEFAULT_PHASES = ("startup", "load", "quota", "rdt")  # load: throughput, latency, tokens, memory
PHASES = (*DEFAULT_PHASES, "soak")  # soak takes minutes: only with --only soak or --soak
# Quota phase: an operation whose plan the emulator enforces, overridden to a fast one.
QUOTA_OPERATION = "getInventorySummaries"
QUOTA_PATH = (
    "/fba/inventory/v1/summaries?granularityType=Marketplace&granularityId=ATVPDKIKX0DER"
    "&marketplaceIds=ATVPDKIKX0DER"
)
# RDT phase: restricted operations called in turn ({order} and {shipment} vary by call).
RDT_OPERATIONS = (
    ("getOrder", "/orders/v0/orders/{order}"),
    ("getOrderAddress", "/orders/v0/orders/{order}/address"),
    ("getOrderBuyerInfo", "/orders/v0/orders/{order}/buyerInfo"),
    ("getOrderItems", "/orders/v0/orders/{order}/orderItems"),
    ("getShipment (MFN)", "/mfn/v0/shipments/{shipment}"),
)
KNOWN_ORDER_IDS = ("902-1845936-5435065", "902-8745147-1934268", "902-3159896-1390916")
RDT_BUNDLE_LIMIT = 50  # spproxy's default (make_app's rdt_bundle_limit); 1 is no bundling
RDT_TIME_LIMIT_S = 120.0
SERVER_LIFETIME_S = 900.0  # a server left behind stops by itself after this
# Soak phase: distinct documents of a restricted report type (each needs an RDT minted for its
# own path), interleaved with ordinary traffic; the goals it reports against.
SOAK_REPORT_TYPE = "GET_ORDER_REPORT_DATA_SHIPPING"
SOAK_DOCUMENT = "/reports/2021-06-30/documents/amzn1.spdoc.1.4.na.bench-soak-{i:08d}"
REPORT_TYPE_HEADER = "x-spproxy-report-type"  # spproxy.credentials.REPORT_TYPE_HEADER
CREDENTIAL_HEADER = "x-spproxy-credential"  # spproxy.app.CREDENTIAL_HEADER: rdt-minted, ...
SOAK_DOCUMENT_WORKERS = 8  # document requests in flight at most (they are paced, see _soak_traffic)
SOAK_SAMPLE_S = 1.0  # spproxy's VmRSS and Amazon's mint count, this often
SOAK_STATUS_EVERY_S = 5.0  # GET /_spproxy/status under load, this often
SOAK_WARM_UP_FRACTION = 0.1  # of the documents (or of the time, whichever comes first)
SOAK_RSS_GOAL_MIB = 5.0  # growth after warm-up
SOAK_STATUS_GOAL_BYTES = 64 * 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

Message = dict[str, Any]


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# SigV4 (only with --signing; botocore is imported here, never at module level)


def sigv4_headers(method: str, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, str]:
    """The Authorization and X-Amz-Date headers botocore's SigV4Auth adds to this request."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    SigV4Auth(Credentials(AWS_KEY_ID, AWS_SECRET), "execute-api", AWS_REGION).add_auth(request)
    return {name: str(request.headers[name]) for name in ("Authorization", "X-Amz-Date")}


# --------------------------------------------------------------------------------------------
# Server processes: emulator, spproxy, bare pass-through


@dataclass
class _Drained:
    requests: int = 0


@dataclass
class _BareState:
    session: aiohttp.ClientSession
    token: str


DRAINED = web.AppKey("bench_drained", _Drained)
BARE = web.AppKey("bench_bare", _BareState)


def emulator_app(
    signing: bool, usage_plans: Mapping[str, tuple[float, int]] | None = None
) -> web.Application:
    """The emulator; with `usage_plans`, SP-API's usage plans enforced (429 QuotaExceeded), the
    given operations' plans overridden."""
    from spproxy.emulator import STATE_KEY, EmulatorConfig, make_emulator_app

    config = EmulatorConfig(
        aws_keys={AWS_KEY_ID: AWS_SECRET} if signing else None,
        rate_limits=usage_plans is not None,
        usage_plans=dict(usage_plans or {}),
    )
    app = make_emulator_app(config)
    app[DRAINED] = _Drained()

    async def stats(request: web.Request) -> web.Response:
        state = request.app[STATE_KEY]
        return web.json_response(
            {
                "lwa_exchanges": dict(state.lwa_exchanges),
                "lwa_exchanges_total": sum(state.lwa_exchanges.values()),
                "requests": request.app[DRAINED].requests + len(state.requests),
            }
        )

    async def drain(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(0.5)
                state = app[STATE_KEY]
                app[DRAINED].requests += len(state.requests)
                state.requests.clear()

        task = asyncio.create_task(loop())
        yield
        task.cancel()

    app.router.add_get("/_bench/stats", stats)
    app.cleanup_ctx.append(drain)
    return app


def spproxy_app(
    upstream: str,
    signing: bool,
    access_log: bool,
    paced: bool = False,
    document_rdts: int | None = None,
) -> tuple[web.Application, Config]:
    from spproxy.app import make_app
    from spproxy.config import AwsConfig, Secret
    from spproxy.demo import demo_config
    from spproxy.logs import configure_logging

    config = demo_config(upstream, port=0)
    config = with_pacing(config) if paced else without_pacing(config)
    if document_rdts is not None:
        config = with_document_rdts(config, document_rdts)
    if signing:
        config = dataclasses.replace(config, aws=AwsConfig(Secret(AWS_KEY_ID), Secret(AWS_SECRET)))
    configure_logging("info" if access_log else "warning")
    if access_log:
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    return make_app(config), config


def without_pacing(config: Config) -> Config:
    """The config with spproxy's client-side pacing (`upstream.pacing`) off.

    Paced, spproxy would hold getMarketplaceParticipations to its SP-API usage plan (0.016
    requests/s after a burst of 15), and the bench would measure the plan, not the proxy.
    """
    upstream = dataclasses.replace(config.upstream, pacing=False)
    return dataclasses.replace(config, upstream=upstream)


def with_document_rdts(config: Config, entries: int) -> Config:
    """The config with `limits.document_rdts` (how many RDTs spproxy caches) set to `entries`."""
    return dataclasses.replace(
        config, limits=dataclasses.replace(config.limits, document_rdts=entries)
    )


def with_pacing(config: Config) -> Config:
    """The config with pacing on, as spproxy ships (`upstream.pacing`, `queue_timeout_s`,
    `retries` and backoff at their defaults): for the quota phase, which measures the plan."""
    upstream = dataclasses.replace(config.upstream, pacing=True)
    return dataclasses.replace(config, upstream=upstream)


def bare_app(upstream: str, signing: bool) -> web.Application:
    """The simplest honest reverse proxy (see the module docstring)."""

    async def start_and_stop(app: web.Application) -> AsyncIterator[None]:
        from spproxy.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN

        session = aiohttp.ClientSession(auto_decompress=False)
        form = {
            "grant_type": "refresh_token",
            "refresh_token": DEMO_REFRESH_TOKEN,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        }
        async with session.post(f"{upstream}/auth/o2/token", data=form) as response:
            token = (await response.json())["access_token"]
        app[BARE] = _BareState(session, str(token))
        yield
        await session.close()

    async def forward(request: web.Request) -> web.Response:
        bare = request.app[BARE]
        headers = CIMultiDict(
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in BARE_REQUEST_DROPPED
        )
        headers[ACCESS_TOKEN_HEADER] = bare.token
        body = await request.read()
        url = upstream + request.raw_path
        if signing:
            headers.update(sigv4_headers(request.method, url, headers, body))
        async with bare.session.request(
            request.method,
            URL(url, encoded=True),
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as response:
            payload = await response.read()
            answer_headers = CIMultiDict(
                (name, value)
                for name, value in response.headers.items()
                if name.lower() not in BARE_RESPONSE_DROPPED
            )
            return web.Response(status=response.status, headers=answer_headers, body=payload)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.cleanup_ctx.append(start_and_stop)
    app.router.add_route("*", "/{path:.*}", forward)
    return app


def server_main(role: str, options: Message, conn: Connection, parent_pid: int) -> None:
    """Entry point of a server process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    try:
        asyncio.run(_serve(role, options, conn, parent_pid))
    except Exception:
        if conn.poll() or os.getppid() != parent_pid:  # told to stop, or orphaned: no noise
            sys.exit(1)
        raise


async def _serve(role: str, options: Message, conn: Connection, parent_pid: int) -> None:
    runner: web.AppRunner
    if role == "emulator":
        app = emulator_app(options["signing"], options.get("usage_plans"))
        runner = web.AppRunner(app, access_log=None)
    elif role == "spproxy":
        from spproxy.server import serving

        app, config = spproxy_app(
            options["upstream"],
            options["signing"],
            options["access_log"],
            options.get("paced", False),
            options.get("document_rdts"),
        )
        runner = serving(app, config)  # as `spproxy serve` runs it
    else:
        runner = web.AppRunner(bare_app(options["upstream"], options["signing"]), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, 0).start()
        conn.send({"port": runner.addresses[0][1], "pid": os.getpid()})
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        deadline = time.monotonic() + options.get("lifetime_s", SERVER_LIFETIME_S)
        while not stop.is_set() and time.monotonic() < deadline and os.getppid() == parent_pid:
            if conn.poll():
                try:
                    message = conn.recv()
                except EOFError:
                    break
                if message["cmd"] == "stop":
                    break
                if message["cmd"] == "modules":
                    conn.send({"botocore": "botocore" in sys.modules})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------------------------
# Load worker processes


def load_main(conn: Connection, parent_pid: int) -> None:
    """Entry point of a load process: runs the parent's commands one at a time."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sessions: dict[str, aiohttp.ClientSession] = {}
    try:
        while os.getppid() == parent_pid:
            if not conn.poll(0.5):
                continue
            try:
                command = conn.recv()
            except EOFError:
                break
            if command["cmd"] == "stop":
                break
            conn.send(loop.run_until_complete(_load_command(command, sessions)))
    finally:
        for session in sessions.values():
            loop.run_until_complete(session.close())
        loop.close()


async def _load_command(command: Message, sessions: dict[str, aiohttp.ClientSession]) -> Message:
    base = command["base"]
    session = sessions.get(base)
    if session is None:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        sessions[base] = session
    if command["cmd"] == "soak":
        return await _soak_traffic(session, base, command)
    urls = [URL(base + path, encoded=True) for path in command["paths"]]
    headers: dict[str, str] = command["headers"]
    if command["cmd"] == "throughput":
        return await _throughput(
            session, urls, headers, command["concurrency"], command["start_at"], command["seconds"]
        )
    if command["cmd"] == "calls":
        return await _calls(session, urls, headers, command["n"], command["concurrency"])
    return await _latency(session, urls, headers, command["n"], command["sign"])


async def _throughput(
    session: aiohttp.ClientSession,
    urls: Sequence[URL],
    headers: Mapping[str, str],
    concurrency: int,
    start_at: float,
    seconds: float,
) -> Message:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    end = start_at + seconds
    statuses: Counter[int] = Counter()
    late: Counter[int] = Counter()
    errors = 0
    cpu = time.process_time()

    async def one_client(offset: int) -> None:
        nonlocal errors
        i = offset
        while time.monotonic() < end:
            url = urls[i % len(urls)]
            i += 1
            try:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
                await asyncio.sleep(0.01)
                continue
            if time.monotonic() <= end:
                statuses[status] += 1
            else:  # in flight at the end: forwarded, but not in the rate
                late[status] += 1

    await asyncio.gather(*(one_client(k) for k in range(concurrency)))
    return {
        "statuses": {str(k): v for k, v in statuses.items()},
        "late": {str(k): v for k, v in late.items()},
        "errors": errors,
        "cpu_s": time.process_time() - cpu,
    }


async def _calls(
    session: aiohttp.ClientSession,
    urls: Sequence[URL],
    headers: Mapping[str, str],
    n: int,
    concurrency: int,
) -> Message:
    """`n` calls, `concurrency` at a time, each sent as soon as a worker is free.

    Outcomes: "200", "429 from Amazon" (relayed: the answer carries the emulator's
    x-amzn-RequestId), "429 from spproxy" (made by the proxy, `x-spproxy-origin: proxy`: no
    pacing slot within queue_timeout_s), any other status, "client error".
    """
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    calls = iter(range(n))
    timeout = aiohttp.ClientTimeout(total=120)  # pacing may hold a call up to queue_timeout_s

    async def worker() -> None:
        for i in calls:  # shared: each call is taken by one worker
            started = time.perf_counter()
            try:
                async with session.get(urls[i % len(urls)], headers=headers, timeout=timeout) as r:
                    await r.read()
            except (aiohttp.ClientError, TimeoutError):
                outcomes["client error"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            if r.status == 429 and r.headers.get("x-spproxy-origin") == "proxy":
                outcomes["429 from spproxy"] += 1
            elif r.status == 429 and "x-amzn-RequestId" in r.headers:
                outcomes["429 from Amazon"] += 1
            else:
                outcomes[str(r.status)] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "outcomes": dict(sorted(outcomes.items())),
        "elapsed_s": elapsed,
        "latency_ms": {
            "p50": percentile(latencies, 0.5) * 1000 if latencies else None,
            "p99": percentile(latencies, 0.99) * 1000 if latencies else None,
            "max": latencies[-1] * 1000 if latencies else None,
        },
    }


async def _latency(
    session: aiohttp.ClientSession,
    urls: Sequence[URL],
    headers: Mapping[str, str],
    n: int,
    sign: bool,
) -> Message:
    samples: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    for i in range(n):
        url = urls[i % len(urls)]
        request_headers = dict(headers)
        if sign:  # signed before the clock starts: the direct baseline pays no signing
            request_headers.update(sigv4_headers("GET", str(url), headers, b""))
        started = time.perf_counter_ns()
        try:
            async with session.get(url, headers=request_headers) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            errors += 1
            await asyncio.sleep(0.01)
            continue
        samples.append((time.perf_counter_ns() - started) / 1000)
        statuses[response.status] += 1
    return {
        "samples_us": samples,
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": errors,
    }


def soak_mixed_path(n: int) -> tuple[str, str]:
    """The n-th ordinary request of the soak: (operation, path). getMarketplaceParticipations,
    getOrders, getOrder and getOrderAddress in turn; the orders alternate between ids that exist
    and made-up ones, each used once (404, after Amazon accepted the RDT)."""
    round_, k = divmod(n, 4)
    if k == 0:
        return "getMarketplaceParticipations", PARTICIPATIONS
    if k == 1:
        return "getOrders", ORDERS
    known = round_ % 2 == 0
    order = KNOWN_ORDER_IDS[round_ % len(KNOWN_ORDER_IDS)] if known else f"902-0000000-{round_:07d}"
    if k == 2:
        return "getOrder", f"/orders/v0/orders/{order}"
    return "getOrderAddress", f"/orders/v0/orders/{order}/address"


async def _soak_traffic(session: aiohttp.ClientSession, base: str, command: Message) -> Message:
    """The soak's traffic: `documents` distinct restricted report documents, document i sent at
    `i * seconds / documents` s (at most SOAK_DOCUMENT_WORKERS in flight; when behind, as fast as
    they allow), while `concurrency` closed-loop workers send the ordinary requests
    (`soak_mixed_path`) until the time is up and every document is sent. Nothing is sent after
    `max_seconds`."""
    documents: int = command["documents"]
    seconds: float = command["seconds"]
    concurrency: int = command["concurrency"]
    start = time.monotonic()
    end, hard_end = start + seconds, start + command["max_seconds"]
    interval = seconds / documents
    document_headers = {REPORT_TYPE_HEADER: SOAK_REPORT_TYPE}
    statuses: dict[str, Counter[str]] = {}
    errors: Counter[str] = Counter()
    credentials: Counter[str] = Counter()  # of the document answers
    latencies: dict[str, list[float]] = {"documents": [], "ordinary": []}
    pending = iter(range(documents))  # shared: each document is taken by one worker
    mixed = iter(range(2**62))  # shared: the ordinary requests in turn
    documents_done = asyncio.Event()
    cpu = time.process_time()

    async def get(operation: str, group: str, path: str, headers: Mapping[str, str]) -> str | None:
        """The request; the answer's x-spproxy-credential ("-" if none), None on a client error."""
        started = time.perf_counter()
        try:
            async with session.get(URL(base + path, encoded=True), headers=headers) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            errors[operation] += 1
            await asyncio.sleep(0.01)
            return None
        latencies[group].append(time.perf_counter() - started)
        statuses.setdefault(operation, Counter())[str(response.status)] += 1
        return response.headers.get(CREDENTIAL_HEADER, "-")

    async def document_worker() -> None:
        for i in pending:
            now = time.monotonic()
            if now >= hard_end:
                break
            due = start + i * interval
            if due > now:
                await asyncio.sleep(due - now)
            path = SOAK_DOCUMENT.format(i=i)
            credential = await get("getReportDocument", "documents", path, document_headers)
            if credential is not None:
                credentials[credential] += 1

    async def all_documents() -> None:
        await asyncio.gather(*(document_worker() for _ in range(SOAK_DOCUMENT_WORKERS)))
        documents_done.set()

    async def ordinary_worker() -> None:
        while True:
            now = time.monotonic()
            if now >= hard_end or (now >= end and documents_done.is_set()):
                break
            operation, path = soak_mixed_path(next(mixed))
            await get(operation, "ordinary", path, {})

    await asyncio.gather(all_documents(), *(ordinary_worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - start
    documents_sent = sum(statuses.get("getReportDocument", {}).values())
    documents_sent += errors["getReportDocument"]
    out: Message = {
        "elapsed_s": elapsed,
        "documents_sent": documents_sent,
        "document_credentials": dict(sorted(credentials.items())),
        "statuses": {op: dict(sorted(counts.items())) for op, counts in sorted(statuses.items())},
        "client_errors": dict(sorted(errors.items())),
        "requests_sent": sum(sum(c.values()) for c in statuses.values()) + sum(errors.values()),
        "load_cpu_s": time.process_time() - cpu,
        "latency_ms": {},
    }
    for group, samples in latencies.items():
        samples.sort()
        out["latency_ms"][group] = {
            "n": len(samples),
            "p50": round(percentile(samples, 0.5) * 1000, 2) if samples else None,
            "p99": round(percentile(samples, 0.99) * 1000, 2) if samples else None,
            "max": round(samples[-1] * 1000, 2) if samples else None,
        }
    return out


# --------------------------------------------------------------------------------------------
# RDT mints: spproxy's RDT cache on a fake clock, in its own process


def rdt_main(options: Message, conn: Connection, parent_pid: int) -> None:
    """Entry point of the RDT process: measures, sends the result, exits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    result = asyncio.run(asyncio.wait_for(_rdt_measure(options), RDT_TIME_LIMIT_S))
    if os.getppid() == parent_pid:
        conn.send(result)


async def _rdt_measure(options: Message) -> Message:
    """Both runs (bundled, unbundled) against one emulator served on loopback."""
    from spproxy.emulator import STATE_KEY, make_emulator_app

    app = make_emulator_app()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, 0).start()
        url = f"http://{HOST}:{runner.addresses[0][1]}"
        out: Message = {}
        for name, limit in (("bundled", RDT_BUNDLE_LIMIT), ("unbundled", 1)):
            mints_before = len(app[STATE_KEY].rdt_mints)
            out[name] = await _rdt_run(url, limit, options["calls"], options["step_s"])
            bundles = [len(m.restricted_resources) for m in app[STATE_KEY].rdt_mints[mints_before:]]
            out[name]["resources_per_mint_mean"] = statistics.fmean(bundles) if bundles else None
        return out
    finally:
        await runner.cleanup()


def _rdt_path(i: int) -> str:
    """The i-th call's path: the operations in turn; ids that exist in one round of them, made-up
    ones (404, after Amazon accepted the RDT) in the next."""
    from spproxy.emulator.fixtures import MFN_SHIPMENT_ID

    round_, k = divmod(i, len(RDT_OPERATIONS))
    known = round_ % 2 == 0
    order = KNOWN_ORDER_IDS[round_ % len(KNOWN_ORDER_IDS)] if known else f"902-0000000-{i:07d}"
    shipment = MFN_SHIPMENT_ID if known else f"00000000-0000-4000-8000-{i:012d}"
    return RDT_OPERATIONS[k][1].format(order=order, shipment=shipment)


async def _rdt_run(url: str, bundle_limit: int, calls: int, step_s: float) -> Message:
    """`calls` restricted calls through spproxy's credential and upstream code, the fake clock
    advancing `step_s` before each; built like `Proxy.build`, except for the clock and pacing.

    Pacing is off: the calls run in a few real seconds, which the SP-API usage plans (0.5/s for
    getOrder) would otherwise stretch to hours. The emulator checks expiry on its wall clock, on
    which every RDT is fresh; what it counts is the mints.
    """
    from multidict import CIMultiDictProxy

    from spproxy.config import UpstreamConfig
    from spproxy.credentials import Credentials
    from spproxy.demo import demo_config
    from spproxy.lwa import LwaTokens
    from spproxy.operations import load_table
    from spproxy.ratelimit import RateLimiter
    from spproxy.rdt import TOKENS_API, RestrictedDataTokens, TokensApi
    from spproxy.reports import ReportTypes
    from spproxy.target import parse_target
    from spproxy.upstream import Upstream, UpstreamRequest, default_user_agent

    now = [1_750_000_000.0]

    def clock() -> float:
        return now[0]

    config = demo_config(url, port=0)
    account = config.default_account
    table = load_table()
    no_headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
    statuses: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        before = await _amazon_stats(session, url)
        lwa = LwaTokens(session, config.lwa, timeout_s=10)
        upstream = Upstream(
            session,
            config=UpstreamConfig(pacing=False),
            user_agent=default_user_agent(),
            middlewares={},
            limiter=RateLimiter(queue_timeout_s=1),
        )
        tokens_operation = table.classify("POST", TOKENS_API.path)
        mint = TokensApi(upstream, lwa, operation=tokens_operation, clock=clock).mint
        rdts = RestrictedDataTokens(mint, bundle_limit=bundle_limit, clock=clock)
        credentials = Credentials(lwa, rdts, ReportTypes())
        started = time.perf_counter()
        for i in range(calls):
            now[0] += step_s
            target = parse_target("GET", _rdt_path(i))
            operation = table.classify("GET", target.path)
            credential = await credentials.choose(account, operation, target, no_headers)
            credential, answer = await upstream.send_renewing(
                UpstreamRequest(account, operation, "GET", target, no_headers),
                credential,
                token=lambda c: c.token,
                renew=partial(credentials.after_refusal, account),
            )
            statuses[str(answer.response.status)] += 1
            kinds[credential.kind] += 1
            answer.response.release()
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.2)  # a refresh started in the background by the last calls lands
        after = await _amazon_stats(session, url)
        await rdts.aclose()
        await lwa.aclose()
    return {
        "bundle_limit": bundle_limit,
        "calls": calls,
        "amazon_rdt_mints": after["rdt_mints"] - before["rdt_mints"],
        "spproxy_rdt_mints": rdts.mints,
        "statuses": dict(sorted(statuses.items())),
        "credentials": dict(sorted(kinds.items())),
        "real_s": elapsed,
    }


async def _amazon_stats(session: aiohttp.ClientSession, url: str) -> Message:
    async with session.get(f"{url}/_emulator/stats") as response:
        stats: Message = await response.json()
    return stats


# --------------------------------------------------------------------------------------------
# The parent: processes, measurements, report


@dataclass
class Child:
    name: str
    process: SpawnProcess
    conn: Connection
    pid: int = 0
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass
class Children:
    """Every process the bench starts, stopped in `close` whatever happened."""

    context: SpawnContext
    spawned: list[Child] = field(default_factory=list)
    popen: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def spawn(self, name: str, target: Any, args: tuple[Any, ...]) -> Child:
        parent_conn, child_conn = self.context.Pipe()
        process = self.context.Process(
            target=target, args=(*args, child_conn, os.getpid()), name=name, daemon=True
        )
        # Blocked during the fork, SIGINT stays blocked in the child: Ctrl-C reaches only us.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        child_conn.close()
        child = Child(name, process, parent_conn, pid=process.pid or 0)
        self.spawned.append(child)
        return child

    def check(self) -> None:
        for child in self.spawned:
            if not child.process.is_alive():
                raise BenchError(f"{child.name} exited (code {child.process.exitcode})")

    def server(self, role: str, options: Message, timeout_s: float = 30.0) -> Child:
        child = self.spawn(f"bench-{role}", server_main, (role, options))
        ready = receive(child, timeout_s)
        child.port, child.pid = ready["port"], ready["pid"]
        return child

    def close(self) -> None:
        """Stop everything; bounded (a few seconds per process at worst), Ctrl-C ignored."""
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self._close()
        finally:
            signal.signal(signal.SIGINT, previous)

    def stop(self, *children: Child) -> None:
        """Stop these (in the order given) before the end; bounded like `close`."""
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for child in children:
                self.spawned.remove(child)
                _stop_child(child)
        finally:
            signal.signal(signal.SIGINT, previous)

    def _close(self) -> None:
        for popen in self.popen:
            if popen.poll() is None:
                popen.kill()
            popen.wait(timeout=5)
        # The last started first: load processes before the servers they talk to.
        for child in reversed(self.spawned):
            _stop_child(child)


def _stop_child(child: Child) -> None:
    with contextlib.suppress(OSError, ValueError):
        child.conn.send({"cmd": "stop"})
    child.process.join(timeout=5)
    if child.process.is_alive():
        child.process.terminate()
        child.process.join(timeout=3)
    if child.process.is_alive():
        child.process.kill()
        child.process.join(timeout=3)
    child.conn.close()


def receive(child: Child, timeout_s: float) -> Message:
    if not child.conn.poll(timeout_s):
        raise BenchError(f"{child.name} did not answer within {timeout_s:g} s")
    try:
        message: Message = child.conn.recv()
    except EOFError:
        child.process.join(timeout=2)
        raise BenchError(f"{child.name} exited (code {child.process.exitcode})") from None
    return message


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def rss_mib(pid: int) -> dict[str, float]:
    values: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = round(int(rest.split()[0]) / 1024, 1)
    return values


def http_get(url: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - loopback
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_ready(
    url: str, timeout_s: float, process_alive: Callable[[], bool] | None = None
) -> float:
    """Poll until `url` answers 200; the seconds it took. Raises BenchError past `timeout_s`."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        try:
            if http_get(url, timeout_s=1.0)[0] == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        if process_alive is not None and not process_alive():
            raise BenchError(f"the process serving {url} exited before it was ready")
        time.sleep(0.01)
    raise BenchError(f"{url} was not ready within {timeout_s:g} s")


def lwa_token(emulator: str) -> str:
    from spproxy.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN

    form = urllib.parse.urlencode(
        {
            "grant_type": "refresh_token",
            "refresh_token": DEMO_REFRESH_TOKEN,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        }
    ).encode()
    url = f"{emulator}/auth/o2/token"
    request = urllib.request.Request(url, data=form, method="POST")  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
        return str(json.load(response)["access_token"])


def emulator_stats(emulator: Child) -> Message:
    status, body = http_get(f"{emulator.url}/_bench/stats")
    if status != 200:
        raise BenchError(f"/_bench/stats answered {status}")
    stats: Message = json.loads(body)
    return stats


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


@dataclass
class Target:
    name: str
    child: Child | None  # None: the emulator itself (direct)
    base: str
    headers: dict[str, str]
    sign: bool = False
    ok: int = 0  # 200s counted by the bench client, all phases
    late: int = 0  # answers that came after a round's end (not in its rate)
    other: Counter[str] = field(default_factory=Counter)  # non-200 statuses and errors
    rounds_rps: list[float] = field(default_factory=list)
    measured_ok: int = 0
    measured_s: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)  # process -> CPU s, measured rounds
    latency_us: list[float] = field(default_factory=list)

    def count(self, result: Message) -> int:
        ok = 0
        for status, n in result["statuses"].items():
            if status == "200":
                ok += n
            else:
                self.other[status] += n
        if result.get("errors"):
            self.other["client error"] += result["errors"]
        self.late += sum(result.get("late", {}).values())
        self.ok += ok
        return ok

    @property
    def sent(self) -> int:
        return self.ok + self.late + sum(self.other.values())


@dataclass
class Bench:
    args: argparse.Namespace
    children: Children
    emulator: Child
    loaders: list[Child]
    paths: list[str]

    def throughput_round(self, target: Target, seconds: float, measured: bool) -> float:
        watched = {"proxy": target.child, "emulator": self.emulator}
        pids = {name: child.pid for name, child in watched.items() if child is not None}
        pids.update({f"load{i}": loader.pid for i, loader in enumerate(self.loaders)})
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        start_at = time.monotonic() + 0.05
        for loader, concurrency in zip(
            self.loaders, split(self.args.concurrency, len(self.loaders)), strict=True
        ):
            loader.conn.send(
                {
                    "cmd": "throughput",
                    "base": target.base,
                    "paths": self.paths,
                    "headers": target.headers,
                    "concurrency": concurrency,
                    "start_at": start_at,
                    "seconds": seconds,
                }
            )
        ok = sum(target.count(receive(loader, seconds + 60)) for loader in self.loaders)
        self.children.check()
        after = {name: cpu_seconds(pid) for name, pid in pids.items()}
        rps = ok / seconds
        if measured:
            target.rounds_rps.append(rps)
            target.measured_ok += ok
            target.measured_s += seconds
            for name in pids:
                key = "load" if name.startswith("load") else name
                target.cpu_s[key] = target.cpu_s.get(key, 0.0) + after[name] - before[name]
        return rps

    def latency_block(self, target: Target, n: int) -> None:
        loader = self.loaders[0]
        loader.conn.send(
            {
                "cmd": "latency",
                "base": target.base,
                "paths": self.paths,
                "headers": target.headers,
                "n": n,
                "sign": target.sign,
            }
        )
        result = receive(loader, 60 + n)
        self.children.check()
        target.count(result)
        target.latency_us.extend(result["samples_us"])


def quota(args: argparse.Namespace, children: Children) -> Message:
    """The same over-quota calls through spproxy (pacing on) and bare; Amazon's 429s for each."""
    from spproxy.operations import load_table

    plan = (args.quota_rate, args.quota_burst)
    emulator = children.server(
        "emulator", {"signing": args.signing, "usage_plans": {QUOTA_OPERATION: plan}}
    )
    spproxy = children.server(
        "spproxy",
        {"upstream": emulator.url, "signing": args.signing, "access_log": False, "paced": True},
    )
    bare = children.server("bare", {"upstream": emulator.url, "signing": args.signing})
    loader = children.spawn("bench-quota-load", load_main, ())
    wait_ready(f"{spproxy.url}/_spproxy/ready", 15.0)
    model = load_table().classify("GET", QUOTA_PATH.partition("?")[0])
    if model is None or model.name != QUOTA_OPERATION:
        raise BenchError(f"spproxy does not classify {QUOTA_PATH} as {QUOTA_OPERATION}")
    out: Message = {
        "operation": QUOTA_OPERATION,
        "amazon_plan": {"rate": plan[0], "burst": plan[1]},
        "spproxy_model_plan": {"rate": model.rate, "burst": model.burst},
        "calls": args.quota_calls,
        "concurrency": args.quota_concurrency,
    }
    # spproxy first, from a cold bucket (what a fresh spproxy does on first contact: the model's
    # plan until Amazon's header tells the rate), then bare, then the same spproxy again, its
    # rate learned. All share a selling partner, hence Amazon's bucket: each starts it full.
    runs = (("spproxy", spproxy), ("bare", bare), ("spproxy_warm", spproxy))
    for name, child in runs:
        time.sleep(plan[1] / plan[0] + 0.2)  # Amazon's bucket full again
        before = amazon_stats(emulator)
        loader.conn.send(
            {
                "cmd": "calls",
                "base": child.url,
                "paths": [QUOTA_PATH],
                "headers": {},
                "n": args.quota_calls,
                "concurrency": args.quota_concurrency,
            }
        )
        result = receive(loader, 3 * args.quota_calls / plan[0] + 120)
        children.check()
        after = amazon_stats(emulator)
        refused = after["quota_refusals"] - before["quota_refusals"]
        received = after["requests"] - before["requests"]
        by_status = {
            status: count - before["by_status"].get(status, 0)
            for status, count in after["by_status"].items()
            if count != before["by_status"].get(status, 0)
        }
        per_1000 = 1000 / args.quota_calls
        out[name] = {
            "elapsed_s": round(result["elapsed_s"], 2),
            "client_outcomes": result["outcomes"],
            "client_latency_ms": {
                k: None if v is None else round(v, 1) for k, v in result["latency_ms"].items()
            },
            "amazon_received": received,
            "amazon_by_status": by_status,
            "amazon_429": refused,
            "amazon_429_per_1000_calls": round(refused * per_1000, 1),
            "amazon_requests_per_1000_calls": round(received * per_1000, 1),
            "amazon_received_per_s": round(received / result["elapsed_s"], 1),
        }
    status, body = http_get(f"{spproxy.url}/_spproxy/status")
    if status == 200:
        buckets = [
            b for b in json.loads(body)["buckets"] if b["operation"].startswith(QUOTA_OPERATION)
        ]
        if buckets:
            out["spproxy"]["bucket_after"] = {
                "rate": buckets[0]["rate"],
                "burst": buckets[0]["burst"],
            }
    children.stop(loader, spproxy, bare, emulator)
    return out


def amazon_stats(emulator: Child) -> Message:
    status, body = http_get(f"{emulator.url}/_emulator/stats")
    if status != 200:
        raise BenchError(f"/_emulator/stats answered {status}")
    stats: Message = json.loads(body)
    return stats


def rdt(args: argparse.Namespace, children: Children) -> Message:
    """RDT mints per 1,000 restricted calls, bundled and not (see `_rdt_run`)."""
    from spproxy.emulator import EmulatorConfig
    from spproxy.rdt import RestrictedDataTokens

    child = children.spawn(
        "bench-rdt", rdt_main, ({"calls": args.rdt_calls, "step_s": args.rdt_step},)
    )
    result = receive(child, RDT_TIME_LIMIT_S + 30)
    children.stop(child)
    per_1000 = 1000 / args.rdt_calls
    simulated_h = args.rdt_calls * args.rdt_step / 3600
    out: Message = {
        "calls": args.rdt_calls,
        "fake_clock_step_s": args.rdt_step,
        "simulated_hours": round(simulated_h, 2),
        "operations": [name for name, _ in RDT_OPERATIONS],
        "rdt_expires_in_s": EmulatorConfig().token_ttl_s,
        "spproxy_refresh_ahead_s": inspect.signature(RestrictedDataTokens)
        .parameters["refresh_ahead_s"]
        .default,
    }
    for name in ("bundled", "unbundled"):
        run_ = result[name]
        mints = run_["amazon_rdt_mints"]
        out[name] = {
            **run_,
            "mints_per_1000_calls": round(mints * per_1000, 1),
            "mints_per_simulated_hour": round(mints / simulated_h, 2),
            "resources_per_mint_mean": None
            if run_["resources_per_mint_mean"] is None
            else round(run_["resources_per_mint_mean"], 2),
            "real_s": round(run_["real_s"], 2),
        }
    bundled = out["bundled"]["amazon_rdt_mints"]
    unbundled = out["unbundled"]["amazon_rdt_mints"]
    out["ratio_unbundled_over_bundled"] = round(unbundled / bundled, 2) if bundled else None
    return out


def soak_max_seconds(args: argparse.Namespace) -> float:
    """No request is sent after this many seconds from the start of the soak's traffic."""
    return 2 * float(args.soak_seconds) + 60


def status_get(url: str) -> tuple[bytes, float]:
    """GET /_spproxy/status: the body, and the wall time (ms) to its last byte."""
    started = time.perf_counter()
    code, body = http_get(f"{url}/_spproxy/status", timeout_s=60.0)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if code != 200:
        raise BenchError(f"/_spproxy/status answered {code}")
    return body, elapsed_ms


def status_rdt_figures(body: bytes) -> Message:
    """What /_spproxy/status says of RDTs: every number under a key naming them (rdt, restricted),
    and the length of every list there, by dotted path ("accounts.demo.restricted_data_tokens")."""
    figures: Message = {}

    def walk(value: Any, path: str, named: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                lowered = str(key).lower()
                walk(
                    item,
                    f"{path}.{key}" if path else str(key),
                    named or "rdt" in lowered or "restricted" in lowered,
                )
        elif isinstance(value, list):
            if named:
                figures[f"{path} (entries)"] = len(value)
        elif named and isinstance(value, int | float) and not isinstance(value, bool):
            figures[path] = value

    walk(json.loads(body), "", False)
    return figures


def document_rdts_parameters() -> Message:
    """RestrictedDataTokens' keyword parameters with plain defaults (which tree this ran on)."""
    from spproxy.rdt import RestrictedDataTokens

    return {
        name: parameter.default
        for name, parameter in inspect.signature(RestrictedDataTokens).parameters.items()
        if isinstance(parameter.default, int | float | str | bool)
    }


def spproxy_document_rdts(chosen: int | None) -> str:
    """What the soak's spproxy caches at most: `--soak-document-rdts`, or spproxy's default."""
    if chosen is not None:
        return f"{chosen} (--soak-document-rdts)"
    from spproxy.config import Limits

    return f"{Limits().document_rdts} (spproxy's default)"


def soak(args: argparse.Namespace, children: Children) -> Message:
    """Distinct restricted report documents and ordinary traffic through a fresh spproxy for
    `--soak-seconds`; spproxy's RSS and /_spproxy/status over time (see the module docstring)."""
    max_s = soak_max_seconds(args)
    lifetime = max_s + 120.0
    emulator = children.server("emulator", {"signing": args.signing, "lifetime_s": lifetime})
    spproxy = children.server(
        "spproxy",
        {
            "upstream": emulator.url,
            "signing": args.signing,
            "access_log": False,
            "lifetime_s": lifetime,
            "document_rdts": args.soak_document_rdts,
        },
    )
    wait_ready(f"{spproxy.url}/_spproxy/ready", 15.0)
    loader = children.spawn("bench-soak-load", load_main, ())
    before = amazon_stats(emulator)
    time.sleep(0.5)
    rss_start = rss_mib(spproxy.pid)
    body, _ = status_get(spproxy.url)
    status_start = len(body)
    warm_up_documents = max(1, math.ceil(args.soak_documents * SOAK_WARM_UP_FRACTION))
    warm_up_s = args.soak_seconds * SOAK_WARM_UP_FRACTION
    loader.conn.send(
        {
            "cmd": "soak",
            "base": spproxy.url,
            "documents": args.soak_documents,
            "seconds": args.soak_seconds,
            "concurrency": args.soak_concurrency,
            "max_seconds": max_s,
        }
    )
    began = time.monotonic()
    rss: list[tuple[float, float]] = []  # (s since the start, VmRSS MiB)
    timeline: list[Message] = []
    warm: Message | None = None
    peak_status = {"bytes": status_start, "at_s": 0.0}
    slowest_status = {"ms": 0.0, "at_s": 0.0, "bytes": status_start}
    next_status = began + SOAK_STATUS_EVERY_S
    next_progress = began + 30.0
    while not loader.conn.poll(SOAK_SAMPLE_S):
        children.check()
        now = time.monotonic()
        t = now - began
        if t > max_s + 60:
            raise BenchError(f"the soak's load did not finish within {max_s + 60:g} s")
        memory = rss_mib(spproxy.pid)["VmRSS"]
        mints = amazon_stats(emulator)["rdt_mints"] - before["rdt_mints"]
        rss.append((t, memory))
        if warm is None and (mints >= warm_up_documents or t >= warm_up_s):
            warm = {"at_s": round(t, 1), "amazon_rdt_mints": mints, "rss_mib": memory}
        if now >= next_status:
            next_status += SOAK_STATUS_EVERY_S
            body, ms = status_get(spproxy.url)
            if len(body) > peak_status["bytes"]:
                peak_status = {"bytes": len(body), "at_s": round(t, 1)}
            if ms > slowest_status["ms"]:
                slowest_status = {"ms": round(ms, 1), "at_s": round(t, 1), "bytes": len(body)}
            sample = {"t_s": round(t, 1), "amazon_rdt_mints": mints, "rss_mib": memory}
            timeline.append({**sample, "status_bytes": len(body), "status_ms": round(ms, 1)})
        if now >= next_progress:
            next_progress += 30.0
            progress(
                args,
                f"soak: {t:.0f} s, {mints:,} RDTs minted, spproxy RSS {memory:.1f} MiB, "
                f"/_spproxy/status {peak_status['bytes']:,} bytes at most so far",
            )
    traffic = receive(loader, 5.0)
    children.check()
    time.sleep(1.0)  # idle again
    memory_end = rss_mib(spproxy.pid)
    idle_ms = []
    for _ in range(5):
        body, ms = status_get(spproxy.url)
        idle_ms.append(ms)
    if len(body) > peak_status["bytes"]:
        peak_status = {"bytes": len(body), "at_s": round(time.monotonic() - began, 1)}
    dumps_ms = []
    parsed = json.loads(body)
    for _ in range(3):
        started = time.perf_counter()
        json.dumps(parsed)
        dumps_ms.append((time.perf_counter() - started) * 1000)
    after = amazon_stats(emulator)
    spproxy_mints = parsed.get("rdt_mints") if isinstance(parsed, dict) else None
    emulator_memory = rss_mib(emulator.pid)
    children.stop(loader, spproxy, emulator)

    if warm is None:  # the load ended before the first sample: no growth to tell
        warm = {"at_s": None, "amazon_rdt_mints": None, "rss_mib": rss_start["VmRSS"]}
    after_warm = [m for t, m in rss if warm["at_s"] is not None and t >= warm["at_s"]]
    peak_after = max([*after_warm, memory_end["VmRSS"]])
    growth_peak = round(peak_after - warm["rss_mib"], 1)
    growth_end = round(memory_end["VmRSS"] - warm["rss_mib"], 1)
    # Bounded but large, or still growing? The growth over the second half of the soak.
    second_half = [m for t, m in rss if t >= args.soak_seconds / 2]
    half = second_half[0] if second_half else memory_end["VmRSS"]
    growth_second_half = round(max([*second_half, memory_end["VmRSS"]]) - half, 1)
    amazon_mints = after["rdt_mints"] - before["rdt_mints"]
    documents_minted = traffic["document_credentials"].get("rdt-minted", 0)
    return {
        "seconds": args.soak_seconds,
        "documents": args.soak_documents,
        "report_type": SOAK_REPORT_TYPE,
        "concurrency_ordinary": args.soak_concurrency,
        "concurrency_documents_max": SOAK_DOCUMENT_WORKERS,
        "elapsed_s": round(traffic["elapsed_s"], 1),
        "requests_sent": traffic["requests_sent"],
        "requests_per_s": round(traffic["requests_sent"] / traffic["elapsed_s"], 1),
        "documents_sent": traffic["documents_sent"],
        "document_credentials": traffic["document_credentials"],
        "statuses": traffic["statuses"],
        "client_errors": traffic["client_errors"],
        "client_latency_ms": traffic["latency_ms"],
        "amazon_rdt_mints": amazon_mints,
        "spproxy_rdt_mints": spproxy_mints,
        "every_document_minted": documents_minted == args.soak_documents
        and amazon_mints >= args.soak_documents,
        "warm_up": {
            "documents": warm_up_documents,
            "or_seconds": round(warm_up_s, 1),
            **warm,
        },
        "rss_mib": {
            "start": rss_start["VmRSS"],
            "warm_up": warm["rss_mib"],
            "peak_after_warm_up": peak_after,
            "half_time": half,
            "end_idle": memory_end["VmRSS"],
            "vmhwm_end": memory_end["VmHWM"],
        },
        "rss_growth_after_warm_up_mib": {"peak": growth_peak, "end": growth_end},
        "rss_growth_second_half_mib": growth_second_half,
        "status": {
            "start_bytes": status_start,
            "peak_bytes": peak_status["bytes"],
            "peak_at_s": peak_status["at_s"],
            "end_bytes": len(body),
            "end_ms_idle_median": round(statistics.median(idle_ms), 2),
            "slowest_under_load": slowest_status,
            "bench_json_dumps_ms": round(statistics.median(dumps_ms), 2),
            "rdt_figures_end": status_rdt_figures(body),
        },
        "goals": {
            "rss_growth_after_warm_up_mib_max": SOAK_RSS_GOAL_MIB,
            "status_bytes_max": SOAK_STATUS_GOAL_BYTES,
            "rss": "PASS" if growth_peak <= SOAK_RSS_GOAL_MIB else "FAIL",
            "status": "PASS" if peak_status["bytes"] <= SOAK_STATUS_GOAL_BYTES else "FAIL",
        },
        "spproxy_document_rdts_parameters": document_rdts_parameters(),
        "spproxy_limits_document_rdts": spproxy_document_rdts(args.soak_document_rdts),
        "emulator_rss_mib_end": emulator_memory["VmRSS"],
        "timeline": timeline,
    }


def phase_list(value: str) -> frozenset[str]:
    names = frozenset(name.strip() for name in value.split(",") if name.strip())
    unknown = names - set(PHASES)
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"phases are a comma-separated list of {', '.join(PHASES)} (got {value!r})"
        )
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark spproxy against a bare aiohttp pass-through (loopback only)."
    )
    parser.add_argument("--seconds", type=float, default=40.0, help="throughput time, all rounds")
    parser.add_argument("--round", type=float, default=1.5, help="length of one round (s)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--clients", type=int, default=1, help="load generator processes")
    parser.add_argument("--latency-requests", type=int, default=2000, help="per target")
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--mix", action="store_true", help="alternate with getOrders")
    parser.add_argument("--signing", action="store_true", help="SigV4 on (emulator verifies)")
    parser.add_argument("--access-log", action="store_true", help="spproxy logs at INFO")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--quota-calls", type=int, default=1000, help="quota phase, per proxy")
    parser.add_argument("--quota-concurrency", type=int, default=20)
    parser.add_argument("--quota-rate", type=float, default=100.0, help="Amazon's plan (req/s)")
    parser.add_argument("--quota-burst", type=int, default=10, help="Amazon's plan (burst)")
    parser.add_argument("--rdt-calls", type=int, default=1000, help="RDT phase, per run")
    parser.add_argument("--rdt-step", type=float, default=36.0, help="fake seconds between calls")
    parser.add_argument(
        "--soak",
        action="store_true",
        help="add the soak phase (minutes; not in the default run) to the phases chosen",
    )
    parser.add_argument(
        "--soak-seconds", type=float, default=180.0, help="soak phase: its duration (s)"
    )
    parser.add_argument(
        "--soak-documents",
        type=int,
        default=20_000,
        help="soak phase: distinct restricted report documents, spread over the duration",
    )
    parser.add_argument(
        "--soak-concurrency",
        type=int,
        default=8,
        help="soak phase: ordinary requests in flight (closed loop; 0: documents only)",
    )
    parser.add_argument(
        "--soak-document-rdts",
        type=int,
        metavar="N",
        help="soak phase: spproxy's limits.document_rdts (default: spproxy's own)",
    )
    phases = parser.add_mutually_exclusive_group()
    phases.add_argument(
        "--only",
        type=phase_list,
        metavar="PHASES",
        help=f"run only these of {','.join(PHASES)} (soak runs only if named here or --soak)",
    )
    phases.add_argument(
        "--skip",
        type=phase_list,
        metavar="PHASES",
        help=f"run all of {','.join(DEFAULT_PHASES)} but these",
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.round <= 0 or args.concurrency < 1 or args.clients < 1:
        parser.error("--seconds, --round, --concurrency and --clients must be positive")
    if args.concurrency < args.clients:
        parser.error("--concurrency must be at least --clients")
    if min(args.quota_calls, args.quota_concurrency, args.quota_burst, args.rdt_calls) < 1:
        parser.error("--quota-calls, --quota-concurrency, --quota-burst, --rdt-calls must be >= 1")
    if args.quota_rate <= 0 or args.rdt_step <= 0:
        parser.error("--quota-rate and --rdt-step must be positive")
    if args.soak_document_rdts is not None and args.soak_document_rdts < 1:
        parser.error("--soak-document-rdts must be >= 1")
    if not 0 < args.soak_seconds <= 3600 or args.soak_documents < 1 or args.soak_concurrency < 0:
        parser.error(
            "--soak-seconds must be in (0, 3600], --soak-documents >= 1, --soak-concurrency >= 0"
        )
    if args.only is not None:
        chosen = args.only
    else:
        chosen = frozenset(DEFAULT_PHASES) - (args.skip or frozenset())
    if args.soak:
        chosen |= {"soak"}
    args.phases = [name for name in PHASES if name in chosen]
    if not args.phases:
        parser.error("--skip leaves no phase to run")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    children = Children(multiprocessing.get_context("spawn"))
    try:
        report = run(args, children)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    except (BenchError, OSError, subprocess.SubprocessError) as error:
        print(f"bench: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        children.close()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


def progress(args: argparse.Namespace, message: str) -> None:
    if not args.json:
        print(f"... {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, children: Children) -> Message:
    began = time.perf_counter()
    report: Message = {"environment": environment(args), "phases": args.phases, "errors": {}}
    if "startup" in args.phases:
        progress(args, "cold start-up and imports")
        report["startup"] = startup(args, children)
    if "load" in args.phases:
        load_phases(args, children, report)
    if "quota" in args.phases:
        progress(
            args,
            f"quota: {args.quota_calls} calls over Amazon's plan, through spproxy (paced), "
            "then bare",
        )
        report["quota"] = quota(args, children)
    if "rdt" in args.phases:
        progress(args, f"RDT mints: {args.rdt_calls} restricted calls, bundled then not")
        report["rdt"] = rdt(args, children)
    if "soak" in args.phases:
        progress(
            args,
            f"soak: {args.soak_documents:,} distinct restricted report documents and ordinary "
            f"traffic ({args.soak_concurrency} in flight) through a fresh spproxy for "
            f"{args.soak_seconds:g} s",
        )
        report["soak"] = soak(args, children)
    report["total_s"] = round(time.perf_counter() - began, 1)
    return report


def load_phases(args: argparse.Namespace, children: Children, report: Message) -> None:
    """Throughput, latency, tokens and memory: the phases that share one set of servers."""
    progress(args, "starting emulator, bare pass-through, spproxy and load processes")
    emulator = children.server("emulator", {"signing": args.signing})
    bare = children.server("bare", {"upstream": emulator.url, "signing": args.signing})
    direct_token = lwa_token(emulator.url)
    baseline = emulator_stats(emulator)
    spproxy = children.server(
        "spproxy",
        {"upstream": emulator.url, "signing": args.signing, "access_log": args.access_log},
    )
    wait_ready(f"{spproxy.url}/_spproxy/ready", 15.0)
    memory: Message = {"spproxy": {"after start-up": rss_mib(spproxy.pid)}}
    memory["bare"] = {"after start-up": rss_mib(bare.pid)}
    loaders = [children.spawn(f"bench-load{i}", load_main, ()) for i in range(args.clients)]
    paths = [PARTICIPATIONS, ORDERS] if args.mix else [PARTICIPATIONS]
    bench = Bench(args, children, emulator, loaders, paths)
    targets = {
        "spproxy": Target("spproxy", spproxy, spproxy.url, {}),
        "bare": Target("bare", bare, bare.url, {}),
        "direct": Target(
            "direct", None, emulator.url, {ACCESS_TOKEN_HEADER: direct_token}, sign=args.signing
        ),
    }

    progress(args, "warm-up")
    for name in ("spproxy", "bare"):
        bench.throughput_round(targets[name], 1.0, measured=False)
    for target in targets.values():
        bench.latency_block(target, LATENCY_BLOCK)
    memory["spproxy"]["after warm-up"] = rss_mib(spproxy.pid)
    memory["bare"]["after warm-up"] = rss_mib(bare.pid)

    rounds = max(2, round(args.seconds / (2 * args.round)))
    progress(args, f"throughput: {rounds} rounds of {args.round:g} s per proxy, alternating")
    for i in range(rounds):
        order = ("spproxy", "bare") if i % 4 in (0, 3) else ("bare", "spproxy")  # ABBA
        for name in order:
            bench.throughput_round(targets[name], args.round, measured=True)
    report["throughput"] = throughput_report(targets, args)

    progress(args, f"latency: {args.latency_requests} sequential requests per target")
    blocks = max(1, round(args.latency_requests / LATENCY_BLOCK))
    for target in targets.values():
        target.latency_us.clear()
    rotation = ["direct", "bare", "spproxy"]
    for i in range(blocks):
        for name in rotation[i % 3 :] + rotation[: i % 3]:
            bench.latency_block(targets[name], LATENCY_BLOCK)
    report["latency"] = latency_report(targets)

    time.sleep(1.0)  # idle again
    memory["spproxy"]["after load"] = rss_mib(spproxy.pid)
    memory["bare"]["after load"] = rss_mib(bare.pid)
    report["memory_mib"] = memory

    final = emulator_stats(emulator)
    forwarded = targets["spproxy"].sent
    exchanges = final["lwa_exchanges_total"] - baseline["lwa_exchanges_total"]
    received = final["requests"] - baseline["requests"]
    report["tokens"] = {
        "spproxy_lwa_exchanges": exchanges,
        "spproxy_requests_forwarded": forwarded,
        "exchanges_per_request": exchanges / forwarded if forwarded else None,
        "emulator_requests_received_since_spproxy_start": received,
        "of_which_from_bare_and_direct": targets["bare"].sent + targets["direct"].sent,
    }
    spproxy.conn.send({"cmd": "modules"})
    botocore = receive(spproxy, 5)["botocore"]
    report.setdefault("startup", {})["botocore_in_bench_spproxy_process"] = botocore
    report["errors"] = {
        name: dict(target.other) for name, target in targets.items() if target.other
    }
    children.stop(*loaders, spproxy, bare, emulator)


def pacing_exists() -> bool:
    from spproxy.config import UpstreamConfig

    return "pacing" in {f.name for f in dataclasses.fields(UpstreamConfig)}


def source_revision() -> str:
    """The repository's commit, "+dirty" when spproxy/ has uncommitted changes; "?" without git."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "spproxy"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return head + ("+dirty" if dirty else "")


def environment(args: argparse.Namespace) -> Message:
    from aiohttp import http_parser

    import spproxy

    return {
        "spproxy": f"{spproxy.__version__} ({source_revision()})",
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "pythondontwritebytecode_in_env": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "aiohttp_c_parser": http_parser.HttpRequestParser.__module__ != "aiohttp.http_parser",
        "signing": args.signing,
        "spproxy_logging": "INFO to /dev/null" if args.access_log else "WARNING (no access log)",
        "spproxy_pacing": "off" if pacing_exists() else "(no such option)",
        "concurrency": args.concurrency,
        "load_processes": args.clients,
        "requests": "getMarketplaceParticipations"
        + (" / getOrders alternating" if args.mix else ""),
    }


def throughput_report(targets: Mapping[str, Target], args: argparse.Namespace) -> Message:
    out: Message = {"round_s": args.round, "rounds_per_proxy": len(targets["bare"].rounds_rps)}
    for name in ("spproxy", "bare"):
        target = targets[name]
        if target.measured_ok == 0:
            raise BenchError(f"no 200 from {name} in the throughput rounds: {dict(target.other)}")
        ok = max(target.measured_ok, 1)
        out[name] = {
            "rps": round(target.measured_ok / target.measured_s, 1),
            "rps_median_round": round(statistics.median(target.rounds_rps), 1),
            "rps_min_round": round(min(target.rounds_rps), 1),
            "rps_max_round": round(max(target.rounds_rps), 1),
            "cpu_us_per_request": {k: round(v / ok * 1e6, 1) for k, v in target.cpu_s.items()},
            "cpu_utilisation": {
                k: round(v / target.measured_s, 2) for k, v in target.cpu_s.items()
            },
        }
    pairs = [
        s / b
        for s, b in zip(targets["spproxy"].rounds_rps, targets["bare"].rounds_rps, strict=True)
    ]
    out["ratio_spproxy_over_bare"] = round(out["spproxy"]["rps"] / out["bare"]["rps"], 3)
    out["ratio_median_of_round_pairs"] = round(statistics.median(pairs), 3)
    out["ratio_round_pairs_min_max"] = [round(min(pairs), 3), round(max(pairs), 3)]
    proxy_cpu = [
        targets[name].cpu_s.get("proxy", 0.0) / targets[name].measured_ok
        for name in ("spproxy", "bare")
    ]
    out["proxy_cpu_per_request_ratio"] = round(proxy_cpu[0] / proxy_cpu[1], 3)
    return out


def latency_report(targets: Mapping[str, Target]) -> Message:
    out: Message = {}
    for name in ("direct", "bare", "spproxy"):
        samples = sorted(targets[name].latency_us)
        if not samples:
            raise BenchError(f"no request to {name} succeeded in the latency phase")
        out[name] = {
            "n": len(samples),
            "p50_us": round(percentile(samples, 0.50), 1),
            "p99_us": round(percentile(samples, 0.99), 1),
            "mean_us": round(statistics.fmean(samples), 1),
        }
    for name in ("bare", "spproxy"):
        out[f"{name}_added"] = {
            "p50_us": round(out[name]["p50_us"] - out["direct"]["p50_us"], 1),
            "p99_us": round(out[name]["p99_us"] - out["direct"]["p99_us"], 1),
        }
    return out


# --------------------------------------------------------------------------------------------
# Cold start-up, import time, botocore


BUILD_AND_SERVE = """
import asyncio, json, sys
from aiohttp import ClientSession, web
from spproxy.app import make_app
from spproxy.demo import demo_config
from spproxy.emulator import EmulatorConfig, make_emulator_app

SIGNING = {signing}
KEYS = {{{key!r}: {secret!r}}}

async def main() -> None:
    emulator = web.AppRunner(
        make_emulator_app(EmulatorConfig(aws_keys=KEYS) if SIGNING else EmulatorConfig()),
        access_log=None,
    )
    await emulator.setup()
    await web.TCPSite(emulator, "127.0.0.1", 0).start()
    upstream = "http://127.0.0.1:%d" % emulator.addresses[0][1]
    config = demo_config(upstream, port=0)
    if SIGNING:
        import dataclasses
        from spproxy.config import AwsConfig, Secret
        aws = AwsConfig(Secret(list(KEYS)[0]), Secret(list(KEYS.values())[0]))
        config = dataclasses.replace(config, aws=aws)
    proxy = web.AppRunner(make_app(config), access_log=None)
    await proxy.setup()
    await web.TCPSite(proxy, "127.0.0.1", 0).start()
    url = "http://127.0.0.1:%d{path}" % proxy.addresses[0][1]
    async with ClientSession() as client, client.get(url) as response:
        status = response.status
    await proxy.cleanup()
    await emulator.cleanup()
    print(json.dumps({{"status": status, "botocore": "botocore" in sys.modules}}))

asyncio.run(main())
"""


def python_env(cache_dir: str) -> dict[str, str]:
    """The environment for fresh interpreters: bytecode cached in `cache_dir`, not the repo.

    With PYTHONDONTWRITEBYTECODE set (as in some sandboxes) every start would compile the
    sources that changed since their cached bytecode; a primed private cache measures the
    start-up users see.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def botocore_loaded(signing: bool, env: Mapping[str, str]) -> Message:
    code = BUILD_AND_SERVE.format(
        signing=signing, key=AWS_KEY_ID, secret=AWS_SECRET, path=PARTICIPATIONS
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60, check=False, env=env
    )
    if done.returncode != 0:
        raise BenchError(f"the botocore check failed: {done.stderr.decode()[-2000:]}")
    result: Message = json.loads(done.stdout)
    return result


def timed_python(code: str, runs: int, env: Mapping[str, str]) -> float:
    """Median wall time of `python -c code` (start, run, exit), in ms."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=env)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def importtime_ms(modules: Sequence[str], env: Mapping[str, str], runs: int = 3) -> list[float]:
    """Median cumulative import time of each module (ms) in `python -X importtime -c 'import
    modules[0]'`: the first is what is imported, the others are parts of it."""
    samples: list[list[float]] = [[] for _ in modules]
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {modules[0]}"],
            capture_output=True,
            timeout=60,
            check=True,
            text=True,
            env=env,
        )
        cumulative: dict[str, float] = {}
        for line in done.stderr.splitlines():
            parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
            if len(parts) == 3 and parts[1].isdigit():
                cumulative[parts[2]] = int(parts[1]) / 1000
        for sample, module in zip(samples, modules, strict=True):
            if module not in cumulative:
                raise BenchError(f"-X importtime did not report {module}")
            sample.append(cumulative[module])
    return [statistics.median(sample) for sample in samples]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def demo_startup(children: Children, env: Mapping[str, str]) -> tuple[float, int]:
    """Seconds from launching `python -m spproxy demo` to a 200 from ready; its exit status."""
    port = free_port()
    started = time.perf_counter()
    popen = subprocess.Popen(
        [sys.executable, "-m", "spproxy", "demo", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches the bench only; `close` kills it if need be
        env=env,
    )
    children.popen.append(popen)
    wait_ready(f"http://{HOST}:{port}/_spproxy/ready", 20.0, lambda: popen.poll() is None)
    elapsed = time.perf_counter() - started
    popen.send_signal(signal.SIGINT)
    try:
        code = popen.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise BenchError("spproxy demo did not stop within 10 s of SIGINT") from None
    return elapsed, code


def startup(args: argparse.Namespace, children: Children) -> Message:
    with tempfile.TemporaryDirectory(prefix="spproxy-bench-pycache-") as cache_dir:
        env = python_env(cache_dir)
        demo_startup(children, env)  # primes the bytecode cache; not counted
        runs = [demo_startup(children, env) for _ in range(max(1, args.startup_runs))]
        interpreter_ms = timed_python("pass", 7, env)
        import_ms = timed_python("import spproxy.app", 7, env)
        import_cumulative_ms, aiohttp_ms = importtime_ms(("spproxy.app", "aiohttp"), env)
        botocore_unsigned = botocore_loaded(False, env)["botocore"]
        botocore_signed = botocore_loaded(True, env)["botocore"]
    return {
        "demo_to_ready_ms": round(statistics.median(t for t, _ in runs) * 1000, 1),
        "demo_to_ready_ms_all": [round(t * 1000, 1) for t, _ in runs],
        "demo_exit_codes_after_sigint": [code for _, code in runs],
        "python_c_pass_ms": round(interpreter_ms, 1),
        "python_c_import_spproxy_app_ms": round(import_ms, 1),
        "import_spproxy_app_cumulative_ms": round(import_cumulative_ms, 1),
        "import_of_which_aiohttp_ms": round(aiohttp_ms, 1),
        "botocore_loaded_unsigned": botocore_unsigned,
        "botocore_loaded_signed_check": botocore_signed,
    }


# --------------------------------------------------------------------------------------------
# The table


def print_report(report: Message) -> None:
    env = report["environment"]
    print(
        f"spproxy bench: {env['cpus_usable']} usable CPUs (of {env['cpus']}; load average "
        f"{' '.join(f'{x:g}' for x in env['load_average'])} at the start); the load generator, "
        "the proxies and the emulator share them: compare ratios, not absolute numbers."
    )
    print(
        f"spproxy {env['spproxy']}, Python {env['python']}, aiohttp {env['aiohttp']} (C parser: "
        f"{'yes' if env['aiohttp_c_parser'] else 'no'}); "
        f"signing {'on' if env['signing'] else 'off'}; phases: {', '.join(report['phases'])}."
    )
    if "throughput" in report:
        print_load(report)
    if "demo_to_ready_ms" in report.get("startup", {}):
        print_startup(report)
    if "quota" in report:
        print_quota(report["quota"])
    if "rdt" in report:
        print_rdt(report["rdt"])
    if "soak" in report:
        print_soak(report["soak"])
    if report["errors"]:
        print()
        print(f"NON-200 ANSWERS OR CLIENT ERRORS: {report['errors']}")
    print()
    print(f"Total {report['total_s']:.0f} s.")


def print_load(report: Message) -> None:
    env = report["environment"]
    thr = report["throughput"]
    lat = report["latency"]
    tok = report["tokens"]
    mem = report["memory_mib"]
    print()
    print(
        f"Load phases: spproxy logging {env['spproxy_logging']}, pacing {env['spproxy_pacing']}; "
        f"{env['requests']}; concurrency {env['concurrency']} from {env['load_processes']} "
        "load process(es)."
    )
    print(f"Throughput ({thr['rounds_per_proxy']} alternating rounds of {thr['round_s']:g} s each)")
    print(
        f"  {'':10}{'req/s':>9}{'median':>9}{'min':>9}{'max':>9}   CPU us/request"
        "  (proxy / emulator / load)"
    )
    for name in ("spproxy", "bare"):
        row = thr[name]
        cpu = row["cpu_us_per_request"]
        use = row["cpu_utilisation"]
        print(
            f"  {name:10}{row['rps']:>9.0f}{row['rps_median_round']:>9.0f}"
            f"{row['rps_min_round']:>9.0f}{row['rps_max_round']:>9.0f}   "
            f"{cpu.get('proxy', 0):>6.0f} / {cpu.get('emulator', 0):>4.0f} / "
            f"{cpu.get('load', 0):>4.0f}   (cores busy {use.get('proxy', 0):.2f} / "
            f"{use.get('emulator', 0):.2f} / {use.get('load', 0):.2f})"
        )
    low, high = thr["ratio_round_pairs_min_max"]
    print(
        f"  ratio spproxy/bare: {thr['ratio_spproxy_over_bare']:.3f} overall, "
        f"{thr['ratio_median_of_round_pairs']:.3f} median of round pairs "
        f"(range {low:.3f}-{high:.3f})"
        f"; proxy CPU per request spproxy/bare: {thr['proxy_cpu_per_request_ratio']:.3f}"
    )
    if not env["signing"]:
        verdict = "met" if thr["ratio_spproxy_over_bare"] >= 0.9 else "NOT met"
        print(f"  target spproxy/bare >= 0.9 (signing off): {verdict}")
    print()
    print(f"Latency, sequential (concurrency 1, {lat['direct']['n']} requests per target)")
    print(f"  {'':10}{'p50 us':>9}{'p99 us':>9}{'mean us':>9}{'+p50':>9}{'+p99':>9}")
    for name in ("direct", "bare", "spproxy"):
        row = lat[name]
        added = lat.get(f"{name}_added")
        extra = f"{added['p50_us']:>9.0f}{added['p99_us']:>9.0f}" if added else f"{'':>18}"
        print(f"  {name:10}{row['p50_us']:>9.0f}{row['p99_us']:>9.0f}{row['mean_us']:>9.0f}{extra}")
    print("  (+p50/+p99: added over direct to the emulator)")
    print()
    per = tok["exchanges_per_request"]
    print(
        f"Tokens: {tok['spproxy_lwa_exchanges']} LWA exchange(s) for "
        f"{tok['spproxy_requests_forwarded']} requests through spproxy "
        f"({per:.2g} per request); the emulator received "
        f"{tok['emulator_requests_received_since_spproxy_start']} SP-API requests since "
        f"spproxy started ({tok['of_which_from_bare_and_direct']} of them from bare and direct)."
    )
    print()
    print("Memory, VmRSS MiB (peak VmHWM)")
    for name in ("spproxy", "bare"):
        cells = ", ".join(
            f"{when} {values['VmRSS']:.1f} ({values['VmHWM']:.1f})"
            for when, values in mem[name].items()
        )
        print(f"  {name:10}{cells}")


def print_startup(report: Message) -> None:
    env = report["environment"]
    st = report["startup"]
    print()
    print("Start-up (fresh interpreters; bytecode cache primed in a temporary PYTHONPYCACHEPREFIX)")
    print(
        f"  `python -m spproxy demo` to /_spproxy/ready 200: "
        f"{st['demo_to_ready_ms']:.0f} ms median of {st['demo_to_ready_ms_all']}; exit after "
        f"SIGINT {st['demo_exit_codes_after_sigint']}"
    )
    print(
        f"  python -c 'import spproxy.app' {st['python_c_import_spproxy_app_ms']:.0f} ms wall "
        f"(python -c pass {st['python_c_pass_ms']:.0f} ms); the import alone "
        f"{st['import_spproxy_app_cumulative_ms']:.0f} ms (-X importtime cumulative, median of 3"
        f"; aiohttp's share {st['import_of_which_aiohttp_ms']:.0f} ms)"
    )
    in_bench = st.get("botocore_in_bench_spproxy_process", "(load phase not run)")
    print(
        f"  botocore loaded, unsigned proxy: {st['botocore_loaded_unsigned']} (python -c), "
        f"{in_bench} (the bench's spproxy process, signing "
        f"{'on' if env['signing'] else 'off'}); signed proxy, as a check of the check: "
        f"{st['botocore_loaded_signed_check']}"
    )


def print_quota(q: Message) -> None:
    amazon, model = q["amazon_plan"], q["spproxy_model_plan"]
    print()
    print(
        f"Quota: {q['calls']} {q['operation']} calls per run, {q['concurrency']} in flight, as "
        f"fast as each proxy lets them; Amazon (the emulator) enforces {amazon['rate']:g}/s "
        f"burst {amazon['burst']} for the seller"
    )
    print(
        f"  (spproxy: pacing on, retries default; cold, it paces by the model's plan "
        f"({model['rate']:g}/s burst {model['burst']}) until x-amzn-RateLimit-Limit says "
        f"{amazon['rate']:g}/s; warm: the same process again. bare: no pacing, no retries)"
    )
    print(
        f"  {'':15}{'Amazon 429s':>12}{'/1000':>8}{'Amazon got':>11}{'elapsed s':>10}"
        f"{'p50 ms':>9}{'max ms':>9}   client saw"
    )
    for name in ("spproxy", "bare", "spproxy_warm"):
        row = q[name]
        lat = row["client_latency_ms"]
        seen = ", ".join(f"{k}: {v}" for k, v in row["client_outcomes"].items())
        label = {"spproxy": "spproxy, cold", "spproxy_warm": "spproxy, warm"}.get(name, name)
        print(
            f"  {label:15}{row['amazon_429']:>12}{row['amazon_429_per_1000_calls']:>8.1f}"
            f"{row['amazon_received']:>11}{row['elapsed_s']:>10.2f}"
            f"{lat['p50'] or 0:>9.1f}{lat['max'] or 0:>9.1f}   {seen}"
        )
    learned = q["spproxy"].get("bucket_after")
    if learned:
        print(
            f"  spproxy's bucket afterwards: {learned['rate']:g}/s burst {learned['burst']} (the "
            "rate learned from Amazon's header; the burst stays the model's)."
        )
    cold = q["spproxy"]
    held_s = (cold["client_latency_ms"]["max"] or 0) / 1000
    if held_s > 2 * q["concurrency"] / amazon["rate"] + 0.5:
        print(
            f"  Cold, this run: a call was held {held_s:.1f} s, longer than the learned "
            f"{amazon['rate']:g}/s explains (a machine too busy to keep time?): "
            f"{cold['amazon_429']} Amazon 429(s), which spproxy retried."
        )
    else:
        print(
            f"  Cold, this run: calls queued at the model's {model['rate']:g}/s before Amazon's "
            f"first answer were planned again at the learned {amazon['rate']:g}/s (none held over "
            f"{held_s:.1f} s): {cold['amazon_429']} Amazon 429(s)."
        )


def print_rdt(r: Message) -> None:
    print()
    print(
        f"RDT mints: {r['calls']} restricted calls, one per {r['fake_clock_step_s']:g} s of a "
        f"fake clock ({r['simulated_hours']:g} h simulated), cycling "
        f"{', '.join(r['operations'])} with varying ids (existing and 404); RDTs live "
        f"{r['rdt_expires_in_s']} s, renewed {r['spproxy_refresh_ahead_s']:g} s ahead"
    )
    print(
        f"  {'bundle limit':17}{'mints':>6}{'/1000 calls':>13}{'/hour':>8}{'resources/mint':>16}"
        f"{'calls waited':>14}   answers"
    )
    for name in ("bundled", "unbundled"):
        row = r[name]
        label = f"{name} ({row['bundle_limit']})"
        answers = ", ".join(f"{k}: {v}" for k, v in row["statuses"].items())
        print(
            f"  {label:17}{row['amazon_rdt_mints']:>6}{row['mints_per_1000_calls']:>13.1f}"
            f"{row['mints_per_simulated_hour']:>8.2f}{row['resources_per_mint_mean'] or 0:>16.2f}"
            f"{row['credentials'].get('rdt-minted', 0):>14}   {answers}"
        )
    ratio = r["ratio_unbundled_over_bundled"]
    print(
        f"  unbundled/bundled: {ratio if ratio is not None else '-'}x the mints (Amazon's count, "
        "/_emulator/stats rdt_mints). Bundled, each operation first seen mints (with those seen "
        "before), then one mint renews them all; unbundled, each renews on its own. Calls waited: "
        "calls held for a mint; the others were served a cached RDT (renewals run in the "
        "background)."
    )


def print_soak(k: Message) -> None:
    rss, growth, st, goals = (
        k["rss_mib"],
        k["rss_growth_after_warm_up_mib"],
        k["status"],
        k["goals"],
    )
    warm = k["warm_up"]
    lat = k["client_latency_ms"]
    print()
    print(
        f"Soak: {k['documents']:,} distinct {k['report_type']} documents (one RDT each, for the "
        f"document's own path) spread over {k['seconds']:g} s, with getMarketplaceParticipations,"
        f" getOrders, getOrder, getOrderAddress ({k['concurrency_ordinary']} in flight); a fresh "
        f"spproxy (limits.document_rdts {k['spproxy_limits_document_rdts']}), pacing off, "
        "Amazon's rate limits off"
    )
    answers = "; ".join(
        f"{op} " + ", ".join(f"{status}: {n:,}" for status, n in counts.items())
        for op, counts in k["statuses"].items()
    )
    print(
        f"  {k['requests_sent']:,} requests in {k['elapsed_s']:g} s ({k['requests_per_s']:,.0f}/s)"
        f"; answers: {answers}"
    )
    if k["client_errors"]:
        print(f"  client errors: {k['client_errors']}")
    credentials = ", ".join(f"{kind}: {n:,}" for kind, n in k["document_credentials"].items())
    print(
        f"  documents sent {k['documents_sent']:,} (credential: {credentials}); RDTs minted: "
        f"Amazon counted {k['amazon_rdt_mints']:,}, spproxy says {k['spproxy_rdt_mints']}; "
        f"every document minted: {'yes' if k['every_document_minted'] else 'NO'}"
    )
    print(
        f"  client latency p50/p99/max ms: documents {lat['documents']['p50']}/"
        f"{lat['documents']['p99']}/{lat['documents']['max']}, ordinary "
        f"{lat['ordinary']['p50']}/{lat['ordinary']['p99']}/{lat['ordinary']['max']}"
    )
    print(
        f"  spproxy VmRSS MiB: start {rss['start']:.1f}, warm-up {rss['warm_up']:.1f} (at "
        f"{warm['at_s']} s, {warm['amazon_rdt_mints']} mints; the first {warm['documents']:,} "
        f"documents or {warm['or_seconds']:g} s), peak after warm-up "
        f"{rss['peak_after_warm_up']:.1f} ({growth['peak']:+.1f}), end idle {rss['end_idle']:.1f} "
        f"({growth['end']:+.1f}); VmHWM {rss['vmhwm_end']:.1f}; over the second half "
        f"{k['rss_growth_second_half_mib']:+.1f} (from {rss['half_time']:.1f})"
    )
    slowest = st["slowest_under_load"]
    print(
        f"  /_spproxy/status: {st['start_bytes']:,} bytes at the start, at most "
        f"{st['peak_bytes']:,} (at {st['peak_at_s']} s), {st['end_bytes']:,} at the end; served "
        f"in {st['end_ms_idle_median']:.1f} ms idle at the end (median of 5; json.dumps of it in "
        f"the bench {st['bench_json_dumps_ms']:.1f} ms), slowest under load "
        f"{slowest['ms']:.1f} ms ({slowest['bytes']:,} bytes at {slowest['at_s']} s)"
    )
    figures = ", ".join(f"{name} {value}" for name, value in st["rdt_figures_end"].items())
    print(f"  status at the end, of RDTs: {figures or '(nothing named rdt or restricted)'}")
    timeline = k["timeline"]
    if timeline:
        step = max(1, math.ceil(len(timeline) / 10))
        shown = (
            timeline[::step]
            if timeline[-1] in timeline[::step]
            else [
                *timeline[::step],
                timeline[-1],
            ]
        )
        print(f"  {'t s':>8}{'mints':>9}{'RSS MiB':>10}{'status bytes':>15}{'status ms':>11}")
        for row in shown:
            print(
                f"  {row['t_s']:>8.0f}{row['amazon_rdt_mints']:>9,}{row['rss_mib']:>10.1f}"
                f"{row['status_bytes']:>15,}{row['status_ms']:>11.1f}"
            )
    print(
        f"  {goals['rss']}: RSS growth after warm-up {growth['peak']:+.1f} MiB at its peak "
        f"(goal <= {goals['rss_growth_after_warm_up_mib_max']:g} MiB)"
    )
    print(
        f"  {goals['status']}: /_spproxy/status at most {st['peak_bytes']:,} bytes (goal <= "
        f"{goals['status_bytes_max']:,} bytes, 64 KiB)"
    )


if __name__ == "__main__":
    sys.exit(main())
