"""Phase `saturation` (only with `--only saturation`; about 3 minutes): the hot path when the
proxy, not Amazon, is the bottleneck (issue 15). Needs wrk and nginx: `sudo apt-get install wrk
nginx` (a BenchError says so if either is missing).

A C load generator (wrk, `--concurrency` connections, `--saturation-threads` threads) against a
static upstream that costs next to nothing (nginx answering a fixed getMarketplaceParticipations,
and a fixed LWA token: `bench.wrk.static_conf`), through each of these in turn:

    direct         wrk straight to the static upstream: what the machine can do without a hop
    nginx          nginx's proxy_pass adding the x-amz-access-token, upstream keep-alive: the
                   practical floor of a hop
    bare           bench.servers' bare aiohttp pass-through (one ClientSession), asyncio's loop
    bare uvloop    the same on uvloop (if installed)
    spproxy ...    a real `python -m spproxy serve --config FILE` in front of the static
                   upstream (pacing off, LWA from it too), stderr to /dev/null: log level info
                   (the access log on, as shipped) and warning (off), on asyncio's loop and on
                   uvloop (`--event-loop`, if installed)

in alternating rounds of `--saturation-round` s (the order reversed every other repetition),
`--saturation-repetitions` times; each target's figures are the medians of its rounds: req/s,
CPU per request of the proxy's process (utime + stime from /proc over the round, divided by the
requests wrk completed; nginx: master and worker, one worker), wrk's p50 and p99, and p50 at one
connection (a short run each). Ratios are throughputs, to bare and to nginx. Every target must
answer 200 to a first request, and wrk's non-2xx answers and socket errors are reported.
`--profile`: afterwards, py-spy samples spproxy (info, asyncio), then bare (asyncio), each for
two rounds' time under the same load; the top functions by own and by cumulative samples, and
the own samples by package, are reported (`bench.profile`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import HOST, PARTICIPATIONS, BenchError, Message, free_port, progress
from bench.processes import CLOCK_TICKS, Child, Children, Popen, http_get, wait_ready
from bench.profile import profile
from bench.wrk import (
    WrkResult,
    floor_conf,
    nginx_command,
    static_conf,
    tools,
    versions,
    write_conf,
    wrk,
)
from spproxy.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN

ROOT = Path(__file__).resolve().parents[1]
C1_SECONDS = 2.0
WARM_UP_S = 1.0


@dataclass(frozen=True)
class Target:
    name: str
    url: str  # where wrk sends getMarketplaceParticipations
    pid: int  # the process whose CPU (with its children's) is the target's


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--saturation-round", type=float, default=5.0, help="saturation phase: s per round"
    )
    parser.add_argument(
        "--saturation-repetitions", type=int, default=3, help="saturation phase: rounds per target"
    )
    parser.add_argument(
        "--saturation-threads", type=int, default=1, help="saturation phase: wrk's threads"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="saturation phase: py-spy samples spproxy and bare too",
    )


def problem(args: argparse.Namespace) -> str | None:
    if args.saturation_round <= 0 or args.saturation_repetitions < 1:
        return "--saturation-round must be positive, --saturation-repetitions >= 1"
    if args.saturation_threads < 1:
        return "--saturation-threads must be >= 1"
    return None


def saturation(args: argparse.Namespace, children: Children) -> Message:
    paths = tools()
    uvloop = importlib.util.find_spec("uvloop") is not None
    report: Message = {
        "round_s": args.saturation_round,
        "repetitions": args.saturation_repetitions,
        "connections": args.concurrency,
        "wrk_threads": args.saturation_threads,
        "p50_c1_run_s": C1_SECONDS,
        "uvloop": _uvloop_version() if uvloop else None,
        **versions(paths),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    earlier = (list(children.popen), list(children.spawned))  # not this phase's to stop
    with tempfile.TemporaryDirectory(prefix="spproxy-bench-saturation-") as folder:
        try:
            targets = _start(args, children, Path(folder), paths["nginx"], uvloop)
            _check(targets)
            report["targets"] = _measure(args, targets, paths["wrk"])
            if args.profile:
                report["profile"] = _profile(args, targets, paths["wrk"], folder)
        finally:
            _stop(children, *earlier)
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    _ratios(report)
    return report


def _uvloop_version() -> str:
    return importlib.metadata.version("uvloop")


def _start(
    args: argparse.Namespace, children: Children, folder: Path, nginx: str, uvloop: bool
) -> list[Target]:
    static_port, floor_port = free_port(), free_port()
    static = _nginx(children, nginx, folder / "static", static_conf(folder / "static", static_port))
    floor = _nginx(
        children, nginx, folder / "floor", floor_conf(folder / "floor", floor_port, static_port)
    )
    upstream = f"http://{HOST}:{static_port}"
    wait_ready(f"{upstream}{PARTICIPATIONS}", 15, lambda: static.poll() is None)
    wait_ready(f"http://{HOST}:{floor_port}{PARTICIPATIONS}", 15, lambda: floor.poll() is None)
    targets = [
        Target("direct", upstream, static.pid),
        Target("nginx", f"http://{HOST}:{floor_port}", floor.pid),
    ]
    loops = ("asyncio", "uvloop") if uvloop else ("asyncio",)
    for loop in loops:
        bare = children.server("bare", {"upstream": upstream, "signing": False, "event_loop": loop})
        targets.append(Target("bare" if loop == "asyncio" else "bare_uvloop", bare.url, bare.pid))
    config = folder / "spproxy.yaml"
    config.write_text(config_text(upstream))
    for loop in loops:
        for level in ("info", "warning"):
            name = f"spproxy_{level}" + ("_uvloop" if loop == "uvloop" else "")
            targets.append(_spproxy(children, name, config, level, loop))
    return targets


def config_text(upstream: str) -> str:
    """spproxy in front of the static upstream, LWA from it too; pacing off (the bench measures
    the proxy, not the usage plan)."""
    return (
        f'lwa: {{client_id: {DEMO_CLIENT_ID}, client_secret: "{DEMO_CLIENT_SECRET}", '
        f'endpoint: "{upstream}/auth/o2/token"}}\n'
        "upstream: {pacing: false}\n"
        f'accounts: {{main: {{refresh_token: "{DEMO_REFRESH_TOKEN}", region: na, '
        f'endpoint: "{upstream}"}}}}\n'
    )


def _nginx(children: Children, nginx: str, folder: Path, conf: str) -> subprocess.Popen[bytes]:
    write_conf(folder, conf)
    with open(folder / "stderr", "wb") as stderr:
        popen = subprocess.Popen(
            nginx_command(nginx, folder),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    children.popen.append(popen)  # stopped in Children.close whatever happens
    time.sleep(0.1)
    if popen.poll() is not None:
        raise BenchError(f"nginx exited {popen.returncode}: {(folder / 'stderr').read_text()}")
    return popen


def _spproxy(children: Children, name: str, config: Path, level: str, loop: str) -> Target:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPPROXY_", "SPAPI_"))}
    env["PYTHONPATH"] = str(ROOT)
    command = [
        sys.executable,
        "-m",
        "spproxy",
        "serve",
        "--config",
        str(config),
        "--port",
        str(port),
        "--log-level",
        level,
        "--event-loop",
        loop,
    ]
    popen = children.start(command, env)  # stdout and stderr (the access log) to /dev/null
    url = f"http://{HOST}:{port}"
    wait_ready(f"{url}/_spproxy/ready", 30, lambda: popen.poll() is None)
    return Target(name, url, popen.pid)


def _check(targets: list[Target]) -> None:
    for target in targets:
        status, body = http_get(target.url + PARTICIPATIONS)
        if status != 200 or b'"ATVPDKIKX0DER"' not in body:
            raise BenchError(f"{target.name} answered {status}: {body[:200]!r}")


def _stop(children: Children, popen: list[Popen], spawned: list[Child]) -> None:
    """This phase's processes stopped (SIGTERM: nginx and spproxy shut down cleanly) before its
    temporary folder goes."""
    for command in [p for p in children.popen if p not in popen]:
        children.stop_popen(command)
    children.stop(*[child for child in children.spawned if child not in spawned])


def _profile(
    args: argparse.Namespace, targets: list[Target], wrk_path: str, folder: str
) -> dict[str, Message]:
    """py-spy's view of spproxy as shipped and of bare, one after the other, under wrk's load."""
    profiles = {}
    for target in (t for t in targets if t.name in ("spproxy_info", "bare")):
        progress(args, f"saturation: py-spy samples {target.name}")

        def run(seconds: float, url: str = target.url + PARTICIPATIONS) -> WrkResult:
            return wrk(wrk_path, url, args.concurrency, args.saturation_threads, seconds)

        profiles[target.name] = profile(target.pid, run, 2 * args.saturation_round, folder)
    return profiles


def _measure(args: argparse.Namespace, targets: list[Target], wrk_path: str) -> dict[str, Message]:
    """Warm-up, the alternating rounds, then a short run at one connection per target."""
    for target in targets:  # connections opened, tokens held, code paths warm
        wrk(wrk_path, target.url + PARTICIPATIONS, args.concurrency, 1, WARM_UP_S)
    rounds: dict[str, list[Message]] = {target.name: [] for target in targets}
    for repetition in range(args.saturation_repetitions):
        progress(
            args,
            f"saturation: repetition {repetition + 1} of {args.saturation_repetitions}, "
            f"{len(targets)} targets x {args.saturation_round:g} s",
        )
        for target in targets if repetition % 2 == 0 else targets[::-1]:
            rounds[target.name].append(_round(args, wrk_path, target))
    single = {t.name: wrk(wrk_path, t.url + PARTICIPATIONS, 1, 1, C1_SECONDS) for t in targets}
    return {t.name: _summary(rounds[t.name], single[t.name]) for t in targets}


def _round(args: argparse.Namespace, wrk_path: str, target: Target) -> Message:
    began, (user_before, system_before) = time.perf_counter(), cpu_times(target.pid)
    url = target.url + PARTICIPATIONS
    result = wrk(wrk_path, url, args.concurrency, args.saturation_threads, args.saturation_round)
    user, system = cpu_times(target.pid)
    user, system = user - user_before, system - system_before
    cpu = user + system
    elapsed = time.perf_counter() - began
    requests = max(result.requests, 1)
    return {
        "rps": result.rps,
        "cpu_us_per_request": cpu / requests * 1e6,
        "user_us_per_request": user / requests * 1e6,
        "system_us_per_request": system / requests * 1e6,
        "cores_busy": cpu / elapsed,
        "wrk_cpu_us_per_request": result.cpu_s / requests * 1e6,
        "p50_us": result.p50_us,
        "p99_us": result.p99_us,
        "non_2xx": result.non_2xx,
        "socket_errors": result.socket_errors,
    }


def _summary(rounds: list[Message], single: WrkResult) -> Message:
    def median(key: str, digits: int = 1) -> float:
        return round(float(statistics.median(r[key] for r in rounds)), digits)

    return {
        "rps": median("rps", 0),
        "rps_rounds": [round(r["rps"]) for r in rounds],
        "cpu_us_per_request": median("cpu_us_per_request"),
        "cpu_us_per_request_rounds": [round(r["cpu_us_per_request"], 1) for r in rounds],
        "user_us_per_request": median("user_us_per_request"),
        "system_us_per_request": median("system_us_per_request"),
        "cores_busy": median("cores_busy", 2),
        "wrk_cpu_us_per_request": median("wrk_cpu_us_per_request"),
        "p50_us": median("p50_us"),
        "p99_us": median("p99_us"),
        "p50_c1_us": single.p50_us,
        "p99_c1_us": single.p99_us,
        "non_2xx": sum(r["non_2xx"] for r in rounds) + single.non_2xx,
        "socket_errors": sum(r["socket_errors"] for r in rounds) + single.socket_errors,
    }


def _ratios(report: Message) -> None:
    """Throughput ratios to bare and to nginx, CPU per request to bare's; the issue's goal."""
    targets = report["targets"]
    bare, floor = targets["bare"], targets["nginx"]
    for row in targets.values():
        row["ratio_to_bare"] = round(row["rps"] / bare["rps"], 3)
        row["ratio_to_nginx"] = round(row["rps"] / floor["rps"], 3)
        row["cpu_ratio_to_bare"] = round(row["cpu_us_per_request"] / bare["cpu_us_per_request"], 3)
    shipped = targets["spproxy_info"]
    report["goal"] = {
        "spproxy_info_over_bare": shipped["ratio_to_bare"],
        "cpu_per_request_over_bare": shipped["cpu_ratio_to_bare"],
        "met": shipped["ratio_to_bare"] >= 1.0 and shipped["cpu_ratio_to_bare"] <= 1.0,
    }


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of `pid` and of its children now alive (nginx: its worker)."""
    pids = [pid]
    with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{pid}/children") as children:
        pids += [int(child) for child in children.read().split()]
    user = system = 0.0
    for each in pids:
        with open(f"/proc/{each}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        user += int(fields[11]) / CLOCK_TICKS
        system += int(fields[12]) / CLOCK_TICKS
    return user, system
