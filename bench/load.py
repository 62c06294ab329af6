"""Phase `load`: throughput, latency, tokens and memory, against one set of servers.

The emulator, spproxy and bare (see bench.servers), and `--clients` load processes (default 1,
bench.loadgen) sharing `--concurrency` closed-loop workers.

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
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.common import (
    ORDERS,
    PARTICIPATIONS,
    BenchError,
    Message,
    latency_summary,
    progress,
    split,
)
from bench.loadgen import load_main
from bench.processes import (
    Child,
    Children,
    cpu_seconds,
    emulator_stats,
    receive,
    rss_mib,
    wait_ready,
)
from spproxy.headers import ACCESS_TOKEN_HEADER

LATENCY_BLOCK = 100


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
    bench.warm_up(targets)
    memory["spproxy"]["after warm-up"] = rss_mib(spproxy.pid)
    memory["bare"]["after warm-up"] = rss_mib(bare.pid)
    bench.throughput(targets)
    report["throughput"] = throughput_report(targets, args)
    bench.latency(targets)
    report["latency"] = latency_report(targets)
    time.sleep(1.0)  # idle again
    memory["spproxy"]["after load"] = rss_mib(spproxy.pid)
    memory["bare"]["after load"] = rss_mib(bare.pid)
    report["memory_mib"] = memory
    report["tokens"] = tokens_report(targets, baseline, emulator_stats(emulator))
    spproxy.conn.send({"cmd": "modules"})
    botocore = receive(spproxy, 5)["botocore"]
    report.setdefault("startup", {})["botocore_in_bench_spproxy_process"] = botocore
    report["errors"] = {
        name: dict(target.other) for name, target in targets.items() if target.other
    }
    children.stop(*loaders, spproxy, bare, emulator)


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

    def warm_up(self, targets: Mapping[str, Target]) -> None:
        progress(self.args, "warm-up")
        for name in ("spproxy", "bare"):
            self.throughput_round(targets[name], 1.0, measured=False)
        for target in targets.values():
            self.latency_block(target, LATENCY_BLOCK)

    def throughput(self, targets: Mapping[str, Target]) -> None:
        """Rounds of `--round` s, alternating spproxy and bare in ABBA order."""
        args = self.args
        rounds = max(2, round(args.seconds / (2 * args.round)))
        progress(args, f"throughput: {rounds} rounds of {args.round:g} s per proxy, alternating")
        for i in range(rounds):
            order = ("spproxy", "bare") if i % 4 in (0, 3) else ("bare", "spproxy")  # ABBA
            for name in order:
                self.throughput_round(targets[name], args.round, measured=True)

    def latency(self, targets: Mapping[str, Target]) -> None:
        """Blocks of LATENCY_BLOCK sequential requests, rotating direct, bare and spproxy."""
        progress(self.args, f"latency: {self.args.latency_requests} sequential requests per target")
        blocks = max(1, round(self.args.latency_requests / LATENCY_BLOCK))
        for target in targets.values():
            target.latency_us.clear()
        rotation = ["direct", "bare", "spproxy"]
        for i in range(blocks):
            for name in rotation[i % 3 :] + rotation[: i % 3]:
                self.latency_block(targets[name], LATENCY_BLOCK)


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
        out[name] = latency_summary(samples)
    for name in ("bare", "spproxy"):
        out[f"{name}_added"] = {
            "p50_us": round(out[name]["p50_us"] - out["direct"]["p50_us"], 1),
            "p99_us": round(out[name]["p99_us"] - out["direct"]["p99_us"], 1),
        }
    return out


def tokens_report(targets: Mapping[str, Target], baseline: Message, final: Message) -> Message:
    forwarded = targets["spproxy"].sent
    exchanges = final["lwa_exchanges_total"] - baseline["lwa_exchanges_total"]
    received = final["requests"] - baseline["requests"]
    return {
        "spproxy_lwa_exchanges": exchanges,
        "spproxy_requests_forwarded": forwarded,
        "exchanges_per_request": exchanges / forwarded if forwarded else None,
        "emulator_requests_received_since_spproxy_start": received,
        "of_which_from_bare_and_direct": targets["bare"].sent + targets["direct"].sent,
    }
