"""What the emulator's tests share: an emulated Amazon on loopback, and its state."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from spproxy.emulator import STATE_KEY, EmulatorState, make_emulator_app

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def amazon(aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_emulator_app())


def state_of(client: Client) -> EmulatorState:
    return client.app[STATE_KEY]
