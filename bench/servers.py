"""The server processes: the emulator, spproxy and a bare aiohttp pass-through.

Each runs in a process of its own (`server_main`, started by `processes.Children.server`), tells
the parent its port and pid, and stops when told, when the parent goes away, or after
SERVER_LIFETIME_S:

- emulator: `make_emulator_app()` (with `--signing`, `EmulatorConfig(aws_keys=...)`, which then
  requires a valid SigV4 signature on every SP-API call), plus a bench-only route
  `GET /_bench/stats` (LWA exchanges and the number of SP-API requests received). The bench's
  emulator process moves `state.requests` into a counter every 0.5 s so that the fake Amazon's
  memory (and garbage collector) stays flat during the run; the emulator package is unchanged.
- spproxy: `make_app(demo_config(...))` as `spproxy demo` builds it (with `--signing`, plus an
  `AwsConfig` with the emulator's keys), served as `spproxy serve` serves it
  (`spproxy.server.serving`: header deadline, handler cancellation, no aiohttp access log).
  With `state` (url and key), spproxy shares its state through that Redis, as replicas do.
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

Every server runs on asyncio's own event loop; the saturation phase also runs bare with
`options["event_loop"] = "uvloop"` (spproxy.eventloop, as `spproxy serve --event-loop` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from bench.common import AWS_KEY_ID, AWS_SECRET, HOST, Message, sigv4_headers
from spproxy.eventloop import loop_factory, run
from spproxy.headers import ACCESS_TOKEN_HEADER
from spproxy.upstream import HOP_BY_HOP

if TYPE_CHECKING:
    from spproxy.config import Config

BARE_REQUEST_DROPPED = HOP_BY_HOP | {"host", "content-length"}
BARE_RESPONSE_DROPPED = HOP_BY_HOP | {"content-length"}  # web.Response sets its own
SERVER_LIFETIME_S = 900.0  # a server left behind stops by itself after this


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
    state: Mapping[str, str] | None = None,
) -> tuple[web.Application, Config]:
    from spproxy.app import make_app
    from spproxy.config import AwsConfig, Secret
    from spproxy.demo import demo_config
    from spproxy.logs import configure_logging

    config = demo_config(upstream, port=0)
    config = with_pacing(config) if paced else without_pacing(config)
    if document_rdts is not None:
        config = with_document_rdts(config, document_rdts)
    if state is not None:
        config = with_state(config, state["url"], state["key"])
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


def with_state(config: Config, url: str, key: str) -> Config:
    """The config with `state:` (shared state in the Redis at `url`, tokens sealed with `key`,
    32 bytes in base64), as replicas of one app have it: the namespace follows from the LWA
    client id, the same for every bench spproxy."""
    from spproxy.config import Secret, StateConfig

    return dataclasses.replace(config, state=StateConfig(url=url, key=Secret(key)))


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
        # the saturation phase runs bare on uvloop too; every other phase, on asyncio's loop
        factory = loop_factory(options.get("event_loop", "asyncio"))
        run(_serve(role, options, conn, parent_pid), factory)
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
            options.get("state"),
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
