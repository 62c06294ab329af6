"""The event loop the proxy runs on: uvloop's when it is installed (`pip install
'spproxy[speed]'`, as the container image does), asyncio's own otherwise. `--event-loop` or
SPPROXY_EVENT_LOOP chooses: `auto` (the default: uvloop if importable), `uvloop` (a config error
if it is not installed) or `asyncio`. The start-up line names the loop that runs (`running`).

uvloop runs the same code, written for asyncio, on libuv: at saturation it spends less CPU per
request in the loop itself (sockets, callbacks, timers); nothing else changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from spproxy.config import ConfigError

EVENT_LOOPS = ("auto", "uvloop", "asyncio")
LoopFactory = Callable[[], asyncio.AbstractEventLoop]
T = TypeVar("T")


def loop_factory(choice: str = "auto", where: str = "--event-loop") -> LoopFactory | None:
    """What `choice` (one of EVENT_LOOPS, said by `where`) runs on: uvloop's loop factory, or
    None for asyncio's own loop."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise ConfigError(
                [f"{where}: uvloop is not installed (pip install 'spproxy[speed]')"]
            ) from None
        return None
    factory: LoopFactory = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T], factory: LoopFactory | None = None) -> T:
    """asyncio.run(main) on the loop `factory` makes (None: asyncio's own)."""
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def running() -> str:
    """Which loop runs the calling coroutine: "uvloop" or "asyncio"."""
    module = type(asyncio.get_running_loop()).__module__
    return "uvloop" if module.partition(".")[0] == "uvloop" else "asyncio"
