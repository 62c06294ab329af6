"""Command line: `spproxy serve | demo | check | authorize | accounts | emulator | report | feed`
(also `python -m spproxy`): the parser and its help, every flag against its environment variable,
and dispatch; the commands run in `serve`, `demo`, `check`, `authorize_command`,
`accounts_command`, `emulator_command`, `report_command` and `feed_command`.

Exit status: 0 fine, 1 a runtime failure (a port in use, a refused token in `check`, a report
that failed), 2 an unusable configuration or command line, 130 `authorize`, `report` or `feed`
cancelled. Problems are printed one per line, never as a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from collections.abc import Sequence
from functools import partial
from typing import Any

from spproxy import __version__
from spproxy.accounts_command import ACCOUNTS_HELP, add_accounts_commands, run_accounts
from spproxy.authorize_command import AUTHORIZE_HELP, add_authorize_options, run_authorize
from spproxy.check import check_accounts
from spproxy.clihelp import (
    CHECK_HELP,
    DEMO_HELP,
    EMULATOR_HELP,
    FEED_HELP,
    REPORT_HELP,
    SERVE_HELP,
    command,
)
from spproxy.config import Config, ConfigError
from spproxy.configload import load_config
from spproxy.demo import run_demo
from spproxy.emulator_command import add_emulator_options, run_emulator
from spproxy.eventloop import EVENT_LOOPS, LoopFactory, loop_factory, run
from spproxy.feed_command import add_feed_options, run_feed
from spproxy.logs import configure_logging
from spproxy.report_command import add_report_options, run_report
from spproxy.serve import announce_serve, cannot_listen, serve_proxy
from spproxy.workers import check_workers, reserve_port, run_workers


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "emulator":
            return run_emulator(args)
        if args.command == "authorize":
            return run_authorize(load_config(args.config, os.environ), args)
        if args.command == "accounts":
            return run_accounts(load_config(args.config, os.environ), args)
        if args.command in JOBS:
            return JOBS[args.command](args, os.environ)
        return asyncio.run(check_accounts(load_config(args.config, os.environ)))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"spproxy: config: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


JOBS = {"report": run_report, "feed": run_feed}
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
# Every serve flag has an environment variable (twelve-factor): flags > environment > file.
FLAG_VARIABLES = {
    "host": "SPPROXY_HOST",
    "port": "SPPROXY_PORT",
    "log_level": "SPPROXY_LOG_LEVEL",
    "log_format": "SPPROXY_LOG_FORMAT",
    "workers": "SPPROXY_WORKERS",
    "event_loop": "SPPROXY_EVENT_LOOP",
}
MAX_WORKERS = 64


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spproxy", description="Local authenticating reverse proxy for Amazon's SP-API."
    )
    parser.add_argument("--version", action="version", version=f"spproxy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _serve_options(
        command(
            commands,
            "serve",
            "run the proxy",
            "Run the proxy: plain SP-API requests to it go to Amazon with the right token.",
            SERVE_HELP,
        )
    )
    _demo_options(
        command(
            commands,
            "demo",
            "the proxy in front of the built-in Amazon emulator",
            "The proxy in front of a built-in, emulated Amazon: no account, no network.",
            DEMO_HELP,
        )
    )

    check = command(
        commands,
        "check",
        "validate the config and exchange each token once",
        "Validate the config and exchange each account's refresh token once; print a table "
        "(secrets masked).",
        CHECK_HELP,
    )
    check.add_argument("--config", metavar="PATH", help="YAML config (as for serve)")

    _account_store_commands(commands)

    emulator = command(
        commands,
        "emulator",
        "the built-in Amazon emulator alone, to test your own SP-API client",
        "The built-in Amazon emulator alone (LWA, STS, Tokens API and every SP-API operation), "
        "to test your own SP-API client or SDK.",
        EMULATOR_HELP,
    )
    add_emulator_options(emulator)
    _job_commands(commands)
    return parser


def _job_commands(commands: Any) -> None:
    """`report` and `feed`: a whole job through a running spproxy (or one of their own)."""
    summary = "request a report and download its document, through spproxy"
    described = "createReport, getReport until it ends, then its document (decompressed)."
    add_report_options(command(commands, "report", summary, described, REPORT_HELP))
    summary = "upload a feed and fetch its processing report, through spproxy"
    described = "Upload FILE, createFeed, getFeed until it ends, then its processing report."
    add_feed_options(command(commands, "feed", summary, described, FEED_HELP))


def _account_store_commands(commands: Any) -> None:
    """`authorize` adds a seller to the account store, `accounts` changes what it holds."""
    authorize = command(
        commands,
        "authorize",
        "authorize your own seller account once, through your browser",
        "Authorize your own seller account once: spproxy listens on 127.0.0.1 alone, prints a "
        "link to open in your browser, and stores the seller Amazon sends back.",
        AUTHORIZE_HELP,
    )
    add_authorize_options(authorize)

    accounts = command(
        commands,
        "accounts",
        "list, remove or rename the sellers in the account store",
        "The account store's sellers: list them, remove one (every replica refuses it within "
        "account_store.poll_s), or rename one.",
        ACCOUNTS_HELP,
    )
    add_accounts_commands(accounts)


def _demo_options(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--port", help="proxy port, 0 for a free one (default 8000)")
    demo.add_argument(
        "--onboarding",
        action="store_true",
        help="onboard sellers through the emulator's consent pages (a temporary account store)",
    )
    _runtime_options(demo)


def _serve_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--config",
        metavar="PATH",
        help="YAML config (default: $SPPROXY_CONFIG, else ./spproxy.yaml, else SPAPI_* variables)",
    )
    serve.add_argument("--host", help="listen address (default: the file's, else 127.0.0.1)")
    serve.add_argument("--port", help="listen port, 0 for a free one (default: the file's, 8000)")
    serve.add_argument(
        "--workers", help="processes serving the port, sharing state through state.url (default 1)"
    )
    _runtime_options(serve)


def _runtime_options(parser: argparse.ArgumentParser) -> None:
    """serve's and demo's: logging, and the event loop they run on."""
    parser.add_argument("--log-level", help=f"{' | '.join(LOG_LEVELS)} (default info)")
    parser.add_argument("--log-format", help=f"{' | '.join(LOG_FORMATS)} (default text)")
    parser.add_argument(
        "--event-loop", help=f"{' | '.join(EVENT_LOOPS)} (default auto: uvloop if installed)"
    )


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


def _workers(args: argparse.Namespace) -> int:
    given = _option(args, "workers")
    if given is None:
        return 1
    where, text = given
    if not text.isdigit() or not 1 <= int(text) <= MAX_WORKERS:
        raise ConfigError([f"{where}: must be a number from 1 to {MAX_WORKERS}, got {text!r}"])
    return int(text)


def _choice(args: argparse.Namespace, name: str, choices: tuple[str, ...], default: str) -> str:
    given = _option(args, name)
    if given is None:
        return default
    where, value = given
    if value not in choices:
        raise ConfigError([f"{where}: must be one of {', '.join(choices)}, got {value!r}"])
    return value


def _event_loop(args: argparse.Namespace) -> LoopFactory | None:
    given = _option(args, "event_loop")
    choice = _choice(args, "event_loop", EVENT_LOOPS, "auto")
    return loop_factory(choice, given[0] if given else "--event-loop")


def _configure_logging(args: argparse.Namespace) -> None:
    level = _choice(args, "log_level", LOG_LEVELS, "info")
    fmt = _choice(args, "log_format", LOG_FORMATS, "text")
    configure_logging(level, "json" if fmt == "json" else "text")


def _serve(args: argparse.Namespace) -> int:
    workers = _workers(args)
    chosen_port: int | None = None  # with workers: the one port they share, chosen once

    # SIGHUP loads again: flags and variables still win over the re-read file
    def load() -> Config:
        config = load_config(args.config, os.environ)
        host = _option(args, "host")
        listen = dataclasses.replace(
            config.listen,
            host=host[1] if host else config.listen.host,
            port=chosen_port if chosen_port is not None else _port(args, config.listen.port),
        )
        return dataclasses.replace(config, listen=listen)

    config = load()
    check_workers(workers, config)
    loop = _event_loop(args)
    _configure_logging(args)
    if workers == 1:
        return run(serve_proxy(config, announce=announce_serve, loader=load), loop)
    try:
        held = reserve_port(config.listen.host, config.listen.port)
    except OSError as exc:
        cannot_listen(config.listen.host, config.listen.port, exc)
        return 1
    chosen_port = held.getsockname()[1]
    config = load()

    def serve_one(index: int) -> int:
        announce = partial(announce_serve, worker=(index + 1, workers))
        return run(serve_proxy(config, announce=announce, loader=load, reuse_port=True), loop)

    try:
        return run_workers(workers, serve_one)
    finally:
        held.close()


def _demo(args: argparse.Namespace) -> int:
    port = _port(args, 8000)
    loop = _event_loop(args)
    _configure_logging(args)
    return run(run_demo(port, onboarding=args.onboarding), loop)
