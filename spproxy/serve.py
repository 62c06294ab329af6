"""Serving until stopped: the proxy (`spproxy serve`, `spproxy demo`) and its start-up line; what
every command that listens does on SIGINT or SIGTERM, and says when it cannot listen."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import ssl
import sys
from collections.abc import Callable

from aiohttp import web

from spproxy import __version__
from spproxy.addresses import is_loopback, redact_url
from spproxy.app import make_app
from spproxy.config import Config
from spproxy.eventloop import running
from spproxy.proxy import PROXY, ConfigLoader, first_names
from spproxy.server import ProxyRunner, serving, tls_context

log = logging.getLogger("spproxy")


async def serve_proxy(
    config: Config,
    announce: Callable[[Config], None],
    loader: ConfigLoader | None = None,
    *,
    reuse_port: bool = False,  # one of several workers on the port (spproxy.workers)
) -> int:
    """Serve until SIGINT/SIGTERM; SIGHUP reloads. Stopping lets requests in flight finish,
    for up to upstream.timeout_s, after the listening socket has closed."""
    tls = tls_context(config.listen)  # before anything starts: a bad file is a config error
    app = make_app(config, loader=loader)
    runner = await start_serving(app, config, tls=tls, reuse_port=reuse_port)
    if runner is None:
        return 1
    # --port 0: the kernel chose; say which. The accounts: the account store's too.
    listening = dataclasses.replace(config.listen, port=runner.addresses[0][1])
    announce(dataclasses.replace(app[PROXY].config, listen=listening))
    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, app[PROXY].reload)
    try:
        await until_stopped()
        log.info("stopping: no new connections; letting requests in flight finish")
    finally:
        await runner.cleanup()
    return 0


async def start_serving(
    app: web.Application,
    config: Config,
    *,
    tls: ssl.SSLContext | None = None,
    reuse_port: bool = False,
) -> ProxyRunner | None:
    """`app` started and served on config.listen; None if it cannot listen (said, one line)."""
    runner = serving(app, config)
    await runner.setup()
    site = web.TCPSite(
        runner, config.listen.host, config.listen.port, ssl_context=tls, reuse_port=reuse_port
    )
    try:
        await site.start()
    except OSError as exc:
        cannot_listen(config.listen.host, config.listen.port, exc)
        await runner.cleanup()
        return None
    return runner


async def until_stopped() -> None:
    """Return on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def cannot_listen(host: str, port: int, error: OSError) -> None:
    """One line on stderr, never a traceback: the port is taken, the address is not this host's."""
    reason = os.strerror(error.errno) if error.errno else error
    print(f"spproxy: cannot listen on {host}:{port}: {reason}", file=sys.stderr)


def base_url(config: Config) -> str:
    host = config.listen.host
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if config.listen.tls_cert_file else "http"
    return f"{scheme}://{shown}:{config.listen.port}"


def announce_serve(config: Config, worker: tuple[int, int] | None = None) -> None:
    """The start-up line (with the event loop that runs: uvloop or asyncio); `worker`: (which,
    of how many) with --workers."""
    accounts = first_names(
        (f"{a.name} ({a.region}, {redact_url(a.endpoint)})" for a in config.accounts.values()),
        len(config.accounts),
    )
    if config.account_store is not None:
        accounts = f"{accounts or 'none yet'} (account store {config.account_store.url})"
    signing = "on" if config.aws else "off"
    log.info(
        "spproxy %s listening on %s; config %s; accounts: %s; SigV4 signing %s; event loop %s",
        __version__,
        base_url(config),
        config.source,
        accounts,
        signing,
        running(),
    )
    if worker is not None:
        log.info("worker %d of %d (pid %d), state shared through Redis", *worker, os.getpid())
    if not is_loopback(config.listen.host) and not config.clients:
        log.warning(
            "listening on %s WITHOUT client keys: every process that can reach this port can "
            "call SP-API as your sellers and read their buyers' PII. Configure clients: (keys "
            "and grants), or listen on 127.0.0.1 (see the README's Security section)",
            config.listen.host,
        )
