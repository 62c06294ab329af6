"""Benchmark: spproxy against a bare aiohttp pass-through, both in front of the emulator.

    python -m bench [--seconds S] [--concurrency C] [--signing] [--json]
                    [--only PHASES | --skip PHASES] [--soak]
    python -m bench --only soak [--soak-seconds S] [--soak-documents N]
    python -m bench --only accounts [--accounts 1,1000,10000]
    python -m bench --only replicas [--quota-calls N] [--latency-requests N] [--round S]
    python -m bench --only saturation [--saturation-round S] [--saturation-repetitions N]
                    [--saturation-threads N] [--profile]

Run from the repository's root (or with it on PYTHONPATH); the options are listed in
`bench/__main__.py` and by `python -m bench --help`. Everything runs on 127.0.0.1 with ports
chosen by the kernel, is bounded in time and stops by itself (about 70-90 s with the defaults;
PHASES is a comma-separated subset of startup,load,quota,rdt,soak,accounts,replicas,saturation, e.g.
`--only quota,rdt`, about 25 s). The soak and accounts phases take minutes (about 3 and 4 with
their defaults), the replicas phase about one (and needs a `redis-server` on PATH, else it says
"skipped: no redis-server"), the saturation phase about 3 (and needs wrk and nginx: `sudo
apt-get install wrk nginx`), so they are not in the default run: each runs when `--only` names
it, the soak also with `--soak` (added to the phases otherwise chosen).

Each server runs in its own process, started with multiprocessing's "spawn" method (a fresh
interpreter), so no two share an event loop; the load generators too:

    servers     the emulator, spproxy as `spproxy serve` serves it (optionally on a Redis), and
                a bare pass-through
    loadgen     the load generator processes: every kind of traffic the phases send
    processes   starting, talking to and stopping them (and commands: redis-server,
                `spproxy serve --workers N`); /proc readings; loopback HTTP
    wrk         the saturation phase's wrk and nginx (the static upstream, the floor)
    profile     py-spy on a saturated spproxy, its samples ranked (--profile)
    common      what they all share: host, fake AWS keys, requests, BenchError

The phases, one module each, run in this order:

    startup     `spproxy demo` to ready, import time, botocore not loaded when unsigned
    load        1-4: throughput (spproxy/bare), latency added, LWA exchanges, memory
    quota       Amazon's 429s per 1,000 over-quota calls, spproxy (paced) against bare
    rdt         RDT mints per 1,000 restricted calls over ten fake hours, bundled and not
    soak        memory and /_spproxy/status under 20,000 distinct restricted documents
    accounts    a real `spproxy serve` with 1, 1,000 and 10,000 accounts: load, ready, all
                tokens, RSS per account, CPU per request
    replicas    1 vs 3 replicas, memory vs Redis: Amazon's 429s per 1,000 over-quota calls, LWA
                exchanges, RDT mints; latency Redis adds; `serve --workers 2` against 1
    saturation  wrk (C) through direct, nginx, bare and spproxy (info/warning, asyncio/uvloop)
                to a static nginx upstream: req/s, CPU per request, p50/p99; py-spy (--profile)

`report` prints the table (or, with `--json`, one JSON document); `__main__` parses the options
and runs the phases chosen. The machine's core count is printed: the load generator, the
proxies and the emulator compete for the same cores, so compare ratios and CPU per request, not
absolute requests/s.
"""
