"""proxy.py, a real forward proxy, started on loopback for a test: its URL and its log file."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.harness import free_port


@asynccontextmanager
async def forward_proxy(log: Path, *options: str) -> AsyncIterator[str]:
    """proxy.py on a free port (`options`: --basic-auth, ...), until it accepts connections;
    it logs each request it carried to `log` when that connection closes."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(port)),
        *("--log-level", "INFO", "--log-file", str(log), "--num-workers", "1", *options),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(30):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    await writer.wait_closed()
                    break
                except OSError:
                    await asyncio.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        await process.wait()
