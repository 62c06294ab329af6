"""The onboarding endpoints: who may start one, what answers when it is not configured."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from spproxy.errors import Forbidden
from spproxy.onboardingroutes import create
from spproxy.proxy import PROXY
from tests.test_onboarding import US, Browser, browser_session, onboarding, start_url, ticket


class FakeTransport:
    """What aiohttp asks a transport about its peer: this one is on the network."""

    def __init__(self, peer: tuple[str, int]) -> None:
        self._peer = peer

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self._peer if name == "peername" else default


async def test_only_an_admin_client_may_start_an_onboarding(tmp_path: Path) -> None:
    async with onboarding(tmp_path) as world:
        assert (await ticket(world.proxy, {"marketplace_id": US}, key=None)).status == 401
        assert (await ticket(world.proxy, {"marketplace_id": "XX"})).status == 400
        assert (await ticket(world.proxy, {"marketplace_id": US, "name": "a b"})).status == 400
        assert (await ticket(world.proxy, {"no": "marketplace"})).status == 400
        async with browser_session() as session:
            spent = Browser(session)
            url = await start_url(world.proxy)
            assert (await spent.go(url)).status == 302
            assert (await spent.go(url)).status == 400  # a ticket works once


@pytest.mark.parametrize("off", ["onboarding", "appstore"])
async def test_what_is_not_configured_is_not_there(tmp_path: Path, off: str) -> None:
    async with onboarding(tmp_path) as world, browser_session() as session:
        path = "/_spproxy/onboarding/login" if off == "appstore" else "/_spproxy/onboarding/nope"
        async with session.get(world.proxy + path) as answer:
            assert answer.status == 404


async def test_without_clients_only_a_caller_on_this_machine_may_start_one(tmp_path: Path) -> None:
    async with onboarding(tmp_path, clients=False) as world:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{world.proxy}/_spproxy/onboarding", json={"marketplace_id": US}
            ) as local,
        ):
            assert local.status == 200  # loopback: allowed without a key
        proxy = world.app[PROXY]
        request = make_mocked_request(
            "POST",
            "/_spproxy/onboarding",
            app=world.app,
            transport=FakeTransport(("192.0.2.7", 40000)),  # a peer on the network
        )
        assert proxy.onboarding is not None
        with pytest.raises(Forbidden, match="only a caller on this machine"):
            await create(request)
