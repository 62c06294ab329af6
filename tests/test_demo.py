"""`spproxy demo`: its config, and the command as a user runs it (a real process, a real port)."""

from __future__ import annotations

import importlib.util
import signal

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from spproxy.app import make_app
from spproxy.demo import demo_config, start_emulator
from tests.harness import MARKETPLACE, finish, free_port, start_spproxy, until_serving


async def test_demo_config_puts_the_proxy_in_front_of_the_emulator() -> None:
    emulator = await start_emulator()
    try:
        config = demo_config(emulator.url, port=8000)
        assert config.listen.host == "127.0.0.1" and config.aws is None
        assert config.default_account.endpoint == emulator.url
        async with TestServer(make_app(config)) as proxy, ClientSession() as session:
            url = proxy.make_url("/sellers/v1/marketplaceParticipations")
            async with session.get(url) as response:
                assert response.status == 200
                assert response.headers["x-spproxy-credential"] == "lwa"
    finally:
        await emulator.runner.cleanup()


async def test_demo_serves_the_emulator_and_stops_cleanly_on_ctrl_c() -> None:
    port = free_port()
    demo = await start_spproxy("demo", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        await until_serving(base, demo)
        async with ClientSession() as session:
            async with session.get(f"{base}/sellers/v1/marketplaceParticipations") as response:
                assert response.status == 200
                assert (await response.json())["payload"][0]["marketplace"]["id"] == MARKETPLACE
            orders = f"{base}/orders/v0/orders?MarketplaceIds={MARKETPLACE}&CreatedAfter=2024-01-01"
            async with session.get(orders) as response:
                assert response.status == 200
                assert (await response.json())["payload"]["Orders"]
    finally:
        demo.send_signal(signal.SIGINT)
    code, out, err = await finish(demo)
    assert code == 0, err
    assert f"curl -i {base}/sellers/v1/marketplaceParticipations" in out
    assert f"curl -i {base}/orders/v0/orders/902-1845936-5435065/address" in out
    assert "getOrders account=demo token=rdt status=200" in err
    assert "Traceback" not in err
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert f"no account, no network; event loop {loop})" in out
