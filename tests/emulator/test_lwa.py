"""The emulated LWA: the refresh_token, client_credentials and authorization_code grants, refused
as LWA refuses them."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient

from spproxy.emulator import (
    DEMO_AUTHORIZATION_CODE,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DEMO_SELLER_ID,
    Application,
    EmulatorConfig,
    make_emulator_app,
)
from spproxy.emulator.application import DEMO_REDIRECT_URI
from spproxy.emulator.consentstore import CODE_TTL_S
from tests.emulator.conftest import Client, FakeClock, authorize, state_of

NOTIFICATIONS = "sellingpartnerapi::notifications"
ROTATION = "sellingpartnerapi::client_credential:rotation"


async def lwa(client: Client, **form: str) -> tuple[int, dict[str, Any]]:
    credentials = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    response = await client.post("/auth/o2/token", data={**credentials, **form})
    return response.status, await response.json()


async def test_refresh_token_grant_issues_a_seller_token(amazon: Client) -> None:
    status, body = await lwa(amazon, grant_type="refresh_token", refresh_token=DEMO_REFRESH_TOKEN)
    assert status == 200
    assert body["refresh_token"] == DEMO_REFRESH_TOKEN
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    issued = state_of(amazon).valid_token(body["access_token"])
    assert issued is not None
    assert (issued.kind, issued.selling_partner_id) == ("lwa", DEMO_SELLER_ID)
    assert state_of(amazon).lwa_exchanges == {"refresh_token": 1}


async def test_refresh_token_grant_accepts_a_json_body(amazon: Client) -> None:
    response = await amazon.post(
        "/auth/o2/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": DEMO_REFRESH_TOKEN,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        },
    )
    assert response.status == 200
    assert (await response.json())["access_token"].startswith("Atza|")


@pytest.mark.parametrize("scope", [NOTIFICATIONS, ROTATION])
async def test_client_credentials_grant_issues_a_grantless_token(
    amazon: Client, scope: str
) -> None:
    status, body = await lwa(amazon, grant_type="client_credentials", scope=scope)
    assert status == 200
    assert body["scope"] == scope
    assert body["token_type"] == "bearer"
    issued = state_of(amazon).valid_token(body["access_token"])
    assert issued is not None
    assert (issued.kind, issued.scope) == ("grantless", scope)
    assert state_of(amazon).lwa_exchanges == {"client_credentials": 1}


async def test_authorization_code_grant_issues_a_usable_refresh_token(amazon: Client) -> None:
    status, body = await lwa(
        amazon,
        grant_type="authorization_code",
        code=DEMO_AUTHORIZATION_CODE,
        redirect_uri="https://app.example.com/callback",
    )
    assert status == 200
    assert body["refresh_token"].startswith("Atzr|")
    issued = state_of(amazon).valid_token(body["access_token"])
    assert issued is not None
    assert issued.selling_partner_id == DEMO_SELLER_ID

    status, refreshed = await lwa(
        amazon, grant_type="refresh_token", refresh_token=body["refresh_token"]
    )
    assert status == 200
    assert refreshed["refresh_token"] == body["refresh_token"]
    assert state_of(amazon).lwa_exchanges == {"authorization_code": 1, "refresh_token": 1}
    assert body["refresh_token"] in state_of(amazon).issued_secrets()


async def test_authorization_code_is_single_use(amazon: Client) -> None:
    form = {"code": DEMO_AUTHORIZATION_CODE, "redirect_uri": "https://app.example.com/cb"}
    assert (await lwa(amazon, grant_type="authorization_code", **form))[0] == 200
    status, body = await lwa(amazon, grant_type="authorization_code", **form)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert body["error_description"] == "The request has an invalid grant parameter : code"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "amzn1.application-oa2-client.other"}, 401, "invalid_client"),
        ({"refresh_token": "Atzr|unknown"}, 400, "invalid_grant"),
        ({"refresh_token": ""}, 400, "invalid_request"),
        ({"client_secret": ""}, 400, "invalid_request"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "profile"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials"}, 400, "invalid_request"),
        ({"grant_type": "authorization_code", "code": "AN-nope"}, 400, "invalid_request"),
        (
            {"grant_type": "authorization_code", "code": "AN-nope", "redirect_uri": "https://a"},
            400,
            "invalid_grant",
        ),
    ],
)
async def test_lwa_refusals(amazon: Client, form: dict[str, str], status: int, error: str) -> None:
    request = {
        "grant_type": "refresh_token",
        "refresh_token": DEMO_REFRESH_TOKEN,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        **form,
    }
    response = await amazon.post("/auth/o2/token", data={k: v for k, v in request.items() if v})
    assert response.status == status
    body = await response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert DEMO_CLIENT_SECRET not in await response.text()
    assert "x-amzn-RequestId" in response.headers
    assert sum(state_of(amazon).lwa_exchanges.values()) == 0


async def test_lwa_refusal_descriptions_match_amazons(amazon: Client) -> None:
    _, unknown_client = await lwa(
        amazon, grant_type="refresh_token", refresh_token=DEMO_REFRESH_TOKEN, client_secret="x"
    )
    assert unknown_client["error_description"] == "Client authentication failed"
    _, bad_grant = await lwa(amazon, grant_type="refresh_token", refresh_token="Atzr|gone")
    assert (
        bad_grant["error_description"]
        == "The request has an invalid grant parameter : refresh_token"
    )


async def test_grantless_token_from_lwa_works_end_to_end(amazon: Client) -> None:
    _, body = await lwa(amazon, grant_type="client_credentials", scope=NOTIFICATIONS)
    response = await amazon.get(
        "/notifications/v1/destinations", headers={"x-amz-access-token": body["access_token"]}
    )
    assert response.status == 200


async def _exchange(client: Client, code: str, redirect_uri: str) -> tuple[int, dict[str, Any]]:
    return await lwa(client, grant_type="authorization_code", code=code, redirect_uri=redirect_uri)


async def test_a_code_from_the_consent_page_grants_a_refresh_token_for_its_seller(
    amazon: Client,
) -> None:
    state_of(amazon).signed_in_seller = "A3ONBOARDED"
    code = (await authorize(amazon)).query["spapi_oauth_code"]
    status, body = await _exchange(amazon, code, DEMO_REDIRECT_URI)
    assert status == 200, body
    assert state_of(amazon).granted_refresh_tokens == {body["refresh_token"]: "A3ONBOARDED"}
    assert code in state_of(amazon).issued_secrets()

    status, refreshed = await lwa(
        amazon, grant_type="refresh_token", refresh_token=body["refresh_token"]
    )
    assert status == 200
    headers = {"x-amz-access-token": refreshed["access_token"]}
    response = await amazon.get("/sellers/v1/marketplaceParticipations", headers=headers)
    assert response.status == 200
    assert state_of(amazon).requests[-1].token_kind == "lwa"
    issued = state_of(amazon).valid_token(refreshed["access_token"])
    assert issued is not None and issued.selling_partner_id == "A3ONBOARDED"


async def test_a_code_works_once(amazon: Client) -> None:
    code = (await authorize(amazon)).query["spapi_oauth_code"]
    assert (await _exchange(amazon, code, DEMO_REDIRECT_URI))[0] == 200
    status, body = await _exchange(amazon, code, DEMO_REDIRECT_URI)
    assert (status, body["error"]) == (400, "invalid_grant")
    assert body["error_description"] == "The request has an invalid grant parameter : code"


async def test_a_code_expires_after_five_minutes(aiohttp_client: AiohttpClient) -> None:
    clock = FakeClock()
    amazon = await aiohttp_client(make_emulator_app(EmulatorConfig(clock=clock)))
    late = (await authorize(amazon)).query["spapi_oauth_code"]
    in_time = (await authorize(amazon)).query["spapi_oauth_code"]
    clock.advance(CODE_TTL_S - 1)
    assert (await _exchange(amazon, in_time, DEMO_REDIRECT_URI))[0] == 200
    clock.advance(1)
    status, body = await _exchange(amazon, late, DEMO_REDIRECT_URI)
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_a_code_is_for_the_redirect_uri_it_was_issued_for(
    aiohttp_client: AiohttpClient,
) -> None:
    other = "http://localhost:9000/callback"
    application = Application(redirect_uris=(DEMO_REDIRECT_URI, other))
    amazon = await aiohttp_client(make_emulator_app(EmulatorConfig(application=application)))
    code = (await authorize(amazon)).query["spapi_oauth_code"]
    status, body = await _exchange(amazon, code, other)  # registered, but not this code's
    assert (status, body["error"]) == (400, "invalid_grant")
    # Tried with the wrong one, it is used up, as a code tried twice.
    assert (await _exchange(amazon, code, DEMO_REDIRECT_URI))[0] == 400
    assert state_of(amazon).granted_refresh_tokens == {}
