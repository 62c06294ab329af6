"""Phase `rdt`: RDT mints per 1,000 restricted calls, with bundling and without.

With bundling (`bundle_limit` 50, as spproxy ships) and without (1). In a process of its own:
the emulator on loopback, and spproxy built by `Proxy.build` (credentials, RDT cache, the real
TokensApi through Upstream) on a fake clock, `Proxy.build(config, clock=...)`, that
advances `--rdt-step` (36 s) before each of `--rdt-calls` (1000) calls, so they span 10 hours of
RDTs that live an hour (the emulator's expiresIn) and are renewed 300 s ahead. The calls cycle
getOrder, getOrderAddress, getOrderBuyerInfo, getOrderItems and MFN getShipment, alternating ids
that exist with made-up ones (404, after Amazon accepted the RDT), and are sent to the emulator
with the RDT chosen. Pacing is off there (the calls run in under a second of real time).
Reported: Amazon's mints (`/_emulator/stats` rdt_mints), per 1,000 calls and per simulated hour,
resources per mint, and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import signal
import statistics
import time
from collections import Counter
from functools import partial
from multiprocessing.connection import Connection

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from bench.common import HOST, KNOWN_ORDER_IDS, Message
from bench.processes import Children, receive
from bench.servers import without_pacing

# Restricted operations called in turn ({order} and {shipment} vary by call).
RDT_OPERATIONS = (
    ("getOrder", "/orders/v0/orders/{order}"),
    ("getOrderAddress", "/orders/v0/orders/{order}/address"),
    ("getOrderBuyerInfo", "/orders/v0/orders/{order}/buyerInfo"),
    ("getOrderItems", "/orders/v0/orders/{order}/orderItems"),
    ("getShipment (MFN)", "/mfn/v0/shipments/{shipment}"),
)
RDT_BUNDLE_LIMIT = 50  # spproxy's default (make_app's rdt_bundle_limit); 1 is no bundling
RDT_TIME_LIMIT_S = 120.0
FAKE_CLOCK_START = 1_750_000_000.0


def rdt(args: argparse.Namespace, children: Children) -> Message:
    """RDT mints per 1,000 restricted calls, bundled and not (see `_rdt_run`)."""
    from spproxy.emulator import EmulatorConfig
    from spproxy.rdt import RestrictedDataTokens

    child = children.spawn(
        "bench-rdt", rdt_main, ({"calls": args.rdt_calls, "step_s": args.rdt_step},)
    )
    result = receive(child, RDT_TIME_LIMIT_S + 30)
    children.stop(child)
    per_1000 = 1000 / args.rdt_calls
    simulated_h = args.rdt_calls * args.rdt_step / 3600
    out: Message = {
        "calls": args.rdt_calls,
        "fake_clock_step_s": args.rdt_step,
        "simulated_hours": round(simulated_h, 2),
        "operations": [name for name, _ in RDT_OPERATIONS],
        "rdt_expires_in_s": EmulatorConfig().token_ttl_s,
        "spproxy_refresh_ahead_s": inspect.signature(RestrictedDataTokens)
        .parameters["refresh_ahead_s"]
        .default,
    }
    for name in ("bundled", "unbundled"):
        run_ = result[name]
        mints = run_["amazon_rdt_mints"]
        out[name] = {
            **run_,
            "mints_per_1000_calls": round(mints * per_1000, 1),
            "mints_per_simulated_hour": round(mints / simulated_h, 2),
            "resources_per_mint_mean": None
            if run_["resources_per_mint_mean"] is None
            else round(run_["resources_per_mint_mean"], 2),
            "real_s": round(run_["real_s"], 2),
        }
    bundled = out["bundled"]["amazon_rdt_mints"]
    unbundled = out["unbundled"]["amazon_rdt_mints"]
    out["ratio_unbundled_over_bundled"] = round(unbundled / bundled, 2) if bundled else None
    return out


def rdt_main(options: Message, conn: Connection, parent_pid: int) -> None:
    """Entry point of the RDT process: measures, sends the result, exits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    result = asyncio.run(asyncio.wait_for(_rdt_measure(options), RDT_TIME_LIMIT_S))
    if os.getppid() == parent_pid:
        conn.send(result)


async def _rdt_measure(options: Message) -> Message:
    """Both runs (bundled, unbundled) against one emulator served on loopback."""
    from spproxy.emulator import STATE_KEY, make_emulator_app

    app = make_emulator_app()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, 0).start()
        url = f"http://{HOST}:{runner.addresses[0][1]}"
        out: Message = {}
        for name, limit in (("bundled", RDT_BUNDLE_LIMIT), ("unbundled", 1)):
            mints_before = len(app[STATE_KEY].rdt_mints)
            out[name] = await _rdt_run(url, limit, options["calls"], options["step_s"])
            bundles = [len(m.restricted_resources) for m in app[STATE_KEY].rdt_mints[mints_before:]]
            out[name]["resources_per_mint_mean"] = statistics.fmean(bundles) if bundles else None
        return out
    finally:
        await runner.cleanup()


def _rdt_path(i: int) -> str:
    """The i-th call's path: the operations in turn; ids that exist in one round of them, made-up
    ones (404, after Amazon accepted the RDT) in the next."""
    from spproxy.emulator.fixtures import MFN_SHIPMENT_ID

    round_, k = divmod(i, len(RDT_OPERATIONS))
    known = round_ % 2 == 0
    order = KNOWN_ORDER_IDS[round_ % len(KNOWN_ORDER_IDS)] if known else f"902-0000000-{i:07d}"
    shipment = MFN_SHIPMENT_ID if known else f"00000000-0000-4000-8000-{i:012d}"
    return RDT_OPERATIONS[k][1].format(order=order, shipment=shipment)


async def _rdt_run(url: str, bundle_limit: int, calls: int, step_s: float) -> Message:
    """`calls` restricted calls through spproxy as `Proxy.build` wires it, on a fake clock that
    advances `step_s` before each; the request path of spproxy.app reduced to its credential
    steps: choose, send, and on a refusal renew and send once more.

    Pacing is off: the calls run in a few real seconds, which the SP-API usage plans (0.5/s for
    getOrder) would otherwise stretch to hours. The emulator checks expiry on its wall clock, on
    which every RDT is fresh; what it counts is the mints.
    """
    from spproxy.demo import demo_config
    from spproxy.proxy import Proxy
    from spproxy.target import parse_target
    from spproxy.wire import UpstreamRequest

    now = [FAKE_CLOCK_START]
    config = without_pacing(demo_config(url, port=0))
    account = config.default_account
    no_headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
    statuses: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    async with aiohttp.ClientSession() as stats_session:
        before = await _amazon_stats(stats_session, url)
        proxy = Proxy.build(config, rdt_bundle_limit=bundle_limit, clock=lambda: now[0])
        credentials, upstream = proxy.credentials, proxy.upstream
        started = time.perf_counter()
        for i in range(calls):
            now[0] += step_s
            target = parse_target("GET", _rdt_path(i))
            operation = proxy.table.classify("GET", target.path)
            credential = await credentials.choose(account, operation, target, no_headers)
            credential, answer = await upstream.send_renewing(
                UpstreamRequest(account, operation, "GET", target, no_headers),
                credential,
                token=lambda c: c.token,
                renew=partial(credentials.after_refusal, account),
            )
            statuses[str(answer.response.status)] += 1
            kinds[credential.kind] += 1
            answer.response.release()
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.2)  # a refresh started in the background by the last calls lands
        after = await _amazon_stats(stats_session, url)
        spproxy_mints = proxy.rdts.mints
        await proxy.aclose()
    return {
        "bundle_limit": bundle_limit,
        "calls": calls,
        "amazon_rdt_mints": after["rdt_mints"] - before["rdt_mints"],
        "spproxy_rdt_mints": spproxy_mints,
        "statuses": dict(sorted(statuses.items())),
        "credentials": dict(sorted(kinds.items())),
        "real_s": elapsed,
    }


async def _amazon_stats(session: aiohttp.ClientSession, url: str) -> Message:
    async with session.get(f"{url}/_emulator/stats") as response:
        stats: Message = await response.json()
    return stats
