"""Phase `quota`: Amazon-side 429s per 1,000 over-quota calls, spproxy against plain forwarding.

A fresh emulator with `EmulatorConfig(rate_limits=True)` and getInventorySummaries' plan
overridden to `--quota-rate`/`--quota-burst` (100/s burst 10; the model says 2/s burst 2), a
fresh spproxy with pacing on as it ships (`UpstreamConfig` defaults: queue_timeout_s 30, 3
retries) and a fresh bare (no pacing, no retries). The same `--quota-calls` (1000) calls,
`--quota-concurrency` (20) at a time, as fast as each lets them: spproxy cold, bare, then
spproxy again (warm: the rate already learned). All share the seller, hence Amazon's bucket,
which is full at each start. Reported: Amazon's 429s (`/_emulator/stats` quota_refusals and
by_status, deltas) and requests received, what the client saw (200, 429 relayed from Amazon,
429 made by spproxy, other), elapsed time and client latency. Cold, spproxy paces by the model's
plan until an answer's `x-amzn-RateLimit-Limit` says 100/s; calls that queued before that are
planned again at the learned rate, in order (spproxy/ratelimit.py), so they neither wait out the
model's slots (up to ~9 s) nor go out on top of the learned rate and draw Amazon's 429s, as they
did before. Held longer than the learned rate explains, a call points at a machine too busy to
keep time (a stalled event loop sends overdue calls at once).
"""

from __future__ import annotations

import argparse
import json
import time

from bench.common import BenchError, Message
from bench.loadgen import load_main
from bench.processes import Child, Children, amazon_stats, http_get, receive, wait_ready

# An operation whose plan the emulator enforces, overridden to a fast one.
QUOTA_OPERATION = "getInventorySummaries"
QUOTA_PATH = (
    "/fba/inventory/v1/summaries?granularityType=Marketplace&granularityId=ATVPDKIKX0DER"
    "&marketplaceIds=ATVPDKIKX0DER"
)


def quota(args: argparse.Namespace, children: Children) -> Message:
    """The same over-quota calls through spproxy (pacing on) and bare; Amazon's 429s for each."""
    from spproxy.operations import load_table

    plan = (args.quota_rate, args.quota_burst)
    emulator = children.server(
        "emulator", {"signing": args.signing, "usage_plans": {QUOTA_OPERATION: plan}}
    )
    spproxy = children.server(
        "spproxy",
        {"upstream": emulator.url, "signing": args.signing, "access_log": False, "paced": True},
    )
    bare = children.server("bare", {"upstream": emulator.url, "signing": args.signing})
    loader = children.spawn("bench-quota-load", load_main, ())
    wait_ready(f"{spproxy.url}/_spproxy/ready", 15.0)
    model = load_table().classify("GET", QUOTA_PATH.partition("?")[0])
    if model is None or model.name != QUOTA_OPERATION:
        raise BenchError(f"spproxy does not classify {QUOTA_PATH} as {QUOTA_OPERATION}")
    out: Message = {
        "operation": QUOTA_OPERATION,
        "amazon_plan": {"rate": plan[0], "burst": plan[1]},
        "spproxy_model_plan": {"rate": model.rate, "burst": model.burst},
        "calls": args.quota_calls,
        "concurrency": args.quota_concurrency,
    }
    # spproxy first, from a cold bucket (what a fresh spproxy does on first contact: the model's
    # plan until Amazon's header tells the rate), then bare, then the same spproxy again, its
    # rate learned. All share a selling partner, hence Amazon's bucket: each starts it full.
    runs = (("spproxy", spproxy), ("bare", bare), ("spproxy_warm", spproxy))
    for name, child in runs:
        time.sleep(plan[1] / plan[0] + 0.2)  # Amazon's bucket full again
        out[name] = _quota_run(args, children, emulator, loader, child)
    learned = _learned_bucket(spproxy)
    if learned is not None:
        out["spproxy"]["bucket_after"] = learned
    children.stop(loader, spproxy, bare, emulator)
    return out


def _quota_run(
    args: argparse.Namespace, children: Children, emulator: Child, loader: Child, proxy: Child
) -> Message:
    """`--quota-calls` calls through `proxy`; what the client saw and what Amazon counted."""
    before = amazon_stats(emulator)
    loader.conn.send(
        {
            "cmd": "calls",
            "base": proxy.url,
            "paths": [QUOTA_PATH],
            "headers": {},
            "n": args.quota_calls,
            "concurrency": args.quota_concurrency,
        }
    )
    result = receive(loader, 3 * args.quota_calls / args.quota_rate + 120)
    children.check()
    after = amazon_stats(emulator)
    refused = after["quota_refusals"] - before["quota_refusals"]
    received = after["requests"] - before["requests"]
    by_status = {
        status: count - before["by_status"].get(status, 0)
        for status, count in after["by_status"].items()
        if count != before["by_status"].get(status, 0)
    }
    per_1000 = 1000 / args.quota_calls
    return {
        "elapsed_s": round(result["elapsed_s"], 2),
        "client_outcomes": result["outcomes"],
        "client_latency_ms": {
            k: None if v is None else round(v, 1) for k, v in result["latency_ms"].items()
        },
        "amazon_received": received,
        "amazon_by_status": by_status,
        "amazon_429": refused,
        "amazon_429_per_1000_calls": round(refused * per_1000, 1),
        "amazon_requests_per_1000_calls": round(received * per_1000, 1),
        "amazon_received_per_s": round(received / result["elapsed_s"], 1),
    }


def _learned_bucket(spproxy: Child) -> Message | None:
    """spproxy's bucket for the operation (from /_spproxy/status): its rate and burst."""
    status, body = http_get(f"{spproxy.url}/_spproxy/status")
    if status != 200:
        return None
    buckets = [b for b in json.loads(body)["buckets"] if b["operation"].startswith(QUOTA_OPERATION)]
    if not buckets:
        return None
    return {"rate": buckets[0]["rate"], "burst": buckets[0]["burst"]}
