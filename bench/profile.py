"""`--profile` (saturation phase): py-spy samples a running spproxy while wrk saturates it.

py-spy (`pip install py-spy`; it reads the process's memory through ptrace, so it may need root
or `kernel.yama.ptrace_scope=0`) records `--format raw -F` (folded stacks, one frame per function)
for the duration; `top` turns them into the functions with the most samples of their own (where
the CPU is spent) and the most samples on the stack (what it is spent under). Without py-spy,
or if it cannot attach, the phase says why and carries on.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.common import Message
from bench.wrk import WrkResult

ROOT = f"{Path(__file__).resolve().parents[1]}/"
TOP = 25
RATE_HZ = 250
EVERYWHERE = 0.99


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"  # a virtualenv's, not on PATH
    return shutil.which("py-spy") or (str(beside) if beside.is_file() else None)


def profile(pid: int, run: Callable[[float], WrkResult], seconds: float, folder: str) -> Message:
    """py-spy on `pid` for `seconds` while `run(seconds)` loads it; the top functions."""
    path = py_spy()
    if path is None:
        return {"skipped": "no py-spy on PATH or beside this Python: pip install py-spy"}
    output = Path(folder) / "profile.folded"
    sampler = subprocess.Popen(
        [
            path,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            str(RATE_HZ),
            "--format",
            "raw",
            "--function",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)  # attached before the load starts
    result = run(seconds)
    try:
        _, err = sampler.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        sampler.kill()
        _, err = sampler.communicate(timeout=5)
    if sampler.returncode != 0 or not output.is_file():
        return {"skipped": f"py-spy exited {sampler.returncode}: {err.decode()[-300:].strip()}"}
    return {
        "seconds": seconds,
        "rate_hz": RATE_HZ,
        "rps_while_sampled": result.rps,
        **top(output.read_text()),
    }


def top(folded: str, count: int = TOP) -> Message:
    """The functions with the most own and the most cumulative samples, in folded stacks
    ("frame;frame;... N" lines), as percentages of all samples, and the own samples summed by
    package (spproxy, aiohttp, asyncio, logging, ...); frames on at least 99% of the
    stacks (the interpreter's start, the loop's run_forever) are no news and left out of the
    cumulative ranking."""
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    total = 0
    for line in folded.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        frames = [short(frame) for frame in stack.split(";")]
        total += int(samples)
        own[frames[-1]] += int(samples)
        for frame in set(frames):
            cumulative[frame] += int(samples)

    # on (nearly) every stack: the interpreter's start, the command, the loop's run_forever
    for frame in [f for f, n in cumulative.items() if n >= EVERYWHERE * total]:
        del cumulative[frame]

    packages: Counter[str] = Counter()
    for frame, n in own.items():
        packages[package(frame)] += n

    def ranked(counter: Counter[str], key: str = "function") -> list[Message]:
        return [
            {key: name, "samples": n, "percent": round(100 * n / max(total, 1), 1)}
            for name, n in counter.most_common(count)
        ]

    return {
        "samples": total,
        "own_by_package": ranked(packages, "package"),
        "own": ranked(own),
        "cumulative": ranked(cumulative),
    }


def package(frame: str) -> str:
    """The package (or standard-library module) a shortened frame's file belongs to."""
    where = frame.partition(" (")[2]
    return re.split(r"[/.:]", where, maxsplit=1)[0] or "?"


def short(frame: str) -> str:
    """`f (/venv/lib/python3.11/site-packages/aiohttp/web.py:12)` -> `f (aiohttp/web.py:12)`; the
    standard library's and the repository's files likewise relative."""
    name, _, where = frame.partition(" (")
    where = re.sub(r"^.*/site-packages/", "", where).removeprefix(ROOT)
    where = re.sub(r"^.*/lib/python3\.\d+/", "", where)
    return f"{name} ({where}" if where else name
