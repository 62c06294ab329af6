"""Benchmark: spproxy against a bare aiohttp pass-through, both in front of the emulator.

    .venv/bin/python bench/bench.py [--seconds S] [--concurrency C] [--signing] [--json]

Everything runs on 127.0.0.1 with ports chosen by the kernel, is bounded in time and stops by
itself (about 60-90 s with the defaults). Each server runs in its own process, started with
multiprocessing's "spawn" method (a fresh interpreter), so no two share an event loop:

- emulator: `make_emulator_app()` (with `--signing`, `EmulatorConfig(aws_keys=...)`, which then
  requires a valid SigV4 signature on every SP-API call), plus a bench-only route
  `GET /_bench/stats` (LWA exchanges and the number of SP-API requests received). The bench's
  emulator process moves `state.requests` into a counter every 0.5 s so that the fake Amazon's
  memory (and garbage collector) stays flat during the run; the emulator package is unchanged.
- spproxy: `make_app(demo_config(...))` as `spproxy demo` builds it (with `--signing`, plus an
  `AwsConfig` with the emulator's keys), served by `web.AppRunner(app, access_log=None)`.
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

Phases:
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

The machine's core count is printed: the load generator, the proxies and the emulator compete
for the same cores, so compare ratios and CPU per request, not absolute requests/s.

Options: --seconds (throughput time, default 40), --round (default 1.5), --concurrency
(default 32), --clients (default 1), --latency-requests (default 2000), --startup-runs
(default 3), --mix (alternate getMarketplaceParticipations with getOrders), --signing,
--access-log, --json (one JSON document on stdout instead of the table).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
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
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

if TYPE_CHECKING:
    from spproxy.config import Config

HOST = "127.0.0.1"
PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
ORDERS = "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&CreatedAfter=2024-01-01T00:00:00Z"
AWS_KEY_ID = "AKIDSPPROXYBENCH0001"
AWS_SECRET = "spproxy-bench-aws-secret-access-key-0001"  # noqa: S105 - a fake for the emulator
AWS_REGION = "us-east-1"
ACCESS_TOKEN_HEADER = "x-amz-access-token"  # noqa: S105 - a header name
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
BARE_REQUEST_DROPPED = HOP_BY_HOP | {"host", "content-length"}
BARE_RESPONSE_DROPPED = HOP_BY_HOP | {"content-length"}  # web.Response sets its own
LATENCY_BLOCK = 100
SERVER_LIFETIME_S = 900.0  # a server left behind stops by itself after this
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


def emulator_app(signing: bool) -> web.Application:
    from spproxy.emulator import STATE_KEY, EmulatorConfig, make_emulator_app

    config = EmulatorConfig(aws_keys={AWS_KEY_ID: AWS_SECRET}) if signing else EmulatorConfig()
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


def spproxy_app(upstream: str, signing: bool, access_log: bool) -> web.Application:
    from spproxy.app import make_app
    from spproxy.config import AwsConfig, Secret
    from spproxy.demo import demo_config
    from spproxy.logs import configure_logging

    config = without_pacing(demo_config(upstream, port=0))
    if signing:
        config = dataclasses.replace(config, aws=AwsConfig(Secret(AWS_KEY_ID), Secret(AWS_SECRET)))
    configure_logging("info" if access_log else "warning")
    if access_log:
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    return make_app(config)


def without_pacing(config: Config) -> Config:
    """The config with spproxy's client-side pacing (`upstream.pacing`, where it exists) off.

    Paced, spproxy would hold getMarketplaceParticipations to its SP-API usage plan (0.016
    requests/s after a burst of 15), and the bench would measure the plan, not the proxy.
    """
    if "pacing" not in {f.name for f in dataclasses.fields(config.upstream)}:
        return config
    upstream = dataclasses.replace(config.upstream, **{"pacing": False})
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
    if role == "emulator":
        app = emulator_app(options["signing"])
    elif role == "spproxy":
        app = spproxy_app(options["upstream"], options["signing"], options["access_log"])
    else:
        app = bare_app(options["upstream"], options["signing"])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, 0).start()
        conn.send({"port": runner.addresses[0][1], "pid": os.getpid()})
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        deadline = time.monotonic() + SERVER_LIFETIME_S
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
    urls = [URL(base + path, encoded=True) for path in command["paths"]]
    headers: dict[str, str] = command["headers"]
    if command["cmd"] == "throughput":
        return await _throughput(
            session, urls, headers, command["concurrency"], command["start_at"], command["seconds"]
        )
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

    def _close(self) -> None:
        for popen in self.popen:
            if popen.poll() is None:
                popen.kill()
            popen.wait(timeout=5)
        # The last started first: load processes before the servers they talk to.
        for child in reversed(self.spawned):
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
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.round <= 0 or args.concurrency < 1 or args.clients < 1:
        parser.error("--seconds, --round, --concurrency and --clients must be positive")
    if args.concurrency < args.clients:
        parser.error("--concurrency must be at least --clients")
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
    report: Message = {"environment": environment(args)}

    progress(args, "cold start-up and imports")
    report["startup"] = startup(args, children)

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
    report["startup"]["botocore_in_bench_spproxy_process"] = receive(spproxy, 5)["botocore"]
    report["errors"] = {
        name: dict(target.other) for name, target in targets.items() if target.other
    }
    report["total_s"] = round(time.perf_counter() - began, 1)
    return report


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
    thr = report["throughput"]
    lat = report["latency"]
    tok = report["tokens"]
    mem = report["memory_mib"]
    st = report["startup"]
    print(
        f"spproxy bench: {env['cpus_usable']} usable CPUs (of {env['cpus']}; load average "
        f"{' '.join(f'{x:g}' for x in env['load_average'])} at the start); the load generator, "
        "the proxies and the emulator share them: compare ratios, not absolute numbers."
    )
    print(
        f"spproxy {env['spproxy']}, Python {env['python']}, aiohttp {env['aiohttp']} (C parser: "
        f"{'yes' if env['aiohttp_c_parser'] else 'no'}); "
        f"signing {'on' if env['signing'] else 'off'}; "
        f"spproxy logging {env['spproxy_logging']}, pacing {env['spproxy_pacing']}; "
        f"{env['requests']}; concurrency "
        f"{env['concurrency']} from {env['load_processes']} load process(es)."
    )
    print()
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
    print(
        f"  botocore loaded, unsigned proxy: {st['botocore_loaded_unsigned']} (python -c), "
        f"{st['botocore_in_bench_spproxy_process']} (the bench's spproxy process, signing "
        f"{'on' if env['signing'] else 'off'}); signed proxy, as a check of the check: "
        f"{st['botocore_loaded_signed_check']}"
    )
    if report["errors"]:
        print()
        print(f"NON-200 ANSWERS OR CLIENT ERRORS: {report['errors']}")
    print()
    print(f"Total {report['total_s']:.0f} s.")


if __name__ == "__main__":
    sys.exit(main())
