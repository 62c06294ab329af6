"""`python -m bench`: parse the options, run the phases chosen, print the report.

Options: --seconds (throughput time, default 40), --round (default 1.5), --concurrency
(default 32), --clients (default 1), --latency-requests (default 2000), --startup-runs
(default 3), --mix (alternate getMarketplaceParticipations with getOrders), --signing,
--access-log, --quota-calls, --quota-concurrency, --quota-rate, --quota-burst (the quota and
replicas phases), --rdt-calls,
--rdt-step, --only/--skip PHASES, --soak, --soak-seconds (default 180), --soak-documents
(default 20000), --soak-concurrency (default 8), --soak-document-rdts (spproxy's
`limits.document_rdts` for the soak; default: spproxy's own), --accounts (counts for the
accounts phase, default 1,1000,10000), --accounts-timeout (default 600), --saturation-round
(default 5), --saturation-repetitions (default 3), --saturation-threads (default 1), --profile
(the saturation phase), --json (one JSON document on stdout instead of the table).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence

import aiohttp

from bench.accounts import accounts
from bench.common import BenchError, Message, progress
from bench.load import load_phases
from bench.processes import Children
from bench.quota import quota
from bench.rdt import rdt
from bench.replicas import replicas
from bench.report import output
from bench.saturation import add_options as saturation_options
from bench.saturation import problem as saturation_problem
from bench.saturation import saturation
from bench.soak import soak
from bench.startup import startup

DEFAULT_PHASES = ("startup", "load", "quota", "rdt")  # load: throughput, latency, tokens, memory
# soak and accounts take minutes, replicas about one: only when --only names them (or --soak);
# saturation needs wrk and nginx too
PHASES = (*DEFAULT_PHASES, "soak", "accounts", "replicas", "saturation")


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
    output(report, args.json)
    return 0


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
    if "accounts" in args.phases:
        counts = ", ".join(f"{n:,}" for n in args.accounts)
        progress(args, f"many accounts: a real spproxy serve with {counts} accounts")
        report["accounts"] = accounts(args, children)
    if "replicas" in args.phases:
        progress(
            args,
            "replicas: 1 and 3 spproxy in memory, 3 on Redis; latency and serve --workers 1/2 "
            "on Redis",
        )
        report["replicas"] = replicas(args, children)
    if "saturation" in args.phases:
        progress(args, "saturation: wrk through direct, nginx, bare and spproxy, alternating")
        report["saturation"] = saturation(args, children)
    report["total_s"] = round(time.perf_counter() - began, 1)
    return report


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    problem = _problem(args)
    if problem:
        parser.error(problem)
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark spproxy against a bare aiohttp pass-through (loopback only).",
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
    _soak_options(parser)
    saturation_options(parser)
    parser.add_argument(
        "--accounts",
        type=_counts,
        default=(1, 1000, 10_000),
        metavar="COUNTS",
        help="accounts phase: comma-separated account counts (default 1,1000,10000)",
    )
    parser.add_argument(
        "--accounts-timeout", type=float, default=600.0, help="accounts phase: s per count at most"
    )
    phases = parser.add_mutually_exclusive_group()
    phases.add_argument(
        "--only",
        type=phase_list,
        metavar="PHASES",
        help=f"run only these of {','.join(PHASES)} (soak, accounts, replicas and saturation run "
        "only if named here; soak also with --soak)",
    )
    phases.add_argument(
        "--skip",
        type=phase_list,
        metavar="PHASES",
        help=f"run all of {','.join(DEFAULT_PHASES)} but these",
    )
    return parser


def _soak_options(parser: argparse.ArgumentParser) -> None:
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


def phase_list(value: str) -> frozenset[str]:
    names = frozenset(name.strip() for name in value.split(",") if name.strip())
    unknown = names - set(PHASES)
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"phases are a comma-separated list of {', '.join(PHASES)} (got {value!r})"
        )
    return names


def _counts(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(count) for count in value.split(","))
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"counts are positive integers, a,b,... (got {value!r})")
    return counts


def _problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the options, if anything."""
    if args.seconds <= 0 or args.round <= 0 or args.concurrency < 1 or args.clients < 1:
        return "--seconds, --round, --concurrency and --clients must be positive"
    if args.concurrency < args.clients:
        return "--concurrency must be at least --clients"
    if min(args.quota_calls, args.quota_concurrency, args.quota_burst, args.rdt_calls) < 1:
        return "--quota-calls, --quota-concurrency, --quota-burst, --rdt-calls must be >= 1"
    if args.quota_rate <= 0 or args.rdt_step <= 0:
        return "--quota-rate and --rdt-step must be positive"
    if args.soak_document_rdts is not None and args.soak_document_rdts < 1:
        return "--soak-document-rdts must be >= 1"
    if not 0 < args.soak_seconds <= 3600 or args.soak_documents < 1 or args.soak_concurrency < 0:
        return "--soak-seconds must be in (0, 3600], --soak-documents >= 1, --soak-concurrency >= 0"
    if args.accounts_timeout <= 0:
        return "--accounts-timeout must be positive"
    return saturation_problem(args)


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


if __name__ == "__main__":
    sys.exit(main())
