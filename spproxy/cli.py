"""Command line: `spproxy serve | demo | check | emulator` (also `python -m spproxy`).

Exit status: 0 fine, 1 a runtime failure (a port in use, a refused token in `check`),
2 an unusable configuration or command line. Problems are printed one per line, never as a
traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence

import aiohttp
from aiohttp import web

from spproxy import __version__
from spproxy.app import make_app
from spproxy.config import Config, ConfigError, is_loopback, load_config, redact_url
from spproxy.demo import demo_config, start_emulator
from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DEMO_SELLER_ID,
    EmulatorConfig,
)
from spproxy.errors import ProxyError
from spproxy.logs import TextFormatter, configure_logging
from spproxy.lwa import LwaTokens
from spproxy.proxy import ConfigLoader
from spproxy.reserved import reload_config
from spproxy.server import serving

log = logging.getLogger("spproxy")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "emulator":
            return _emulator(args)
        return _check(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"spproxy: config: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spproxy", description="Local authenticating reverse proxy for Amazon's SP-API."
    )
    parser.add_argument("--version", action="version", version=f"spproxy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the proxy")
    serve.add_argument(
        "--config",
        metavar="PATH",
        help="YAML config (default: $SPPROXY_CONFIG, else ./spproxy.yaml, else SPAPI_* variables)",
    )
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default 8000)")
    _logging_options(serve)

    demo = commands.add_parser("demo", help="the proxy in front of the built-in Amazon emulator")
    demo.add_argument("--port", type=int, default=8000, help="proxy port (default 8000)")
    _logging_options(demo)

    check = commands.add_parser("check", help="validate the config and exchange each token once")
    check.add_argument("--config", metavar="PATH", help="YAML config (as for serve)")

    emulator = commands.add_parser(
        "emulator", help="the built-in Amazon emulator alone, to test your own SP-API client"
    )
    _emulator_options(emulator)
    return parser


def _logging_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", choices=("debug", "info", "warning"), default="info")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")


def _serve(args: argparse.Namespace) -> int:
    def load() -> Config:
        config = load_config(args.config, os.environ)
        listen = dataclasses.replace(
            config.listen,
            host=args.host or config.listen.host,
            port=args.port or config.listen.port,
        )
        return dataclasses.replace(config, listen=listen)

    config = load()
    configure_logging(args.log_level, args.log_format)
    return asyncio.run(_run(config, announce=_announce_serve, loader=load))


def _demo(args: argparse.Namespace) -> int:
    configure_logging(args.log_level, args.log_format)

    async def run_demo() -> int:
        emulator = await start_emulator()
        try:
            config = demo_config(emulator.url, port=args.port)
            return await _run(config, announce=_announce_demo)
        finally:
            await emulator.runner.cleanup()

    return asyncio.run(run_demo())


async def _run(
    config: Config, announce: Callable[[Config], None], loader: ConfigLoader | None = None
) -> int:
    """Serve until SIGINT/SIGTERM; SIGHUP reloads. Stopping lets requests in flight finish,
    for up to upstream.timeout_s, after the listening socket has closed."""
    app = make_app(config, loader=loader)
    runner = serving(app, config)
    await runner.setup()
    site = web.TCPSite(runner, config.listen.host, config.listen.port)
    try:
        await site.start()
    except OSError as exc:
        print(
            f"spproxy: cannot listen on {config.listen.host}:{config.listen.port}: "
            f"{os.strerror(exc.errno) if exc.errno else exc}",
            file=sys.stderr,
        )
        await runner.cleanup()
        return 1
    announce(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload_config, app)
    try:
        await stop.wait()
        log.info("stopping: no new connections; letting requests in flight finish")
    finally:
        await runner.cleanup()
    return 0


def _base_url(config: Config) -> str:
    host = config.listen.host
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{config.listen.port}"


def _announce_serve(config: Config) -> None:
    accounts = ", ".join(
        f"{a.name} ({a.region}, {redact_url(a.endpoint)})" for a in config.accounts.values()
    )
    signing = "on" if config.aws else "off"
    log.info(
        "spproxy %s listening on %s; config %s; accounts: %s; SigV4 signing %s",
        __version__,
        _base_url(config),
        config.source,
        accounts,
        signing,
    )
    if not is_loopback(config.listen.host) and not config.clients:
        log.warning(
            "listening on %s WITHOUT client keys: every process that can reach this port can "
            "call SP-API as your sellers and read their buyers' PII. Configure clients: (keys "
            "and grants), or listen on 127.0.0.1 (see the README's Security section)",
            config.listen.host,
        )


def _announce_demo(config: Config) -> None:
    base = _base_url(config)
    marketplace = "ATVPDKIKX0DER"
    catalog_query = (
        f"marketplaceIds={marketplace}&keywords=samsung%20tv&includedData=summaries,images"
    )
    print(
        f"""spproxy demo: the proxy on {base}, in front of the built-in Amazon emulator
(fake LWA and SP-API on loopback: no account, no network). Try:

  curl -i {base}/sellers/v1/marketplaceParticipations
  curl -i '{base}/orders/v0/orders?MarketplaceIds={marketplace}&CreatedAfter=2024-01-01T00:00:00Z'
  curl -i {base}/orders/v0/orders/902-1845936-5435065/address
  curl -i -H 'x-spproxy-data-elements: none' {base}/orders/v0/orders/902-1845936-5435065
  curl -i '{base}/catalog/2022-04-01/items?{catalog_query}'
  curl -i {base}/notifications/v1/destinations
  curl -i {base}/_spproxy/ready

The x-spproxy-operation and x-spproxy-credential headers show what spproxy did. Ctrl-C stops.
""",
        flush=True,
    )


def _check(args: argparse.Namespace) -> int:
    config = load_config(args.config, os.environ)
    return asyncio.run(_check_accounts(config))


async def _check_accounts(config: Config) -> int:
    """Exchange each account's refresh token once and print a table; exit 1 if any failed."""
    rows = [("account", "region", "endpoint", "refresh token", "outcome")]
    failed = False
    async with aiohttp.ClientSession(trust_env=False) as session:
        tokens = LwaTokens(session, config.lwa, timeout_s=config.upstream.timeout_s)
        for account in config.accounts.values():
            try:
                await tokens.seller_token(account)
                expiry = tokens.expiry(account)
                outcome = f"ok (token valid {int((expiry or 0) - time.time())} s)"
            except ProxyError as exc:
                failed = True
                outcome = f"FAILED: {exc.message}"
            rows.append(
                (
                    account.name,
                    account.region,
                    redact_url(account.endpoint),
                    _mask(account.refresh_token.reveal()),
                    outcome,
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    print(f"config: {config.source}; LWA client {_mask(config.lwa.client_id)}")
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]
        )
    return 1 if failed else 0


def _mask(secret: str) -> str:
    """Enough to tell two secrets apart, never enough to use one."""
    return f"...{secret[-4:]}" if len(secret) >= 16 else "***"


# --- spproxy emulator -------------------------------------------------------------------------

EMULATOR_PORT = 8100


def _emulator_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=EMULATOR_PORT, help=f"port (default {EMULATOR_PORT})"
    )
    parser.add_argument(
        "--keys",
        metavar="AKID:SECRET",
        action="append",
        type=_aws_key,
        help="verify SigV4 with these AWS keys (repeatable); without, signatures are ignored",
    )
    parser.add_argument(
        "--no-rate-limits",
        dest="rate_limits",
        action="store_false",
        help="do not enforce SP-API usage plans (429 QuotaExceeded)",
    )
    answers = parser.add_mutually_exclusive_group()
    answers.add_argument(
        "--no-examples",
        dest="examples",
        action="store_false",
        help="do not answer from Amazon's published sandbox examples",
    )
    answers.add_argument(
        "--sandbox",
        action="store_true",
        help="behave as Amazon's static sandbox: published examples only, any live token, "
        "5 requests/s burst 15",
    )


def _aws_key(value: str) -> tuple[str, str]:
    key_id, _, secret = value.partition(":")
    if not key_id or not secret:
        raise argparse.ArgumentTypeError("expected AKID:SECRET, an access key id and its secret")
    return key_id, secret


def _emulator(args: argparse.Namespace) -> int:
    config = EmulatorConfig(
        aws_keys=dict(args.keys) if args.keys else None,
        rate_limits=args.rate_limits,
        sandbox_examples=args.examples,
        static_sandbox=args.sandbox,
    )
    # A line per request on stderr: what a client under test sent, and what it got.
    access = logging.getLogger("spproxy.emulator.access")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter("%(asctime)s %(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    try:
        return asyncio.run(_run_emulator(config, args.host, args.port, access))
    finally:
        access.removeHandler(handler)


async def _run_emulator(
    config: EmulatorConfig, host: str, port: int, access: logging.Logger
) -> int:
    """Serve the emulator alone until SIGINT/SIGTERM."""
    try:
        emulator = await start_emulator(port, config, host=host, access_log=access)
    except OSError as exc:
        print(
            f"spproxy: cannot listen on {host}:{port}: "
            f"{os.strerror(exc.errno) if exc.errno else exc}",
            file=sys.stderr,
        )
        return 1
    _announce_emulator(emulator.url, config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.runner.cleanup()
    return 0


def _announce_emulator(base: str, config: EmulatorConfig) -> None:
    keys = ", ".join(config.aws_keys or ())
    signing = f"verified, keys {keys}" if keys else "not checked (SP-API ignores signatures)"
    credentials = (
        f"-d grant_type=refresh_token --data-urlencode 'refresh_token={DEMO_REFRESH_TOKEN}' "
        f"-d client_id={DEMO_CLIENT_ID} -d client_secret={DEMO_CLIENT_SECRET}"
    )
    extract = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    orders = f"{base}/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&CreatedAfter=TEST_CASE_200"
    plans = "enforced (429 QuotaExceeded)" if config.rate_limits else "off"
    examples = "on" if config.sandbox_examples else "off"
    restricted = (
        "Restricted operations (getOrderAddress, ...) want a Restricted Data Token from\n"
        f"POST {base}/tokens/2021-03-01/restrictedDataToken."
    )
    if config.static_sandbox:
        plans = "the sandbox's, 5 requests/s burst 15" if config.rate_limits else "off"
        examples = "only: Amazon's static sandbox (no emulated seller data)"
        restricted = (
            "As in Amazon's static sandbox, any live token gets the published examples,\n"
            'restricted ones too (curl -i -H "x-amz-access-token: $TOKEN" '
            f"{base}/orders/v0/orders/TEST_CASE_200/address)."
        )
    print(
        f"""spproxy emulator: a fake Amazon on {base} (LWA, STS, Tokens API and every SP-API
operation, answering Amazon's published sandbox examples); no account, no network.

  SP-API endpoint  {base}
  LWA token URL    {base}/auth/o2/token
  client id        {DEMO_CLIENT_ID}
  client secret    {DEMO_CLIENT_SECRET}
  refresh token    {DEMO_REFRESH_TOKEN}   (seller {DEMO_SELLER_ID})
  SigV4            {signing}
  usage plans      {plans}
  examples         {examples}

Try:

  TOKEN=$(curl -s {base}/auth/o2/token {credentials} | {extract})
  curl -i -H "x-amz-access-token: $TOKEN" {base}/sellers/v1/marketplaceParticipations
  curl -i -H "x-amz-access-token: $TOKEN" '{orders}'

{restricted} Ctrl-C stops.
""",
        flush=True,
    )
