from __future__ import annotations

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from spproxy.app import make_app
from spproxy.demo import demo_config, start_emulator


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
