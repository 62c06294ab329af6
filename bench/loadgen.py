"""The load generator: a process that runs the parent's commands one at a time.

`--clients` of them (default 1) in the load phases, one in the quota and soak phases; each is an
aiohttp client holding one keep-alive connection pool per target. Commands: `throughput`
(closed-loop workers until a deadline), `latency` (sequential requests), `calls` (a number of
calls, so many at a time) and `soak` (the soak phase's traffic, see bench.soak). With `bases`
(the replicas phase), the requests go round-robin over several servers.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection

import aiohttp
from yarl import URL

from bench.common import (
    CREDENTIAL_HEADER,
    KNOWN_ORDER_IDS,
    ORDERS,
    PARTICIPATIONS,
    REPORT_TYPE_HEADER,
    Message,
    percentile,
    sigv4_headers,
)

# The soak's documents: distinct ones of a restricted report type (each needs an RDT minted for
# its own path).
SOAK_REPORT_TYPE = "GET_ORDER_REPORT_DATA_SHIPPING"
SOAK_DOCUMENT = "/reports/2021-06-30/documents/amzn1.spdoc.1.4.na.bench-soak-{i:08d}"
SOAK_DOCUMENT_WORKERS = 8  # document requests in flight at most (they are paced, see _soak_traffic)


def load_main(conn: Connection, parent_pid: int) -> None:
    """Entry point of a load process: runs the parent's commands one at a time."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sessions: dict[str, aiohttp.ClientSession] = {}
    try:
        while os.getppid() == parent_pid:
            if not conn.poll(0.5):
                continue
            try:
                command = conn.recv()
            except EOFError:
                break
            if command["cmd"] == "stop":
                break
            conn.send(loop.run_until_complete(_load_command(command, sessions)))
    finally:
        for session in sessions.values():
            loop.run_until_complete(session.close())
        loop.close()


async def _load_command(command: Message, sessions: dict[str, aiohttp.ClientSession]) -> Message:
    base = command["base"]
    session = sessions.get(base)
    if session is None:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        sessions[base] = session
    if command["cmd"] == "soak":
        return await _soak_traffic(session, base, command)
    # "bases": several servers (replicas) taken in turn, each path through each of them
    bases: list[str] = command.get("bases") or [base]
    urls = [URL(b + path, encoded=True) for path in command["paths"] for b in bases]
    headers: dict[str, str] = command["headers"]
    if command["cmd"] == "throughput":
        return await _throughput(
            session, urls, headers, command["concurrency"], command["start_at"], command["seconds"]
        )
    if command["cmd"] == "calls":
        return await _calls(session, urls, headers, command["n"], command["concurrency"])
    return await _latency(session, urls, headers, command["n"], command["sign"])


async def _throughput(
    session: aiohttp.ClientSession,
    urls: Sequence[URL],
    headers: Mapping[str, str],
    concurrency: int,
    start_at: float,
    seconds: float,
) -> Message:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    end = start_at + seconds
    statuses: Counter[int] = Counter()
    late: Counter[int] = Counter()
    errors = 0
    cpu = time.process_time()

    async def one_client(offset: int) -> None:
        nonlocal errors
        i = offset
        while time.monotonic() < end:
            url = urls[i % len(urls)]
            i += 1
            try:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
                await asyncio.sleep(0.01)
                continue
            if time.monotonic() <= end:
                statuses[status] += 1
            else:  # in flight at the end: forwarded, but not in the rate
                late[status] += 1

    await asyncio.gather(*(one_client(k) for k in range(concurrency)))
    return {
        "statuses": {str(k): v for k, v in statuses.items()},
        "late": {str(k): v for k, v in late.items()},
        "errors": errors,
        "cpu_s": time.process_time() - cpu,
    }


async def _calls(
    session: aiohttp.ClientSession,
    urls: Sequence[URL],
    headers: Mapping[str, str],
    n: int,
    concurrency: int,
) -> Message:
    """`n` calls, `concurrency` at a time, each sent as soon as a worker is free.

    Outcomes: "200", "429 from Amazon" (relayed: the answer carries the emulator's
    x-amzn-RequestId), "429 from spproxy" (made by the proxy, `x-spproxy-origin: proxy`: no
    pacing slot within queue_timeout_s), any other status, "client error".
    """
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    calls = iter(range(n))
    timeout = aiohttp.ClientTimeout(total=120)  # pacing may hold a call up to queue_timeout_s

    async def worker() -> None:
        for i in calls:  # shared: each call is taken by one worker
            started = time.perf_counter()
            try:
                async with session.get(urls[i % len(urls)], headers=headers, timeout=timeout) as r:
                    await r.read()
            except (aiohttp.ClientError, TimeoutError):
                outcomes["client error"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            if r.status == 429 and r.headers.get("x-spproxy-origin") == "proxy":
                outcomes["429 from spproxy"] += 1
            elif r.status == 429 and "x-amzn-RequestId" in r.headers:
                outcomes["429 from Amazon"] += 1
            else:
                outcomes[str(r.status)] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "outcomes": dict(sorted(outcomes.items())),
        "elapsed_s": elapsed,
        "latency_ms": {
            "p50": percentile(latencies, 0.5) * 1000 if latencies else None,
            "p99": percentile(latencies, 0.99) * 1000 if latencies else None,
            "max": latencies[-1] * 1000 if latencies else None,
        },
    }


async def _latency(
    session: aiohttp.ClientSession,
    urls: Sequence[URL],
    headers: Mapping[str, str],
    n: int,
    sign: bool,
) -> Message:
    samples: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    for i in range(n):
        url = urls[i % len(urls)]
        request_headers = dict(headers)
        if sign:  # signed before the clock starts: the direct baseline pays no signing
            request_headers.update(sigv4_headers("GET", str(url), headers, b""))
        started = time.perf_counter_ns()
        try:
            async with session.get(url, headers=request_headers) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            errors += 1
            await asyncio.sleep(0.01)
            continue
        samples.append((time.perf_counter_ns() - started) / 1000)
        statuses[response.status] += 1
    return {
        "samples_us": samples,
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": errors,
    }


def soak_mixed_path(n: int) -> tuple[str, str]:
    """The n-th ordinary request of the soak: (operation, path). getMarketplaceParticipations,
    getOrders, getOrder and getOrderAddress in turn; the orders alternate between ids that exist
    and made-up ones, each used once (404, after Amazon accepted the RDT)."""
    round_, k = divmod(n, 4)
    if k == 0:
        return "getMarketplaceParticipations", PARTICIPATIONS
    if k == 1:
        return "getOrders", ORDERS
    known = round_ % 2 == 0
    order = KNOWN_ORDER_IDS[round_ % len(KNOWN_ORDER_IDS)] if known else f"902-0000000-{round_:07d}"
    if k == 2:
        return "getOrder", f"/orders/v0/orders/{order}"
    return "getOrderAddress", f"/orders/v0/orders/{order}/address"


async def _soak_traffic(session: aiohttp.ClientSession, base: str, command: Message) -> Message:
    """The soak's traffic: `documents` distinct restricted report documents, document i sent at
    `i * seconds / documents` s (at most SOAK_DOCUMENT_WORKERS in flight; when behind, as fast as
    they allow), while `concurrency` closed-loop workers send the ordinary requests
    (`soak_mixed_path`) until the time is up and every document is sent. Nothing is sent after
    `max_seconds`."""
    documents: int = command["documents"]
    seconds: float = command["seconds"]
    concurrency: int = command["concurrency"]
    start = time.monotonic()
    end, hard_end = start + seconds, start + command["max_seconds"]
    interval = seconds / documents
    document_headers = {REPORT_TYPE_HEADER: SOAK_REPORT_TYPE}
    statuses: dict[str, Counter[str]] = {}
    errors: Counter[str] = Counter()
    credentials: Counter[str] = Counter()  # of the document answers
    latencies: dict[str, list[float]] = {"documents": [], "ordinary": []}
    pending = iter(range(documents))  # shared: each document is taken by one worker
    mixed = iter(range(2**62))  # shared: the ordinary requests in turn
    documents_done = asyncio.Event()
    cpu = time.process_time()

    async def get(operation: str, group: str, path: str, headers: Mapping[str, str]) -> str | None:
        """The request; the answer's x-spproxy-credential ("-" if none), None on a client error."""
        started = time.perf_counter()
        try:
            async with session.get(URL(base + path, encoded=True), headers=headers) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            errors[operation] += 1
            await asyncio.sleep(0.01)
            return None
        latencies[group].append(time.perf_counter() - started)
        statuses.setdefault(operation, Counter())[str(response.status)] += 1
        return response.headers.get(CREDENTIAL_HEADER, "-")

    async def document_worker() -> None:
        for i in pending:
            now = time.monotonic()
            if now >= hard_end:
                break
            due = start + i * interval
            if due > now:
                await asyncio.sleep(due - now)
            path = SOAK_DOCUMENT.format(i=i)
            credential = await get("getReportDocument", "documents", path, document_headers)
            if credential is not None:
                credentials[credential] += 1

    async def all_documents() -> None:
        await asyncio.gather(*(document_worker() for _ in range(SOAK_DOCUMENT_WORKERS)))
        documents_done.set()

    async def ordinary_worker() -> None:
        while True:
            now = time.monotonic()
            if now >= hard_end or (now >= end and documents_done.is_set()):
                break
            operation, path = soak_mixed_path(next(mixed))
            await get(operation, "ordinary", path, {})

    await asyncio.gather(all_documents(), *(ordinary_worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - start
    documents_sent = sum(statuses.get("getReportDocument", {}).values())
    documents_sent += errors["getReportDocument"]
    return {
        "elapsed_s": elapsed,
        "documents_sent": documents_sent,
        "document_credentials": dict(sorted(credentials.items())),
        "statuses": {op: dict(sorted(counts.items())) for op, counts in sorted(statuses.items())},
        "client_errors": dict(sorted(errors.items())),
        "requests_sent": sum(sum(c.values()) for c in statuses.values()) + sum(errors.values()),
        "load_cpu_s": time.process_time() - cpu,
        "latency_ms": {group: _latency_ms(samples) for group, samples in latencies.items()},
    }


def _latency_ms(samples: list[float]) -> Message:
    samples.sort()
    return {
        "n": len(samples),
        "p50": round(percentile(samples, 0.5) * 1000, 2) if samples else None,
        "p99": round(percentile(samples, 0.99) * 1000, 2) if samples else None,
        "max": round(samples[-1] * 1000, 2) if samples else None,
    }
