"""Token checks: a missing, unknown or expired token, the wrong kind or scope, an RDT that does not
cover the call."""

from __future__ import annotations

import dataclasses
import time

import pytest

from spproxy.emulator import (
    EmulatorConfig,
    IssuedToken,
    RestrictedResource,
    make_emulator_app,
)
from spproxy.emulator.apis import OPERATIONS
from tests.emulator.conftest import (
    Client,
    bearer,
    error_of,
    grantless_token,
    mint,
    resource,
    seller,
    seller_token,
    spapi_error,
    state_of,
)
from tests.restricted_cases import CASES, IDS, Case, call, shown

NOTIFICATIONS = "sellingpartnerapi::notifications"
ROTATION = "sellingpartnerapi::client_credential:rotation"


TOKENS = "/tokens/2021-03-01/restrictedDataToken"
US = "ATVPDKIKX0DER"
GET_ORDER = "/orders/v0/orders/{orderId}"


RESTRICTED = {(op.method, op.path): op for op in OPERATIONS if op.restricted}


async def test_missing_token_is_refused(amazon: Client) -> None:
    response = await amazon.get("/sellers/v1/marketplaceParticipations")
    assert response.status == 403
    assert await spapi_error(response) == {
        "code": "Unauthorized",
        "message": "Access to requested resource is denied.",
        "details": "The access token you provided is revoked, malformed or invalid.",
    }
    assert "x-amzn-RateLimit-Limit" not in response.headers


async def test_unknown_token_is_refused(amazon: Client) -> None:
    response = await amazon.get(
        "/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": "Atza|forged"}
    )
    assert response.status == 403
    error = await spapi_error(response)
    assert error["details"] == "The access token you provided is revoked, malformed or invalid."


async def test_expired_token_is_refused_as_expired(amazon: Client) -> None:
    state_of(amazon).tokens["Atza|old"] = IssuedToken("lwa", None, "A1", time.time() - 1)
    response = await amazon.get(
        "/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": "Atza|old"}
    )
    assert response.status == 403
    error = await spapi_error(response)
    assert (error["code"], error["details"]) == (
        "Unauthorized",
        "The access token you provided has expired.",
    )
    assert state_of(amazon).requests[-1].token_kind is None


async def test_seller_token_on_a_grantless_operation_is_refused(amazon: Client) -> None:
    response = await amazon.get("/notifications/v1/destinations", headers=seller_token(amazon))
    assert response.status == 403
    error = await spapi_error(response)
    assert error["code"] == "Unauthorized"
    assert NOTIFICATIONS in error["details"]
    assert state_of(amazon).requests[-1].token_kind == "lwa"


async def test_grantless_token_with_another_scope_is_refused(amazon: Client) -> None:
    headers = grantless_token(amazon, ROTATION)
    response = await amazon.get("/notifications/v1/destinations", headers=headers)
    assert response.status == 403
    assert (await spapi_error(response))["code"] == "Unauthorized"


async def test_grantless_token_on_a_seller_operation_is_refused(amazon: Client) -> None:
    headers = grantless_token(amazon, NOTIFICATIONS)
    response = await amazon.get("/sellers/v1/marketplaceParticipations", headers=headers)
    assert response.status == 403
    assert "LWA" in (await spapi_error(response))["details"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_restricted_operation_refuses_the_lwa_token(amazon: Client, case: Case) -> None:
    response = await call(amazon, case, seller(amazon))
    error = await error_of(response, 403)
    assert error["code"] == "Unauthorized"
    assert "is a restricted operation: it needs a Restricted Data Token" in error["details"]
    assert state_of(amazon).requests[-1].token_kind == "lwa"


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("specific", [False, True], ids=["generic", "specific"])
async def test_restricted_operation_shows_pii_to_a_matching_rdt(
    amazon: Client, case: Case, specific: bool
) -> None:
    rdt = await mint(amazon, resource(case.method, case.path if specific else case.generic))
    response = await call(amazon, case, bearer(rdt))
    assert response.status == 200, await response.text()
    assert case.pii in shown(await response.json())
    assert response.headers["x-amzn-RateLimit-Limit"]
    assert state_of(amazon).requests[-1].token_kind == "rdt"


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_restricted_operation_refuses_an_rdt_for_another_resource(
    amazon: Client, case: Case
) -> None:
    other = "/shipping/v1/shipments/{shipmentId}"
    rdt = await mint(
        amazon, resource("GET", f"{GET_ORDER}/address" if case.generic == other else other)
    )
    response = await call(amazon, case, bearer(rdt))
    error = await error_of(response, 403)
    assert error["details"] == (
        f"The access token you provided does not grant access to {case.method} {case.path}."
    )


async def test_an_rdt_is_no_lwa_token(amazon: Client) -> None:
    rdt = await mint(amazon, resource("GET", "/orders/v0/orders", "buyerInfo"))
    for path in (
        "/sellers/v1/marketplaceParticipations",
        "/reports/2021-06-30/reports/50039018868",
        "/_emulator/echo/x",
    ):
        response = await amazon.get(path, headers=bearer(rdt))
        error = await error_of(response, 403)
        assert "is not a restricted operation" in error["details"]
        assert "Restricted Data Token" in error["details"]
    grantless = await amazon.get("/notifications/v1/destinations", headers=bearer(rdt))
    assert "grantless" in (await error_of(grantless, 403))["details"]
    minted, *used = state_of(amazon).requests
    assert (minted.raw_path, minted.token_kind) == (TOKENS, "lwa")
    assert {r.token_kind for r in used} == {"rdt"}


async def test_an_expired_rdt_is_refused_as_expired(amazon: Client) -> None:
    granted = (RestrictedResource("GET", "/orders/v0/orders"),)
    state_of(amazon).tokens["Atz.sprdt|old"] = IssuedToken(
        "rdt", None, "A1", time.time() - 1, granted
    )
    response = await amazon.get(
        "/orders/v0/orders",
        params={"MarketplaceIds": US, "CreatedAfter": "2025-01-01"},
        headers=bearer("Atz.sprdt|old"),
    )
    error = await error_of(response, 403)
    assert error["details"] == "The access token you provided has expired."
    assert state_of(amazon).requests[-1].token_kind is None


def test_every_served_restricted_operation_is_in_the_config_check() -> None:
    # denied_paths take the table's templates: one of each is accepted.
    for template in {op.path for op in RESTRICTED.values()}:
        make_emulator_app(dataclasses.replace(EmulatorConfig(), denied_paths=frozenset({template})))
