"""What the emulated Amazon keeps: issued tokens and how long they live."""

from __future__ import annotations

import dataclasses
from typing import Any

from pytest_aiohttp import AiohttpClient

from spproxy.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    EmulatorConfig,
    make_emulator_app,
)
from tests.emulator.conftest import Client, spapi_error


async def lwa(client: Client, **form: str) -> tuple[int, dict[str, Any]]:
    credentials = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    response = await client.post("/auth/o2/token", data={**credentials, **form})
    return response.status, await response.json()


async def test_short_token_ttl_is_honoured(aiohttp_client: AiohttpClient) -> None:
    config = dataclasses.replace(EmulatorConfig(), token_ttl_s=0)
    amazon = await aiohttp_client(make_emulator_app(config))
    status, body = await lwa(amazon, grant_type="refresh_token", refresh_token=DEMO_REFRESH_TOKEN)
    assert (status, body["expires_in"]) == (200, 0)
    response = await amazon.get(
        "/sellers/v1/marketplaceParticipations",
        headers={"x-amz-access-token": body["access_token"]},
    )
    assert (await spapi_error(response))["details"] == "The access token you provided has expired."
