"""Phase `soak` (only with `--only soak` or `--soak`): whether spproxy's memory and
/_spproxy/status stay bounded when it meets many distinct restricted report documents, each of
which needs an RDT minted for its own path (so each is a cache entry of its own).

A fresh emulator (rate limits off) and a fresh spproxy (pacing off: the Tokens API's plan is
1/s, and 20,000 paced mints would take hours), built like the load phases'. One load process
sends `--soak-documents` (20,000) GET /reports/2021-06-30/documents/{id} with distinct made-up
ids and `x-spproxy-report-type: GET_ORDER_REPORT_DATA_SHIPPING` (a restricted type), spread
evenly over `--soak-seconds` (180; at most 8 in flight), while `--soak-concurrency` (8)
closed-loop workers send getMarketplaceParticipations, getOrders, getOrder and getOrderAddress
in turn (orders alternating between existing ids and made-up ones, each used once), until the
time is up and every document is sent (nothing is sent after 2 x --soak-seconds + 60 s). Amazon
answers each document 404 (no such document) after accepting the RDT minted for it; the
answer's `x-spproxy-credential: rdt-minted` and Amazon's mint count show that every document
cost a mint. Every second the bench reads spproxy's VmRSS and Amazon's mint count, every 5 s it
GETs /_spproxy/status (size, and time to its last byte, under load). Warm-up ends with the first
10% of the documents minted (or 10% of the time, whichever comes first).

Reported: requests and answers by operation, documents answered rdt-minted, mints (Amazon's and
spproxy's own count), client latency; RSS at the start, at the end of warm-up, its peak after
warm-up and at the end (idle), the growth after warm-up, and over the second half of the soak
(bounded but large, or still growing?); /_spproxy/status's size at the start, its peak and at
the end, the time to serve it idle at the end (median of 5) and its slowest under load, what it
says of RDTs (numbers and list lengths under keys naming rdt or restricted),
RestrictedDataTokens' parameter defaults; a timeline; and a PASS/FAIL line for each goal: RSS
growth after warm-up (its peak) <= 5 MiB, /_spproxy/status <= 64 KiB throughout. It reports
whatever the figures are; it asserts nothing (the exit status is 0 either way).
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bench.common import BenchError, Message, progress
from bench.loadgen import SOAK_DOCUMENT_WORKERS, SOAK_REPORT_TYPE, load_main
from bench.processes import Child, Children, amazon_stats, http_get, receive, rss_mib, wait_ready

SOAK_SAMPLE_S = 1.0  # spproxy's VmRSS and Amazon's mint count, this often
SOAK_STATUS_EVERY_S = 5.0  # GET /_spproxy/status under load, this often
SOAK_WARM_UP_FRACTION = 0.1  # of the documents (or of the time, whichever comes first)
SOAK_RSS_GOAL_MIB = 5.0  # growth after warm-up
SOAK_STATUS_GOAL_BYTES = 64 * 1024


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
    watch = Watch(args, rss_start, status_start=len(body))
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
    watch.until_done(children, loader, spproxy, emulator, before)
    traffic = receive(loader, 5.0)
    children.check()
    time.sleep(1.0)  # idle again
    end = watch.at_the_end(spproxy)
    after = amazon_stats(emulator)
    end["emulator_rss_mib"] = rss_mib(emulator.pid)["VmRSS"]
    children.stop(loader, spproxy, emulator)
    return figures(args, watch, traffic, end, after["rdt_mints"] - before["rdt_mints"])


@dataclass
class Watch:
    """What the bench sees of spproxy during the soak: VmRSS each second, /_spproxy/status every
    SOAK_STATUS_EVERY_S, the end of warm-up."""

    args: argparse.Namespace
    rss_start: dict[str, float]
    status_start: int
    began: float = field(default_factory=time.monotonic)
    rss: list[tuple[float, float]] = field(default_factory=list)  # (s since the start, MiB)
    timeline: list[Message] = field(default_factory=list)
    warm: Message | None = None
    peak_status: Message = field(default_factory=dict)
    slowest_status: Message = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.peak_status = {"bytes": self.status_start, "at_s": 0.0}
        self.slowest_status = {"ms": 0.0, "at_s": 0.0, "bytes": self.status_start}

    @property
    def warm_up_documents(self) -> int:
        documents: int = self.args.soak_documents
        return max(1, math.ceil(documents * SOAK_WARM_UP_FRACTION))

    @property
    def warm_up_s(self) -> float:
        return float(self.args.soak_seconds * SOAK_WARM_UP_FRACTION)

    def until_done(
        self, children: Children, loader: Child, spproxy: Child, emulator: Child, before: Message
    ) -> None:
        """Sample until the load process answers (its traffic done)."""
        max_s = soak_max_seconds(self.args)
        self.began = time.monotonic()
        next_status = self.began + SOAK_STATUS_EVERY_S
        next_progress = self.began + 30.0
        while not loader.conn.poll(SOAK_SAMPLE_S):
            children.check()
            now = time.monotonic()
            t = now - self.began
            if t > max_s + 60:
                raise BenchError(f"the soak's load did not finish within {max_s + 60:g} s")
            memory = rss_mib(spproxy.pid)["VmRSS"]
            mints = amazon_stats(emulator)["rdt_mints"] - before["rdt_mints"]
            self.rss.append((t, memory))
            if self.warm is None and (mints >= self.warm_up_documents or t >= self.warm_up_s):
                self.warm = {"at_s": round(t, 1), "amazon_rdt_mints": mints, "rss_mib": memory}
            if now >= next_status:
                next_status += SOAK_STATUS_EVERY_S
                self.status_sample(spproxy, t, mints, memory)
            if now >= next_progress:
                next_progress += 30.0
                progress(
                    self.args,
                    f"soak: {t:.0f} s, {mints:,} RDTs minted, spproxy RSS {memory:.1f} MiB, "
                    f"/_spproxy/status {self.peak_status['bytes']:,} bytes at most so far",
                )

    def status_sample(self, spproxy: Child, t: float, mints: int, memory: float) -> None:
        body, ms = status_get(spproxy.url)
        if len(body) > self.peak_status["bytes"]:
            self.peak_status = {"bytes": len(body), "at_s": round(t, 1)}
        if ms > self.slowest_status["ms"]:
            self.slowest_status = {"ms": round(ms, 1), "at_s": round(t, 1), "bytes": len(body)}
        sample = {"t_s": round(t, 1), "amazon_rdt_mints": mints, "rss_mib": memory}
        self.timeline.append({**sample, "status_bytes": len(body), "status_ms": round(ms, 1)})

    def at_the_end(self, spproxy: Child) -> Message:
        """spproxy idle at the end: its memory, /_spproxy/status (5 times) and what it says."""
        memory = rss_mib(spproxy.pid)
        idle_ms = []
        for _ in range(5):
            body, ms = status_get(spproxy.url)
            idle_ms.append(ms)
        if len(body) > self.peak_status["bytes"]:
            self.peak_status = {"bytes": len(body), "at_s": round(time.monotonic() - self.began, 1)}
        dumps_ms = []
        parsed = json.loads(body)
        for _ in range(3):
            started = time.perf_counter()
            json.dumps(parsed)
            dumps_ms.append((time.perf_counter() - started) * 1000)
        return {
            "rss": memory,
            "status_body": body,
            "status_idle_ms": idle_ms,
            "bench_json_dumps_ms": dumps_ms,
            "spproxy_rdt_mints": parsed.get("rdt_mints") if isinstance(parsed, dict) else None,
        }


def figures(
    args: argparse.Namespace, watch: Watch, traffic: Message, end: Message, amazon_mints: int
) -> Message:
    """The soak's report, from what the load process and the watch saw."""
    warm = watch.warm
    if warm is None:  # the load ended before the first sample: no growth to tell
        warm = {"at_s": None, "amazon_rdt_mints": None, "rss_mib": watch.rss_start["VmRSS"]}
    memory_end, body = end["rss"], end["status_body"]
    after_warm = [m for t, m in watch.rss if warm["at_s"] is not None and t >= warm["at_s"]]
    peak_after = max([*after_warm, memory_end["VmRSS"]])
    growth_peak = round(peak_after - warm["rss_mib"], 1)
    growth_end = round(memory_end["VmRSS"] - warm["rss_mib"], 1)
    # Bounded but large, or still growing? The growth over the second half of the soak.
    second_half = [m for t, m in watch.rss if t >= args.soak_seconds / 2]
    half = second_half[0] if second_half else memory_end["VmRSS"]
    growth_second_half = round(max([*second_half, memory_end["VmRSS"]]) - half, 1)
    documents_minted = traffic["document_credentials"].get("rdt-minted", 0)
    peak_status = watch.peak_status
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
        "spproxy_rdt_mints": end["spproxy_rdt_mints"],
        "every_document_minted": documents_minted == args.soak_documents
        and amazon_mints >= args.soak_documents,
        "warm_up": {
            "documents": watch.warm_up_documents,
            "or_seconds": round(watch.warm_up_s, 1),
            **warm,
        },
        "rss_mib": {
            "start": watch.rss_start["VmRSS"],
            "warm_up": warm["rss_mib"],
            "peak_after_warm_up": peak_after,
            "half_time": half,
            "end_idle": memory_end["VmRSS"],
            "vmhwm_end": memory_end["VmHWM"],
        },
        "rss_growth_after_warm_up_mib": {"peak": growth_peak, "end": growth_end},
        "rss_growth_second_half_mib": growth_second_half,
        "status": {
            "start_bytes": watch.status_start,
            "peak_bytes": peak_status["bytes"],
            "peak_at_s": peak_status["at_s"],
            "end_bytes": len(body),
            "end_ms_idle_median": round(statistics.median(end["status_idle_ms"]), 2),
            "slowest_under_load": watch.slowest_status,
            "bench_json_dumps_ms": round(statistics.median(end["bench_json_dumps_ms"]), 2),
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
        "emulator_rss_mib_end": end["emulator_rss_mib"],
        "timeline": watch.timeline,
    }


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
