"""What the emulator's tests share: an emulated Amazon on loopback, and its state."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from yarl import URL

from spproxy.emulator import (
    DEMO_APPLICATION_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    RestrictedResource,
    make_emulator_app,
)
from spproxy.emulator.faults import Faults

Client = TestClient[web.Request, web.Application]


class FakeClock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


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


TOKENS = "/tokens/2021-03-01/restrictedDataToken"


def seller(client: Client) -> dict[str, str]:
    return {"x-amz-access-token": state_of(client).issue_token("lwa", selling_partner_id="A1")}


def bearer(token: str) -> dict[str, str]:
    return {"x-amz-access-token": token}


def resource(method: str, path: str, *elements: str) -> dict[str, Any]:
    listed: dict[str, Any] = {"method": method, "path": path}
    return {**listed, "dataElements": list(elements)} if elements else listed


async def mint(client: Client, *resources: dict[str, Any], **extra: Any) -> str:
    body = {"restrictedResources": list(resources), **extra}
    response = await client.post(TOKENS, json=body, headers=seller(client))
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert set(answer) == {"restrictedDataToken", "expiresIn"}
    token: str = answer["restrictedDataToken"]
    return token


async def error_of(response: Any, status: int) -> dict[str, str]:
    assert response.status == status, await response.text()
    (error,) = (await response.json())["errors"]
    assert set(error) == {"code", "message", "details"}
    return dict(error)


seller_token = seller  # the name some tests use


async def spapi_error(response: ClientResponse) -> dict[str, str]:
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"errors"}
    (error,) = body["errors"]
    assert set(error) == {"code", "message", "details"}
    return dict(error)


def grantless_token(client: Client, scope: str) -> dict[str, str]:
    return {"x-amz-access-token": state_of(client).issue_token("grantless", scope=scope)}


async def get_json(
    client: Client, path: str, params: dict[str, str], status: int = 200
) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=seller_token(client))
    assert response.status == status
    body: dict[str, Any] = await response.json()
    return body


def faults_of(client: Client) -> Faults:
    return state_of(client).faults


async def lwa(client: Client, secret: str = DEMO_CLIENT_SECRET) -> ClientResponse:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": DEMO_REFRESH_TOKEN,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": secret,
    }
    return await client.post("/auth/o2/token", data=form)


CONSENT = "/apps/authorize/consent"


def csrf_token_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


async def consent_page(client: Client, path: str = CONSENT, **query: str) -> str:
    """The consent page for the demo app (a draft: version=beta) with `query` on top."""
    params = {"application_id": DEMO_APPLICATION_ID, "state": "app-state-1", "version": "beta"}
    response = await client.get(path, params={**params, **query})
    assert response.status == 200, await response.text()
    return await response.text()


async def decide(client: Client, page: str, decision: str = "confirm") -> ClientResponse:
    form = {"csrf_token": csrf_token_of(page), "decision": decision}
    return await client.post(CONSENT, data=form, allow_redirects=False)


async def authorize(client: Client, **query: str) -> URL:
    """The website workflow, Confirm clicked: where Amazon sends the browser with the code."""
    answer = await decide(client, await consent_page(client, **query))
    assert answer.status == 302, await answer.text()
    return URL(answer.headers["Location"])
