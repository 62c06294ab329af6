"""Where `spproxy report` and `spproxy feed` find their spproxy: the running one (--proxy, else
$SPPROXY_HOST and $SPPROXY_PORT), or with --config one of their own, in this process, on a free
loopback port for as long as the job lasts. Either way the job is the same HTTP calls; in-process,
the pacing is the process's own (shared with a running spproxy only through `state:`'s Redis)."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from spproxy.app import make_app
from spproxy.configload import load_config
from spproxy.proxyclient import Failed, proxy_base
from spproxy.serve import start_serving

LOOPBACK = "127.0.0.1"


@asynccontextmanager
async def reached(args: argparse.Namespace, env: Mapping[str, str]) -> AsyncIterator[str]:
    """The spproxy's base URL, while the job runs; ConfigError for an unusable --config."""
    if args.config is None:
        yield proxy_base(args.proxy, env)
        return
    config = load_config(args.config, env)
    # Plain HTTP on loopback whatever the file says: only this process calls it.
    listen = dataclasses.replace(config.listen, host=LOOPBACK, port=0)
    runner = await start_serving(make_app(config), dataclasses.replace(config, listen=listen))
    if runner is None:  # start_serving said why
        raise Failed(f"cannot serve spproxy on {LOOPBACK}")
    try:
        yield f"http://{LOOPBACK}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
