"""What the emulator's tests share: an emulated Amazon on loopback, and its state."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from spproxy.emulator import (
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    RestrictedResource,
    make_emulator_app,
)

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def amazon(aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_emulator_app())


def state_of(client: Client) -> EmulatorState:
    return client.app[STATE_KEY]


@pytest.fixture
async def handlers(aiohttp_client: AiohttpClient) -> Client:
    """An emulated Amazon answering from its handlers and data only (no sandbox examples)."""
    return await aiohttp_client(make_emulator_app(EmulatorConfig(sandbox_examples=False)))


def rdt_for(client: Client, method: str, path: str) -> dict[str, str]:
    """Headers with an RDT for one operation (its generic path) of the emulated seller."""
    resource = RestrictedResource(method, path)
    token = state_of(client).issue_token(
        "rdt", selling_partner_id="A1", restricted_resources=(resource,)
    )
    return {"x-amz-access-token": token}
