"""Phase `startup`: cold start-up, import time, and whether botocore loads with signing off.

`python -m spproxy demo --port P` in a fresh interpreter until `/_spproxy/ready` answers 200,
then SIGINT and exit status 0 (median of `--startup-runs`); the time of
`python -c "import spproxy.app"` (wall, and `-X importtime`'s cumulative figure); and whether
botocore is loaded by an unsigned proxy: by the bench's spproxy process itself (asked by the
load phase), and by a separate `python -c` that builds and serves the app like the bench and
sends one request through it (and, as a check of the check, the same with signing on). These
fresh interpreters get a private bytecode cache (a temporary PYTHONPYCACHEPREFIX, primed by one
uncounted run, PYTHONDONTWRITEBYTECODE dropped), so the figures are those of an installed
spproxy and the repository is not written to.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence

from bench.common import (
    AWS_KEY_ID,
    AWS_SECRET,
    HOST,
    PARTICIPATIONS,
    BenchError,
    Message,
    free_port,
)
from bench.processes import Children, wait_ready

# The botocore check: build and serve the app like the bench, send one request through it, say
# whether botocore was loaded.
BUILD_AND_SERVE = """
import asyncio, json, sys
from aiohttp import ClientSession, web
from spproxy.app import make_app
from spproxy.demo import demo_config
from spproxy.emulator import EmulatorConfig, make_emulator_app

SIGNING = {signing}
KEYS = {{{key!r}: {secret!r}}}

async def main() -> None:
    emulator = web.AppRunner(
        make_emulator_app(EmulatorConfig(aws_keys=KEYS) if SIGNING else EmulatorConfig()),
        access_log=None,
    )
    await emulator.setup()
    await web.TCPSite(emulator, "127.0.0.1", 0).start()
    upstream = "http://127.0.0.1:%d" % emulator.addresses[0][1]
    config = demo_config(upstream, port=0)
    if SIGNING:
        import dataclasses
        from spproxy.config import AwsConfig, Secret
        aws = AwsConfig(Secret(list(KEYS)[0]), Secret(list(KEYS.values())[0]))
        config = dataclasses.replace(config, aws=aws)
    proxy = web.AppRunner(make_app(config), access_log=None)
    await proxy.setup()
    await web.TCPSite(proxy, "127.0.0.1", 0).start()
    url = "http://127.0.0.1:%d{path}" % proxy.addresses[0][1]
    async with ClientSession() as client, client.get(url) as response:
        status = response.status
    await proxy.cleanup()
    await emulator.cleanup()
    print(json.dumps({{"status": status, "botocore": "botocore" in sys.modules}}))

asyncio.run(main())
"""


def startup(args: argparse.Namespace, children: Children) -> Message:
    with tempfile.TemporaryDirectory(prefix="spproxy-bench-pycache-") as cache_dir:
        env = python_env(cache_dir)
        demo_startup(children, env)  # primes the bytecode cache; not counted
        runs = [demo_startup(children, env) for _ in range(max(1, args.startup_runs))]
        interpreter_ms = timed_python("pass", 7, env)
        import_ms = timed_python("import spproxy.app", 7, env)
        import_cumulative_ms, aiohttp_ms = importtime_ms(("spproxy.app", "aiohttp"), env)
        botocore_unsigned = botocore_loaded(False, env)["botocore"]
        botocore_signed = botocore_loaded(True, env)["botocore"]
    return {
        "demo_to_ready_ms": round(statistics.median(t for t, _ in runs) * 1000, 1),
        "demo_to_ready_ms_all": [round(t * 1000, 1) for t, _ in runs],
        "demo_exit_codes_after_sigint": [code for _, code in runs],
        "python_c_pass_ms": round(interpreter_ms, 1),
        "python_c_import_spproxy_app_ms": round(import_ms, 1),
        "import_spproxy_app_cumulative_ms": round(import_cumulative_ms, 1),
        "import_of_which_aiohttp_ms": round(aiohttp_ms, 1),
        "botocore_loaded_unsigned": botocore_unsigned,
        "botocore_loaded_signed_check": botocore_signed,
    }


def python_env(cache_dir: str) -> dict[str, str]:
    """The environment for fresh interpreters: bytecode cached in `cache_dir`, not the repo.

    With PYTHONDONTWRITEBYTECODE set (as in some sandboxes) every start would compile the
    sources that changed since their cached bytecode; a primed private cache measures the
    start-up users see.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def botocore_loaded(signing: bool, env: Mapping[str, str]) -> Message:
    code = BUILD_AND_SERVE.format(
        signing=signing, key=AWS_KEY_ID, secret=AWS_SECRET, path=PARTICIPATIONS
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60, check=False, env=env
    )
    if done.returncode != 0:
        raise BenchError(f"the botocore check failed: {done.stderr.decode()[-2000:]}")
    result: Message = json.loads(done.stdout)
    return result


def timed_python(code: str, runs: int, env: Mapping[str, str]) -> float:
    """Median wall time of `python -c code` (start, run, exit), in ms."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=env)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def importtime_ms(modules: Sequence[str], env: Mapping[str, str], runs: int = 3) -> list[float]:
    """Median cumulative import time of each module (ms) in `python -X importtime -c 'import
    modules[0]'`: the first is what is imported, the others are parts of it."""
    samples: list[list[float]] = [[] for _ in modules]
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {modules[0]}"],
            capture_output=True,
            timeout=60,
            check=True,
            text=True,
            env=env,
        )
        cumulative: dict[str, float] = {}
        for line in done.stderr.splitlines():
            parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
            if len(parts) == 3 and parts[1].isdigit():
                cumulative[parts[2]] = int(parts[1]) / 1000
        for sample, module in zip(samples, modules, strict=True):
            if module not in cumulative:
                raise BenchError(f"-X importtime did not report {module}")
            sample.append(cumulative[module])
    return [statistics.median(sample) for sample in samples]


def demo_startup(children: Children, env: Mapping[str, str]) -> tuple[float, int]:
    """Seconds from launching `python -m spproxy demo` to a 200 from ready; its exit status."""
    port = free_port()
    started = time.perf_counter()
    popen = subprocess.Popen(
        [sys.executable, "-m", "spproxy", "demo", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches the bench only; `close` kills it if need be
        env=env,
    )
    children.popen.append(popen)
    wait_ready(f"http://{HOST}:{port}/_spproxy/ready", 20.0, lambda: popen.poll() is None)
    elapsed = time.perf_counter() - started
    popen.send_signal(signal.SIGINT)
    try:
        code = popen.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise BenchError("spproxy demo did not stop within 10 s of SIGINT") from None
    return elapsed, code
