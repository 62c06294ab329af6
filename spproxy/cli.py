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
from typing import Any

import aiohttp
from aiohttp import web

from spproxy import __version__
from spproxy.app import make_app
from spproxy.config import Config, ConfigError, is_loopback, redact_url
from spproxy.configload import load_config
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
from spproxy.proxy import PROXY, ConfigLoader
from spproxy.server import serving, tls_context

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


LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
# Every serve flag has an environment variable (twelve-factor): flags > environment > file.
FLAG_VARIABLES = {
    "host": "SPPROXY_HOST",
    "port": "SPPROXY_PORT",
    "log_level": "SPPROXY_LOG_LEVEL",
    "log_format": "SPPROXY_LOG_FORMAT",
}
EXIT_STATUS = """exit status:
  0  stopped by SIGINT or SIGTERM (requests in flight finish first)
  1  a runtime failure: the port cannot be listened on
  2  an unusable configuration or command line (one line per problem)"""
SERVE_HELP = f"""environment (a flag wins over its variable, a variable over the file):
  SPPROXY_CONFIG       the config file, as --config
  SPPROXY_HOST         as --host
  SPPROXY_PORT         as --port
  SPPROXY_LOG_LEVEL    as --log-level
  SPPROXY_LOG_FORMAT   as --log-format
  without a config file, one account from SPAPI_CLIENT_ID, SPAPI_CLIENT_SECRET,
  SPAPI_REFRESH_TOKEN, SPAPI_REGION (each secret also as *_FILE: a file holding it),
  optionally SPAPI_SANDBOX, SPAPI_ENDPOINT, SPAPI_LWA_ENDPOINT, AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ROLE_ARN

{EXIT_STATUS}

examples:
  spproxy serve --config spproxy.yaml
  SPPROXY_PORT=0 spproxy serve           # a free port, printed in the start-up line
  curl -i http://127.0.0.1:8000/sellers/v1/marketplaceParticipations
"""
DEMO_HELP = f"""environment: SPPROXY_PORT, SPPROXY_LOG_LEVEL, SPPROXY_LOG_FORMAT, as the flags

{EXIT_STATUS}

example:
  spproxy demo --port 8000     # then the curl lines it prints
"""
CHECK_HELP = """environment: SPPROXY_CONFIG and the SPAPI_* variables, as for serve

exit status:
  0  every account's refresh token was exchanged
  1  an account's exchange failed (the table says why)
  2  an unusable configuration

example:
  spproxy check --config spproxy.yaml
"""
EMULATOR_HELP = """exit status:
  0  stopped by SIGINT or SIGTERM
  1  the port cannot be listened on
  2  an unusable command line

example:
  spproxy emulator --port 8100 --keys AKIDEXAMPLE:secret
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spproxy", description="Local authenticating reverse proxy for Amazon's SP-API."
    )
    parser.add_argument("--version", action="version", version=f"spproxy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = _command(
        commands,
        "serve",
        "run the proxy",
        "Run the proxy: plain SP-API requests to it go to Amazon with the right token.",
        SERVE_HELP,
    )
    serve.add_argument(
        "--config",
        metavar="PATH",
        help="YAML config (default: $SPPROXY_CONFIG, else ./spproxy.yaml, else SPAPI_* variables)",
    )
    serve.add_argument("--host", help="listen address (default: the file's, else 127.0.0.1)")
    serve.add_argument("--port", help="listen port, 0 for a free one (default: the file's, 8000)")
    _logging_options(serve)

    demo = _command(
        commands,
        "demo",
        "the proxy in front of the built-in Amazon emulator",
        "The proxy in front of a built-in, emulated Amazon: no account, no network.",
        DEMO_HELP,
    )
    demo.add_argument("--port", help="proxy port, 0 for a free one (default 8000)")
    _logging_options(demo)

    check = _command(
        commands,
        "check",
        "validate the config and exchange each token once",
        "Validate the config and exchange each account's refresh token once; print a table "
        "(secrets masked).",
        CHECK_HELP,
    )
    check.add_argument("--config", metavar="PATH", help="YAML config (as for serve)")

    emulator = _command(
        commands,
        "emulator",
        "the built-in Amazon emulator alone, to test your own SP-API client",
        "The built-in Amazon emulator alone (LWA, STS, Tokens API and every SP-API operation), "
        "to test your own SP-API client or SDK.",
        EMULATOR_HELP,
    )
    _emulator_options(emulator)
    return parser


def _command(
    commands: Any, name: str, summary: str, description: str, epilog: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _logging_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", help=f"{' | '.join(LOG_LEVELS)} (default info)")
    parser.add_argument("--log-format", help=f"{' | '.join(LOG_FORMATS)} (default text)")


def _option(args: argparse.Namespace, name: str) -> tuple[str, str] | None:
    """(where it came from, its value): the flag, else its environment variable, else None."""
    flag = getattr(args, name)
    if flag is not None:
        return f"--{name.replace('_', '-')}", str(flag)
    variable = FLAG_VARIABLES[name]
    if variable in os.environ:
        return variable, os.environ[variable]
    return None


def _port(args: argparse.Namespace, default: int) -> int:
    """The port from the flag or SPPROXY_PORT, checked as the file's is: 0 to 65535."""
    given = _option(args, "port")
    if given is None:
        return default
    where, text = given
    if not text.isdigit() or int(text) > 65535:
        raise ConfigError([f"{where}: must be a port number between 0 and 65535, got {text!r}"])
    return int(text)


def _choice(args: argparse.Namespace, name: str, choices: tuple[str, ...], default: str) -> str:
    given = _option(args, name)
    if given is None:
        return default
    where, value = given
    if value not in choices:
        raise ConfigError([f"{where}: must be one of {', '.join(choices)}, got {value!r}"])
    return value


def _configure_logging(args: argparse.Namespace) -> None:
    level = _choice(args, "log_level", LOG_LEVELS, "info")
    fmt = _choice(args, "log_format", LOG_FORMATS, "text")
    configure_logging(level, "json" if fmt == "json" else "text")


def _serve(args: argparse.Namespace) -> int:
    def load() -> Config:
        config = load_config(args.config, os.environ)
        host = _option(args, "host")
        listen = dataclasses.replace(
            config.listen,
            host=host[1] if host else config.listen.host,
            port=_port(args, config.listen.port),
        )
        return dataclasses.replace(config, listen=listen)

    config = load()
    _configure_logging(args)
    return asyncio.run(_run(config, announce=_announce_serve, loader=load))


def _demo(args: argparse.Namespace) -> int:
    port = _port(args, 8000)
    _configure_logging(args)

    async def run_demo() -> int:
        emulator = await start_emulator()
        try:
            config = demo_config(emulator.url, port=port)
            return await _run(config, announce=_announce_demo)
        finally:
            await emulator.runner.cleanup()

    return asyncio.run(run_demo())


async def _run(
    config: Config, announce: Callable[[Config], None], loader: ConfigLoader | None = None
) -> int:
    """Serve until SIGINT/SIGTERM; SIGHUP reloads. Stopping lets requests in flight finish,
    for up to upstream.timeout_s, after the listening socket has closed."""
    tls = tls_context(config.listen)  # before anything starts: a bad file is a config error
    app = make_app(config, loader=loader)
    runner = serving(app, config)
    await runner.setup()
    site = web.TCPSite(runner, config.listen.host, config.listen.port, ssl_context=tls)
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
    # --port 0: the kernel chose; say which
    listening = dataclasses.replace(config.listen, port=runner.addresses[0][1])
    announce(dataclasses.replace(config, listen=listening))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, app[PROXY].reload)
    try:
        await stop.wait()
        log.info("stopping: no new connections; letting requests in flight finish")
    finally:
        await runner.cleanup()
    return 0


def _base_url(config: Config) -> str:
    host = config.listen.host
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if config.listen.tls_cert_file else "http"
    return f"{scheme}://{shown}:{config.listen.port}"


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
    upstream = config.upstream
    async with aiohttp.ClientSession(trust_env=upstream.trust_env, proxy=upstream.proxy) as session:
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
