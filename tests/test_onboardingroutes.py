"""The onboarding endpoints: who may start one, what answers when it is not configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_onboarding import US, Browser, browser_session, onboarding, start_url, ticket


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
