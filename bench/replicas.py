"""Phase `replicas` (only with `--only replicas`; about a minute): replicas sharing a seller's
quota and tokens through Redis (issue 12), against replicas that share nothing.

Its own `redis-server` (or `valkey-server`) from PATH on a free loopback port, nothing on disk,
stopped at the end; with neither on PATH the phase reports "skipped: no redis-server". One
emulator with Amazon's usage plans enforced: getInventorySummaries at `--quota-rate` /
`--quota-burst` (100/s burst 10; the model says 2/s burst 2), getMarketplaceParticipations at a
plan nothing here reaches (FAST_PLAN; spproxy learns it from the first answer's
`x-amzn-RateLimit-Limit`). Every spproxy paces, as it ships.

1. Quota and tokens. Three configurations in turn, each of fresh spproxy processes
   (bench.servers, started at once, so that they ask for their tokens at once), each against
   Amazon's bucket full again: 1 replica in memory, 3 in memory, 3 sharing the Redis (emptied
   first). Cold, RESTRICTED_PER_REPLICA getOrderAddress calls for one order through each
   replica, all at once (one RDT key); then `--quota-calls` (1000) getInventorySummaries calls,
   `--quota-concurrency` (20) in flight, round-robin over the replicas. Reported: Amazon's 429s
   (`/_emulator/stats` quota_refusals) per 1,000 calls, what the client saw (200, 429 relayed
   from Amazon, 429 made by spproxy), elapsed time, and the LWA exchanges and RDT mints the
   emulator counted from the replicas' start (their start-up exchange included), and whether
   each replica's shared state stayed up. Goal: 3 replicas on Redis draw no more Amazon 429s
   than one replica, with one exchange and one mint in all.
2. Latency. One spproxy in memory and one on the Redis (both pacing: the shared bucket is what
   Redis adds to the hot path), getMarketplaceParticipations at concurrency 1, after a warm-up,
   `--latency-requests` (2000) each in blocks of 100 alternating; p50/p99, what Redis adds, and
   each spproxy's CPU per request. Then one more block, untimed, with Redis's `MONITOR` on: the
   round trips per request (the commands spproxy sent, apart from those its scripts ran). For
   scale, the bench's own PING and the bucket script (sharedlimit.SCRIPT) run from the bench by
   redis-py's asyncio client. Goal: one round trip, at most ADDED_P50_GOAL_MS added at p50.
3. Throughput. Real `spproxy serve --workers 1` and `--workers 2` (a config file: pacing on,
   state on the Redis), getMarketplaceParticipations, `--concurrency` (32) closed-loop workers
   from `--clients` load processes, THROUGHPUT_ROUNDS rounds of `--round` s each in ABBA order;
   requests/s, the ratio, the CPU each serve (parent and workers), Redis, the emulator and the
   load spent per request, and Redis's commands per request (`INFO commandstats`: those its
   scripts ran included).
   The load generator, the emulator, Redis and the workers share the machine's cores: on two,
   a second worker has little to gain.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import (
    HOST,
    KNOWN_ORDER_IDS,
    PARTICIPATIONS,
    BenchError,
    Message,
    free_port,
    latency_summary,
    percentile,
    progress,
)
from bench.load import LATENCY_BLOCK, Bench, Target
from bench.loadgen import load_main
from bench.processes import (
    Child,
    Children,
    Popen,
    amazon_stats,
    cpu_seconds,
    http_get,
    receive,
    tree_cpu_seconds,
    wait_ready,
)
from bench.quota import QUOTA_OPERATION, QUOTA_PATH

if TYPE_CHECKING:
    import redis

ROOT = Path(__file__).resolve().parents[1]
REPLICAS = 3
# (report key, replicas, on Redis)
CONFIGURATIONS = (
    ("memory_1", 1, False),
    ("memory_3", REPLICAS, False),
    ("redis_3", REPLICAS, True),
)
RESTRICTED_PER_REPLICA = 3
ADDRESS = f"/orders/v0/orders/{KNOWN_ORDER_IDS[0]}/address"  # restricted: an RDT for this path
FAST_OPERATION = "getMarketplaceParticipations"
FAST_PLAN = (100_000.0, 1000)  # Amazon's plan for the latency and throughput parts: never reached
ADDED_P50_GOAL_MS = 0.3
THROUGHPUT_ROUNDS = 4  # per serve, ABBA
REDIS_START_S = 10.0
PING_SAMPLES = 500


def replicas(args: argparse.Namespace, children: Children) -> Message:
    """The three parts (see the module docstring) against a Redis of the phase's own."""
    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if binary is None:
        return {"skipped": "no redis-server"}
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as folder:
        url, server = start_redis(children, binary, Path(folder))
        try:
            return _measure(args, children, url, server, Path(folder))
        finally:
            children.stop_popen(server)


def start_redis(children: Children, binary: str, folder: Path) -> tuple[str, Popen]:
    """redis-server on a free loopback port, persisting nothing; its URL once it answers PING."""
    import redis

    port = free_port()
    command = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    server = children.start([*command, "--dir", str(folder)])
    url = f"redis://{HOST}:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    deadline = time.monotonic() + REDIS_START_S
    try:
        while True:
            try:
                client.ping()
                return url, server
            except redis.ConnectionError:
                if server.poll() is not None:
                    raise BenchError(f"{binary} exited with {server.returncode}") from None
                if time.monotonic() > deadline:
                    raise BenchError(
                        f"{binary} did not answer within {REDIS_START_S:g} s"
                    ) from None
                time.sleep(0.05)
    finally:
        client.close()


def _measure(
    args: argparse.Namespace, children: Children, url: str, server: Popen, folder: Path
) -> Message:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    state = {"url": url, "key": base64.b64encode(os.urandom(32)).decode()}
    plans = {QUOTA_OPERATION: (args.quota_rate, args.quota_burst), FAST_OPERATION: FAST_PLAN}
    emulator = children.server("emulator", {"signing": args.signing, "usage_plans": plans})
    loaders = [
        children.spawn(f"bench-replicas-load{i}", load_main, ()) for i in range(args.clients)
    ]
    out: Message = {
        "redis": {
            "version": client.info("server")["redis_version"],
            "ping_us": _ping_us(client),
        },
        "amazon_plan": {"rate": args.quota_rate, "burst": args.quota_burst},
        "operation": QUOTA_OPERATION,
        "calls": args.quota_calls,
        "concurrency": args.quota_concurrency,
        "restricted_calls_per_replica": RESTRICTED_PER_REPLICA,
    }
    try:
        for name, count, shared in CONFIGURATIONS:
            where = "on Redis" if shared else "in memory"
            progress(
                args,
                f"replicas: {count} spproxy {where}, {count * RESTRICTED_PER_REPLICA} restricted "
                f"calls, then {args.quota_calls} over-quota calls",
            )
            out[name] = _quota_configuration(
                args, children, emulator, loaders[0], client, state if shared else None, count
            )
        progress(
            args, f"replicas: latency, {args.latency_requests} sequential requests, memory/Redis"
        )
        client.flushdb()
        out["latency"] = _latency(args, children, emulator, loaders, client, state)
        progress(args, "replicas: throughput, spproxy serve --workers 1 and 2 on Redis")
        client.flushdb()
        out["throughput"] = _throughput(
            args, children, emulator, loaders, client, state, server, folder
        )
    finally:
        client.close()
    children.stop(*loaders, emulator)
    out["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return out


def _quota_configuration(
    args: argparse.Namespace,
    children: Children,
    emulator: Child,
    loader: Child,
    client: redis.Redis,
    state: Message | None,
    count: int,
) -> Message:
    """`count` fresh replicas (sharing `state` if given): restricted calls, then over-quota ones."""
    if state is not None:
        client.flushdb()
    time.sleep(args.quota_burst / args.quota_rate + 0.2)  # Amazon's bucket full again
    before = amazon_stats(emulator)
    options: Message = {
        "upstream": emulator.url,
        "signing": args.signing,
        "access_log": False,
        "paced": True,
    }
    if state is not None:
        options["state"] = state
    proxies = children.servers("spproxy", [options] * count)
    for proxy in proxies:
        wait_ready(f"{proxy.url}/_spproxy/ready", 15.0)
    bases = [proxy.url for proxy in proxies]
    restricted_calls = RESTRICTED_PER_REPLICA * count
    restricted = _calls(loader, bases, ADDRESS, restricted_calls, restricted_calls)
    children.check()
    minted = amazon_stats(emulator)
    quota = _calls(loader, bases, QUOTA_PATH, args.quota_calls, args.quota_concurrency)
    children.check()
    after = amazon_stats(emulator)
    shared_states = [_shared_state(proxy) for proxy in proxies]
    children.stop(*proxies)
    refused = after["quota_refusals"] - minted["quota_refusals"]
    received = after["requests"] - minted["requests"]
    per_1000 = 1000 / args.quota_calls
    exchanges = _total(after["lwa_exchanges"]) - _total(before["lwa_exchanges"])
    return {
        "replicas": count,
        "state": "redis" if state is not None else "memory",
        "elapsed_s": round(quota["elapsed_s"], 2),
        "client_outcomes": quota["outcomes"],
        "client_latency_ms": {
            k: None if v is None else round(v, 1) for k, v in quota["latency_ms"].items()
        },
        "amazon_received": received,
        "amazon_429": refused,
        "amazon_429_per_1000_calls": round(refused * per_1000, 1),
        "spproxy_429": quota["outcomes"].get("429 from spproxy", 0),
        "spproxy_429_per_1000_calls": round(
            quota["outcomes"].get("429 from spproxy", 0) * per_1000, 1
        ),
        "lwa_exchanges": exchanges,
        "rdt_mints": after["rdt_mints"] - before["rdt_mints"],
        "rdt_mints_restricted_calls": minted["rdt_mints"] - before["rdt_mints"],
        "restricted_outcomes": restricted["outcomes"],
        "restricted_amazon_429": minted["quota_refusals"] - before["quota_refusals"],
        "shared_state": shared_states,
    }


def _calls(loader: Child, bases: list[str], path: str, n: int, concurrency: int) -> Message:
    """`n` calls of `path`, `concurrency` at a time, round-robin over `bases`."""
    loader.conn.send(
        {
            "cmd": "calls",
            "base": bases[0],
            "bases": bases,
            "paths": [path],
            "headers": {},
            "n": n,
            "concurrency": concurrency,
        }
    )
    return receive(loader, 300)


def _total(counts: Message) -> int:
    return sum(int(n) for n in counts.values())


def _shared_state(proxy: Child) -> Message:
    """The replica's /_spproxy/status shared_state (backend, up, calls Redis failed)."""
    status, body = http_get(f"{proxy.url}/_spproxy/status")
    if status != 200:
        return {"status": status}
    shared: Message = json.loads(body)["shared_state"]
    return {k: shared[k] for k in ("backend", "up", "unavailable_calls") if k in shared}


def _ping_us(client: redis.Redis) -> Message:
    """The bench's own PING round trips to the Redis (redis-py, synchronous), p50 and p99."""
    client.ping()
    samples = []
    for _ in range(PING_SAMPLES):
        started = time.perf_counter_ns()
        client.ping()
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return {"p50": round(percentile(samples, 0.5), 1), "p99": round(percentile(samples, 0.99), 1)}


def _commands(client: redis.Redis) -> Counter[str]:
    """Redis's command counts so far (INFO commandstats), INFO itself left out."""
    stats = client.info("commandstats")
    return Counter(
        {
            name.removeprefix("cmdstat_"): int(values["calls"])
            for name, values in stats.items()
            if name != "cmdstat_info"
        }
    )


def _latency(
    args: argparse.Namespace,
    children: Children,
    emulator: Child,
    loaders: list[Child],
    client: redis.Redis,
    state: Message,
) -> Message:
    """Sequential requests through one spproxy in memory and one on Redis, in alternate blocks."""
    options: Message = {
        "upstream": emulator.url,
        "signing": args.signing,
        "access_log": False,
        "paced": True,
    }
    memory, shared = children.servers("spproxy", [options, {**options, "state": state}])
    for proxy in (memory, shared):
        wait_ready(f"{proxy.url}/_spproxy/ready", 15.0)
    bench = Bench(args, children, emulator, loaders, [PARTICIPATIONS])
    targets = {
        "memory": Target("memory", memory, memory.url, {}),
        "redis": Target("redis", shared, shared.url, {}),
    }
    for target in targets.values():  # the first answer teaches each the plan
        bench.latency_block(target, LATENCY_BLOCK)
        target.latency_us.clear()
    sent_before = targets["redis"].sent
    commands_before = _commands(client)
    blocks = max(1, round(args.latency_requests / LATENCY_BLOCK))
    cpu = {"memory": 0.0, "redis": 0.0}  # spproxy's CPU seconds in the timed blocks
    for i in range(blocks):
        for name in ("memory", "redis") if i % 2 == 0 else ("redis", "memory"):
            pid = (memory if name == "memory" else shared).pid
            before = cpu_seconds(pid)
            bench.latency_block(targets[name], LATENCY_BLOCK)
            cpu[name] += cpu_seconds(pid) - before
    commands = _commands(client) - commands_before
    requests = targets["redis"].sent - sent_before
    # One more block, untimed, with MONITOR on: what spproxy sent, apart from what scripts ran.
    monitor = Monitor(client)
    sent_before = targets["redis"].sent
    bench.latency_block(targets["redis"], LATENCY_BLOCK)
    time.sleep(0.2)  # the last commands reach the monitor
    seen = monitor.close()
    monitored = targets["redis"].sent - sent_before
    seen_in_scripts = seen.pop("(from scripts)", 0)
    round_trips = sum(seen.values())
    targets["redis"].latency_us = targets["redis"].latency_us[:-LATENCY_BLOCK]
    shared_state = _shared_state(shared)
    children.stop(memory, shared)
    out: Message = {}
    for name, target in targets.items():
        samples = sorted(target.latency_us)
        if not samples:
            raise BenchError(f"replicas: no request through spproxy ({name}) succeeded")
        out[name] = {
            **latency_summary(samples),
            "spproxy_cpu_us_per_request": round(cpu[name] / len(samples) * 1e6, 1),
            "other_answers": dict(target.other),
        }
    added_p50 = round(out["redis"]["p50_us"] - out["memory"]["p50_us"], 1)
    out["redis_added"] = {
        "p50_us": added_p50,
        "p99_us": round(out["redis"]["p99_us"] - out["memory"]["p99_us"], 1),
    }
    out["redis_round_trips_per_request"] = round(round_trips / monitored, 3)
    out["redis_round_trips"] = dict(sorted(seen.items()))
    out["redis_commands_run_by_scripts_per_request"] = round(seen_in_scripts / monitored, 3)
    out["redis_commands_per_request"] = round(sum(commands.values()) / requests, 3)
    out["redis_commands"] = dict(sorted(commands.items()))  # those scripts ran included
    out["bucket_script_from_bench_us"] = _script_us(client)
    out["goal_added_p50_ms"] = ADDED_P50_GOAL_MS
    out["goal_added_p50_met"] = added_p50 <= ADDED_P50_GOAL_MS * 1000
    out["goal_one_round_trip_met"] = round_trips <= monitored
    out["shared_state"] = shared_state
    return out


class Monitor:
    """Redis's MONITOR on a connection of its own, read by a thread: the commands clients sent,
    by name, told apart from those scripts ran (MONITOR shows them as from `lua`)."""

    def __init__(self, client: redis.Redis) -> None:
        where = client.connection_pool.connection_kwargs
        self._socket = socket.create_connection((where["host"], where["port"]), timeout=5)
        self._socket.sendall(b"MONITOR\r\n")
        self._buffer = b""
        if self._line() != b"+OK":
            raise BenchError("Redis refused MONITOR")
        self.seen: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._read, name="bench-monitor", daemon=True)
        self._thread.start()

    def _line(self) -> bytes | None:
        while b"\r\n" not in self._buffer:
            data = self._socket.recv(65536)
            if not data:
                return None
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def _read(self) -> None:
        with contextlib.suppress(OSError):
            while (line := self._line()) is not None:
                # +1700000000.123456 [0 127.0.0.1:54321] "evalsha" "..." ...
                _, _, rest = line.partition(b" [")
                where, _, command = rest.partition(b"] ")
                if where.endswith(b" lua"):
                    self.seen["(from scripts)"] += 1
                else:
                    self.seen[command.partition(b" ")[0].strip(b'"').decode().lower()] += 1

    def close(self) -> Counter[str]:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self._socket.close()
        return self.seen


def _script_us(client: redis.Redis) -> Message:
    """spproxy's bucket script (sharedlimit.SCRIPT) run from the bench by redis-py's asyncio
    client, as spproxy runs it, on a key of the bench's: one round trip's floor, p50 and p99."""
    import redis.asyncio

    from spproxy.sharedlimit import SCRIPT

    where = client.connection_pool.connection_kwargs

    async def measure() -> list[float]:
        shared = redis.asyncio.Redis(host=where["host"], port=where["port"])
        script = shared.register_script(SCRIPT)
        arguments = ("reserve", *FAST_PLAN, 30.0, 3_600_000)
        samples = []
        try:
            for i in range(PING_SAMPLES + 50):
                started = time.perf_counter_ns()
                await script(keys=["bench:bucket"], args=arguments)
                if i >= 50:  # after a warm-up
                    samples.append((time.perf_counter_ns() - started) / 1000)
        finally:
            await shared.aclose()
        return sorted(samples)

    samples = asyncio.run(measure())
    return {"p50": round(percentile(samples, 0.5), 1), "p99": round(percentile(samples, 0.99), 1)}


def serve_config(port: int, emulator: str, state: Message, signing: bool) -> str:
    """A `spproxy serve` config: the emulator's seller, pacing on, state on the Redis."""
    from bench.common import AWS_KEY_ID, AWS_SECRET
    from spproxy.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN

    lines = [
        f"listen: {{port: {port}}}",
        f'lwa: {{client_id: {DEMO_CLIENT_ID}, client_secret: "{DEMO_CLIENT_SECRET}", '
        f'endpoint: "{emulator}/auth/o2/token"}}',
        "upstream: {pacing: true}",
        f'state: {{url: "{state["url"]}", key: "{state["key"]}"}}',
        "accounts:",
        f'  main: {{refresh_token: "{DEMO_REFRESH_TOKEN}", region: na, endpoint: "{emulator}"}}',
    ]
    if signing:
        lines.append(f'aws: {{access_key_id: "{AWS_KEY_ID}", secret_access_key: "{AWS_SECRET}"}}')
    return "\n".join(lines) + "\n"


def _serve(
    children: Children, folder: Path, emulator: str, state: Message, workers: int, signing: bool
) -> tuple[Popen, str]:
    """`python -m spproxy serve --workers N` on a free port; (process, base URL)."""
    port = free_port()
    config = folder / f"serve-{workers}.yaml"
    config.write_text(serve_config(port, emulator, state, signing))
    command = [sys.executable, "-m", "spproxy", "serve", "--config", str(config)]
    command += ["--workers", str(workers), "--log-level", "warning"]
    popen = children.start(command, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return popen, f"http://{HOST}:{port}"


def _throughput(
    args: argparse.Namespace,
    children: Children,
    emulator: Child,
    loaders: list[Child],
    client: redis.Redis,
    state: Message,
    server: Popen,
    folder: Path,
) -> Message:
    """Closed-loop rounds through `spproxy serve --workers 1` and `--workers 2`, alternating."""
    serves = {
        f"workers_{n}": _serve(children, folder, emulator.url, state, n, args.signing)
        for n in (1, 2)
    }
    for popen, base in serves.values():
        wait_ready(f"{base}/_spproxy/ready", 30.0, _running(popen))
    bench = Bench(args, children, emulator, loaders, [PARTICIPATIONS])
    targets = {name: Target(name, None, base, {}) for name, (_, base) in serves.items()}
    for target in targets.values():  # the plan learned, every worker's connections open
        bench.latency_block(target, LATENCY_BLOCK)
        bench.throughput_round(target, 1.0, measured=False)
    cpu: dict[str, dict[str, float]] = {name: {"spproxy": 0.0, "redis": 0.0} for name in targets}
    commands: Counter[str] = Counter()
    sent: Counter[str] = Counter()
    for i in range(THROUGHPUT_ROUNDS):
        order = ("workers_1", "workers_2") if i % 4 in (0, 3) else ("workers_2", "workers_1")
        for name in order:
            popen = serves[name][0]
            target = targets[name]
            before = (tree_cpu_seconds(popen.pid), cpu_seconds(server.pid), target.sent)
            commands_before = _commands(client)
            bench.throughput_round(target, args.round, measured=True)
            commands += _commands(client) - commands_before
            cpu[name]["spproxy"] += tree_cpu_seconds(popen.pid) - before[0]
            cpu[name]["redis"] += cpu_seconds(server.pid) - before[1]
            sent[name] += target.sent - before[2]
    worker_pids = {name: _worker_pids(popen.pid) for name, (popen, _) in serves.items()}
    codes = {name: children.stop_popen(popen) for name, (popen, _) in serves.items()}
    out: Message = {
        "concurrency": args.concurrency,
        "load_processes": args.clients,
        "round_s": args.round,
        "rounds_per_serve": THROUGHPUT_ROUNDS,
    }
    for name, target in targets.items():
        if target.measured_ok == 0:
            raise BenchError(f"replicas: no 200 from {name}: {dict(target.other)}")
        seconds = target.measured_s
        usage = {**cpu[name], **target.cpu_s}
        out[name] = {
            "rps": round(target.measured_ok / seconds, 1),
            "rps_rounds": [round(r, 1) for r in target.rounds_rps],
            "cpu_us_per_request": {
                k: round(v / target.measured_ok * 1e6, 1) for k, v in usage.items()
            },
            "cores_busy": {k: round(v / seconds, 2) for k, v in usage.items()},
            "processes_serving": len(worker_pids[name]) or 1,  # --workers 1: serve itself
            "other_answers": dict(target.other),
            "exit_code": codes[name],
        }
    out["ratio_workers_2_over_1"] = round(out["workers_2"]["rps"] / out["workers_1"]["rps"], 3)
    total = sum(sent.values())
    out["redis_commands_per_request"] = round(sum(commands.values()) / total, 3) if total else None
    return out


def _running(popen: Popen) -> Callable[[], bool]:
    return lambda: popen.poll() is None


def _worker_pids(pid: int) -> list[int]:
    """The processes `spproxy serve` forked (its workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []
