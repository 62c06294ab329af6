"""The bench's processes and what the parent reads of them.

Each server and each load generator runs in its own process, started with multiprocessing's
"spawn" method (a fresh interpreter), so no two share an event loop. `Children` starts them (and
commands, each in a session of its own: redis-server, `spproxy serve --workers N`) and stops
every one of them at the end, whatever happened; the parent talks to each over a pipe
(`receive`), reads its CPU time and memory from /proc, and polls HTTP endpoints on loopback.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any

from bench.common import HOST, BenchError, Message
from bench.servers import server_main

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
Popen = subprocess.Popen[bytes]


@dataclass
class Child:
    name: str
    process: SpawnProcess
    conn: Connection
    pid: int = 0
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass
class Children:
    """Every process the bench starts, stopped in `close` whatever happened."""

    context: SpawnContext
    spawned: list[Child] = field(default_factory=list)
    popen: list[Popen] = field(default_factory=list)

    def spawn(self, name: str, target: Any, args: tuple[Any, ...]) -> Child:
        parent_conn, child_conn = self.context.Pipe()
        process = self.context.Process(
            target=target, args=(*args, child_conn, os.getpid()), name=name, daemon=True
        )
        # Blocked during the fork, SIGINT stays blocked in the child: Ctrl-C reaches only us.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        child_conn.close()
        child = Child(name, process, parent_conn, pid=process.pid or 0)
        self.spawned.append(child)
        return child

    def check(self) -> None:
        for child in self.spawned:
            if not child.process.is_alive():
                raise BenchError(f"{child.name} exited (code {child.process.exitcode})")

    def server(self, role: str, options: Message, timeout_s: float = 30.0) -> Child:
        return self.servers(role, [options], timeout_s)[0]

    def servers(
        self, role: str, options: Sequence[Message], timeout_s: float = 30.0
    ) -> list[Child]:
        """Several servers of one role started at once (all spawned, then each waited for), so
        that they start up, and ask for their tokens, at the same time."""
        started = [
            self.spawn(
                f"bench-{role}" + (f"{i}" if len(options) > 1 else ""), server_main, (role, o)
            )
            for i, o in enumerate(options)
        ]
        for child in started:
            ready = receive(child, timeout_s)
            child.port, child.pid = ready["port"], ready["pid"]
        return started

    def start(self, command: Sequence[str], env: Mapping[str, str] | None = None) -> Popen:
        """A command in a session of its own (Ctrl-C reaches the bench only; stopping it stops
        whatever it forked too), output discarded; stopped in `close` if not before."""
        popen = subprocess.Popen(
            list(command),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=None if env is None else dict(env),
        )
        self.popen.append(popen)
        return popen

    def stop_popen(self, popen: Popen, timeout_s: float = 10.0) -> int | None:
        """SIGTERM (`spproxy serve --workers` passes it on to its workers), SIGKILL to its process
        group after `timeout_s`; its exit status (None: it had to be killed)."""
        self.popen.remove(popen)
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if popen.poll() is None:
                popen.terminate()
            try:
                return popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _signal_group(popen, signal.SIGKILL)
                popen.wait(timeout=5)
                return None
        finally:
            signal.signal(signal.SIGINT, previous)

    def close(self) -> None:
        """Stop everything; bounded (a few seconds per process at worst), Ctrl-C ignored."""
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self._close()
        finally:
            signal.signal(signal.SIGINT, previous)

    def stop(self, *children: Child) -> None:
        """Stop these (in the order given) before the end; bounded like `close`."""
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for child in children:
                self.spawned.remove(child)
                _stop_child(child)
        finally:
            signal.signal(signal.SIGINT, previous)

    def _close(self) -> None:
        for popen in self.popen:
            _signal_group(popen, signal.SIGKILL)  # with what it forked (serve --workers)
            popen.wait(timeout=5)
        # The last started first: load processes before the servers they talk to.
        for child in reversed(self.spawned):
            _stop_child(child)


def _signal_group(popen: Popen, signum: int) -> None:
    """`signum` to the process group `popen` leads (started in a session of its own), or to it
    alone if it leads none; nothing once it has been reaped."""
    if popen.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(popen.pid) == popen.pid:
            os.killpg(popen.pid, signum)
        else:
            os.kill(popen.pid, signum)


def _stop_child(child: Child) -> None:
    with contextlib.suppress(OSError, ValueError):
        child.conn.send({"cmd": "stop"})
    child.process.join(timeout=5)
    if child.process.is_alive():
        child.process.terminate()
        child.process.join(timeout=3)
    if child.process.is_alive():
        child.process.kill()
        child.process.join(timeout=3)
    child.conn.close()


def receive(child: Child, timeout_s: float) -> Message:
    if not child.conn.poll(timeout_s):
        raise BenchError(f"{child.name} did not answer within {timeout_s:g} s")
    try:
        message: Message = child.conn.recv()
    except EOFError:
        child.process.join(timeout=2)
        raise BenchError(f"{child.name} exited (code {child.process.exitcode})") from None
    return message


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and of its children now alive (serve --workers: the workers)."""
    total = cpu_seconds(pid)
    with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{pid}/children") as children:
        for child in children.read().split():
            with contextlib.suppress(OSError, ValueError):
                total += cpu_seconds(int(child))
    return total


def rss_mib(pid: int) -> dict[str, float]:
    values: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = round(int(rest.split()[0]) / 1024, 1)
    return values


def http_get(url: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - loopback
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_ready(
    url: str, timeout_s: float, process_alive: Callable[[], bool] | None = None
) -> float:
    """Poll until `url` answers 200; the seconds it took. Raises BenchError past `timeout_s`."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        try:
            if http_get(url, timeout_s=1.0)[0] == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        if process_alive is not None and not process_alive():
            raise BenchError(f"the process serving {url} exited before it was ready")
        time.sleep(0.01)
    raise BenchError(f"{url} was not ready within {timeout_s:g} s")


def emulator_stats(emulator: Child) -> Message:
    status, body = http_get(f"{emulator.url}/_bench/stats")
    if status != 200:
        raise BenchError(f"/_bench/stats answered {status}")
    stats: Message = json.loads(body)
    return stats


def amazon_stats(emulator: Child) -> Message:
    status, body = http_get(f"{emulator.url}/_emulator/stats")
    if status != 200:
        raise BenchError(f"/_emulator/stats answered {status}")
    stats: Message = json.loads(body)
    return stats
