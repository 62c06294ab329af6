"""Every static 2xx example of Amazon's models, called through spproxy in front of the emulator.

Each example is sent as a client would send it to Amazon's sandbox (the example's path, query
and body parameters, the operation's method) to the proxy, which gets the token the operation
needs (LWA, grantless or an RDT) from the emulated Amazon; the answer must be the published one:
the same status and the same JSON body (none where the example has none or the status is 204).
Restricted operations must have been called with an RDT. Each example goes through an account of
the region its marketplaces belong to, as spproxy refuses another region's (`marketplaces`). The
few examples that do not come back as published are listed in KNOWN, each with its reason: 406
of the 411 do.

Through a sandbox account (`sandbox: true`) in front of the emulator as Amazon's static sandbox
(`EmulatorConfig.static_sandbox`), all 411 come back as published, restricted ones with the LWA
token (`x-spproxy-credential: sandbox-lwa`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from spproxy.app import make_app
from spproxy.config import Config
from spproxy.demo import demo_config, start_emulator
from spproxy.emulator import (
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    make_emulator_app,
)
from spproxy.emulator.apis import OPERATIONS
from spproxy.emulator.examples import published
from spproxy.marketplaces import MARKETPLACE_PARAMETERS, region_of
from spproxy.regions import REGIONS
from tests.harness import proxy_config

Client = TestClient[web.Request, web.Application]
# Restricted for every call, so the proxy must send an RDT (getReportDocument is restricted only
# for documents of restricted report types, which no example names).
NEEDS_RDT = {(op.method, op.path) for op in OPERATIONS if op.restricted and op.generic_path_allowed}
UNNAMED_PATH_VALUE = "example"  # for a path parameter an example (a catch-all) does not name


@dataclass(frozen=True)
class Call:
    id: str
    method: str
    path: str  # concrete, percent-encoded
    query: list[tuple[str, str]]
    body: Any
    status: int
    response: Any  # None: no body
    restricted: bool
    region: str  # of the marketplaces it names (na if none): the account it goes through


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return value if isinstance(value, str) else json.dumps(value)


def _calls() -> list[Call]:
    calls = []
    for (method, template), operation in published().items():
        model = Path(operation.model).stem
        successes = [e for e in operation.examples if 200 <= e.status < 300]
        for number, example in enumerate(successes):
            path = template
            for name in _placeholders(template):
                value = example.path.get(name, UNNAMED_PATH_VALUE)
                path = path.replace(f"{{{name}}}", quote(_text(value), safe=""))
            calls.append(
                Call(
                    id=f"{model}:{operation.name}:{number}",
                    method=method,
                    path=path,
                    query=[(name, _text(value)) for name, value in example.query.items()],
                    body=example.body if example.names_body else None,
                    status=example.status,
                    response=None if example.status == 204 else example.response,
                    restricted=(method, template) in NEEDS_RDT,
                    region=_region(example.query),
                )
            )
    return sorted(calls, key=lambda call: call.id)


def _region(query: Mapping[str, Any]) -> str:
    named = [query[name] for name in MARKETPLACE_PARAMETERS if name in query]
    ids = [i for value in named for i in (value if isinstance(value, list) else [value])]
    return next((region for i in ids if (region := region_of(str(i)))), "na")


def _placeholders(template: str) -> list[str]:
    return [s[1:-1] for s in template.split("/") if s.startswith("{") and s.endswith("}")]


CALLS = _calls()

# Published examples that do not come back exactly as Amazon publishes them, and why.
_LIVE_RDT = (
    "the Tokens API mints a live RDT that the emulator's restricted operations accept; the "
    "published token is a fixed string no emulated operation would take"
)
_LIVE_UPLOAD_URL = (
    "createFeedDocument answers a URL on the emulator that takes the upload; the published URL "
    "is on Amazon's bucket, where a feed uploaded through spproxy would never land"
)
_OWN_PURCHASE_ORDER = (
    "purchase order 2JK3S9VC is also the emulated vendor's own (fixtures: a fictitious buyer, "
    "Alex Morgan, for the RDT tests); the emulator's own resources answer before an example "
    "with the same id (sandbox.py, rule 1)"
)
KNOWN: dict[str, str] = {
    "tokens_2021-03-01:createRestrictedDataToken:0": _LIVE_RDT,
    "tokens_2021-03-01:createRestrictedDataToken:1": _LIVE_RDT,
    "feeds_2021-06-30:createFeedDocument:0": _LIVE_UPLOAD_URL,
    "vendorDirectFulfillmentOrdersV1:getOrder:0": _OWN_PURCHASE_ORDER,
    "vendorDirectFulfillmentShippingV1:getShippingLabel:0": _OWN_PURCHASE_ORDER,
}


def _one_account_per_region(emulator_url: str, *, sandbox: bool = False) -> Config:
    """Accounts na, eu and fe, each of its region, all on the emulator."""
    accounts = dict.fromkeys(REGIONS, DEMO_REFRESH_TOKEN)
    regions = {name: name for name in REGIONS}
    return proxy_config(emulator_url, accounts=accounts, regions=regions, sandbox=sandbox)


@dataclass
class Through:
    proxy: Client
    amazon: EmulatorState


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def through() -> AsyncIterator[Through]:
    """One emulator and one proxy in front of it (pacing off) for all the examples: 411 pairs
    of servers would cost more than the calls."""
    amazon = make_emulator_app()
    async with TestServer(amazon) as emulator:
        config = _one_account_per_region(str(emulator.make_url("")).rstrip("/"))
        async with TestClient(TestServer(make_app(config))) as client:
            yield Through(client, amazon[STATE_KEY])


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            call, id=call.id, marks=[pytest.mark.xfail(strict=True, reason=KNOWN[call.id])]
        )
        if call.id in KNOWN
        else pytest.param(call, id=call.id)
        for call in CALLS
    ],
)
async def test_a_published_example_comes_back_as_published(through: Through, call: Call) -> None:
    options: dict[str, Any] = {"params": call.query, "headers": {"x-spproxy-account": call.region}}
    if call.body is not None:
        options["json"] = call.body
    response = await through.proxy.request(call.method, call.path, **options)
    text = await response.text()
    if call.restricted:
        assert through.amazon.requests[-1].token_kind == "rdt"
        assert response.headers["x-spproxy-credential"].startswith("rdt-")
    assert response.status == call.status, text[:500]
    if call.response is None:
        assert text == ""
    else:
        assert json.loads(text) == call.response


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def through_sandbox() -> AsyncIterator[Through]:
    """A sandbox account (`sandbox: true`) in front of the emulator as Amazon's static sandbox."""
    amazon = make_emulator_app(EmulatorConfig(static_sandbox=True))
    async with TestServer(amazon) as emulator:
        config = _one_account_per_region(str(emulator.make_url("")).rstrip("/"), sandbox=True)
        async with TestClient(TestServer(make_app(config))) as client:
            yield Through(client, amazon[STATE_KEY])


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("call", [pytest.param(call, id=call.id) for call in CALLS])
async def test_through_a_sandbox_account_every_example_comes_back_as_published(
    through_sandbox: Through, call: Call
) -> None:
    """The static sandbox answers exactly what the models publish, the Tokens API's fixed tokens
    included; spproxy mints nothing and sends restricted calls with the LWA token."""
    options: dict[str, Any] = {"params": call.query, "headers": {"x-spproxy-account": call.region}}
    if call.body is not None:
        options["json"] = call.body
    response = await through_sandbox.proxy.request(call.method, call.path, **options)
    text = await response.text()
    if call.restricted:
        assert response.headers["x-spproxy-credential"] == "sandbox-lwa"
        assert through_sandbox.amazon.requests[-1].token_kind == "lwa"
    assert response.status == call.status, text[:500]
    if call.response is None:
        assert text == ""
    else:
        assert json.loads(text) == call.response
    assert through_sandbox.amazon.rdt_mints == []


def test_every_published_2xx_example_is_called() -> None:
    assert len(CALLS) == 411
    assert len({call.id for call in CALLS}) == len(CALLS)


def test_at_least_95_percent_come_back_as_published() -> None:
    assert set(KNOWN) <= {call.id for call in CALLS}
    assert len(KNOWN) <= 0.05 * len(CALLS)


async def test_the_demo_serves_the_examples_and_restricted_ones_need_an_rdt() -> None:
    emulator = await start_emulator()
    try:
        config = demo_config(emulator.url, port=8000)
        async with TestClient(TestServer(make_app(config))) as demo:
            address = await demo.get("/orders/v0/orders/TEST_CASE_200/address")
            assert address.status == 200
            assert address.headers["x-spproxy-credential"] == "rdt-minted"
            published_address = published()["GET", "/orders/v0/orders/{orderId}/address"]
            assert await address.json() == published_address.examples[0].response
            account = await demo.get("/sellers/v1/account")
            assert account.status == 200
            assert (await account.json())["payload"]["businessType"] == "PRIVATE_LIMITED"
    finally:
        await emulator.runner.cleanup()
