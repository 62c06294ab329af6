"""The saturation phase's tools from Debian: wrk (the C load generator) and nginx (the static
upstream, and the floor: nginx's own proxy_pass), both run from a temporary folder, unprivileged
where the bench is, on 127.0.0.1 only.

`static_conf` is a fake Amazon that costs next to nothing: a fixed getMarketplaceParticipations
answer (with an `x-amzn-RequestId`) on every path, and a fixed LWA token on /auth/o2/token, so
that spproxy and bare obtain their tokens from it too. `floor_conf` is nginx doing what a proxy
must at least do: proxy_pass to it over kept-alive connections, adding the `x-amz-access-token`.
"""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import HOST, BenchError

INSTALL = "sudo apt-get install wrk nginx"
TOKEN = "Atza|spproxy-bench-static-token"  # noqa: S105 - a fake, for the static upstream
PARTICIPATIONS_BODY = (
    '{"payload":[{"marketplace":{"id":"ATVPDKIKX0DER","countryCode":"US","name":"Amazon.com",'
    '"defaultCurrencyCode":"USD","defaultLanguageCode":"en_US","domainName":"www.amazon.com"},'
    '"participation":{"isParticipating":true,"hasSuspendedListings":false}}]}'
)
LWA_BODY = f'{{"access_token":"{TOKEN}","token_type":"bearer","expires_in":3600}}'
UNIT_US = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0, "m": 60_000_000.0, "h": 3_600_000_000.0}


def tools() -> dict[str, str]:
    """wrk's and nginx's paths; BenchError naming the apt command if either is missing."""
    found = {
        "wrk": shutil.which("wrk"),
        "nginx": shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin"),
    }
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise BenchError(
            f"the saturation phase needs {' and '.join(missing)} (not on PATH): {INSTALL}"
        )
    return {name: str(path) for name, path in found.items()}


def versions(paths: dict[str, str]) -> dict[str, str]:
    wrk = _run([paths["wrk"], "-v"]).split(" [")[0].removeprefix("wrk ")
    nginx = _run([paths["nginx"], "-v"]).strip().removeprefix("nginx version: nginx/")
    return {"wrk": wrk, "nginx": nginx}


def _run(command: Sequence[str]) -> str:
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=10, check=False)
    return (done.stdout + done.stderr).splitlines()[0] if (done.stdout + done.stderr) else "?"


def _conf(folder: Path, port: int, server: str, upstream: str = "") -> str:
    temp = "\n".join(
        f"    {kind}_temp_path {folder}/temp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""worker_processes 1;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp}
    keepalive_requests 1000000;
    keepalive_timeout 120s;
{upstream}
    server {{
        listen {HOST}:{port};
{server}
    }}
}}
"""


def static_conf(folder: Path, port: int) -> str:
    server = f"""        default_type application/json;
        location = /auth/o2/token {{ return 200 '{LWA_BODY}'; }}
        location / {{
            add_header x-amzn-RequestId $request_id always;
            return 200 '{PARTICIPATIONS_BODY}';
        }}"""
    return _conf(folder, port, server)


def floor_conf(folder: Path, port: int, upstream_port: int) -> str:
    upstream = f"    upstream amazon {{ server {HOST}:{upstream_port}; keepalive 64; }}"
    server = f"""        location / {{
            proxy_pass http://amazon;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header x-amz-access-token "{TOKEN}";
        }}"""
    return _conf(folder, port, server, upstream)


def nginx_command(nginx: str, folder: Path) -> list[str]:
    """nginx in the foreground, everything (pid, temp files, errors) in `folder` or stderr."""
    return [
        nginx,
        "-e",
        "stderr",
        "-p",
        str(folder),
        "-c",
        str(folder / "nginx.conf"),
        "-g",
        f"daemon off; pid {folder}/nginx.pid; error_log stderr warn;",
    ]


def write_conf(folder: Path, text: str) -> None:
    (folder / "temp").mkdir(parents=True, exist_ok=True)
    (folder / "nginx.conf").write_text(text)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_us: float
    p99_us: float
    non_2xx: int
    socket_errors: int
    cpu_s: float  # wrk's own CPU time (user + system)


def wrk(
    path: str, url: str, connections: int, threads: int, seconds: float, timeout_s: float = 5.0
) -> WrkResult:
    """One wrk run against `url` (bounded: its duration plus 30 s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [
        path,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        f"--timeout={timeout_s:g}s",
        "--latency",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise BenchError(f"wrk exited {done.returncode}: {done.stderr.strip()[:300]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return parse(done.stdout, cpu)


def parse(output: str, cpu_s: float = 0.0) -> WrkResult:
    """wrk --latency's report, read."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if not (total and rps and p50 and p99):
        raise BenchError(f"wrk's output not understood: {output.strip()[:300]!r}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * UNIT_US[total.group(3)] / 1e6,
        rps=float(rps.group(1)),
        p50_us=float(p50.group(1)) * UNIT_US[p50.group(2)],
        p99_us=float(p99.group(1)) * UNIT_US[p99.group(2)],
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        cpu_s=cpu_s,
    )
