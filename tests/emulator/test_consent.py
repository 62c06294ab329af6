"""The emulated Seller Central's authorization workflows, website and Appstore, and what they
refuse; the code they issue works at LWA (test_lwa.py has how strictly)."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient
from yarl import URL

from spproxy.emulator import (
    DEMO_APPLICATION_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SELLER_ID,
    Application,
    EmulatorConfig,
    make_emulator_app,
)
from spproxy.emulator.application import DEMO_LOGIN_URI, DEMO_REDIRECT_URI, SELLER_ROLES
from spproxy.emulator.consentstore import STEP_TTL_S
from tests.emulator.conftest import (
    CONSENT,
    Client,
    FakeClock,
    authorize,
    consent_page,
    csrf_token_of,
    decide,
    state_of,
)

APPSTORE = "/apps/authorize/appstore"
LOOPBACK_CALLBACK = "http://127.0.0.1:8000/_spproxy/authorize/callback"


async def emulator(aiohttp_client: AiohttpClient, **config: Any) -> Client:
    return await aiohttp_client(make_emulator_app(EmulatorConfig(**config)))


async def test_the_consent_page_shows_the_app_its_roles_and_the_seller(amazon: Client) -> None:
    response = await amazon.get(
        CONSENT,
        params={"application_id": DEMO_APPLICATION_ID, "state": "s1", "version": "beta"},
    )
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    assert '<strong id="application">spproxy demo</strong>' in page
    assert DEMO_APPLICATION_ID in page
    assert all(f"<li>{role}</li>" in page for role in SELLER_ROLES)
    assert f'<strong id="selling-partner">{DEMO_SELLER_ID}</strong>' in page
    assert f'<form method="post" action="{CONSENT}">' in page
    assert 'id="confirm" name="decision" value="confirm">Confirm</button>' in page
    assert 'id="cancel" name="decision" value="cancel">Cancel</button>' in page
    assert 'id="draft"' in page and DEMO_REDIRECT_URI in page
    assert csrf_token_of(page)
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_confirm_redirects_with_the_code_the_state_and_the_seller(amazon: Client) -> None:
    state = "opaque /?&=+ état"
    location = await authorize(amazon, state=state)
    assert location.with_query(None) == URL(DEMO_REDIRECT_URI)
    assert set(location.query) == {"state", "selling_partner_id", "spapi_oauth_code"}
    assert location.query["state"] == state
    assert location.query["selling_partner_id"] == DEMO_SELLER_ID
    assert location.query["spapi_oauth_code"].startswith("AN")


async def test_a_registered_redirect_uri_other_than_the_first(
    aiohttp_client: AiohttpClient,
) -> None:
    uris = (DEMO_REDIRECT_URI, LOOPBACK_CALLBACK)
    amazon = await emulator(aiohttp_client, application=Application(redirect_uris=uris))
    location = await authorize(amazon, redirect_uri=LOOPBACK_CALLBACK)
    assert location.with_query(None) == URL(LOOPBACK_CALLBACK)


async def test_a_redirect_uri_with_a_query_keeps_it_as_registered(
    aiohttp_client: AiohttpClient,
) -> None:
    registered = "https://app.example.com/cb?next=%2Fhome&tenant=a+b"
    amazon = await emulator(aiohttp_client, application=Application(redirect_uris=(registered,)))
    location = (await decide(amazon, await consent_page(amazon, state="s&1"))).headers["Location"]
    assert location.startswith(f"{registered}&state=s%261&selling_partner_id={DEMO_SELLER_ID}&")


async def test_a_published_app_needs_no_version_beta(aiohttp_client: AiohttpClient) -> None:
    amazon = await emulator(aiohttp_client, application=Application(published=True))
    params = {"application_id": DEMO_APPLICATION_ID, "state": "s1"}
    page = await (await amazon.get(CONSENT, params=params)).text()
    assert 'id="draft"' not in page
    assert (await decide(amazon, page)).status == 302


async def test_cancel_sends_the_app_nothing(amazon: Client) -> None:
    page = await consent_page(amazon)
    answer = await decide(amazon, page, "cancel")
    assert answer.status == 200
    assert "Location" not in answer.headers
    assert "You did not authorize spproxy demo" in await answer.text()
    assert (await decide(amazon, page)).status == 403  # the page was used up
    assert state_of(amazon).consents.codes.issued == []


async def test_the_consent_form_works_once_and_expires(aiohttp_client: AiohttpClient) -> None:
    clock = FakeClock()
    amazon = await emulator(aiohttp_client, clock=clock)
    page = await consent_page(amazon)
    assert (await decide(amazon, page)).status == 302
    refused = await decide(amazon, page)
    assert refused.status == 403
    assert "already used" in await refused.text()
    stale = await consent_page(amazon)
    clock.advance(STEP_TTL_S)
    assert (await decide(amazon, stale)).status == 403
    forged = await amazon.post(CONSENT, data={"csrf_token": "made-up", "decision": "confirm"})
    assert forged.status == 403
    assert (await amazon.post(CONSENT, data={"decision": "confirm"})).status == 403


@pytest.mark.parametrize(
    ("query", "status", "shown"),
    [
        ({"application_id": "amzn1.sp.solution.other"}, 404, "No application has this"),
        ({"application_id": ""}, 404, "No application has this"),
        ({"redirect_uri": "https://evil.example/cb"}, 400, "Error code: MD5101"),
        ({"redirect_uri": DEMO_REDIRECT_URI + "/"}, 400, "Error code: MD5101"),  # exactly
        ({"redirect_uri": DEMO_REDIRECT_URI + "#x"}, 400, "Error code: MD5110"),
        ({"state": ""}, 400, "has no state"),
        ({"version": ""}, 400, "Error code: MD1000"),
        ({"version": "Beta"}, 400, "Error code: MD1000"),
    ],
)
async def test_the_consent_page_refuses_as_amazon_does(
    amazon: Client, query: dict[str, str], status: int, shown: str
) -> None:
    params = {"application_id": DEMO_APPLICATION_ID, "state": "s1", "version": "beta", **query}
    response = await amazon.get(CONSENT, params={k: v for k, v in params.items() if v})
    assert response.status == status
    assert response.content_type == "text/html"
    page = await response.text()
    assert shown in page
    assert "csrf_token" not in page
    assert state_of(amazon).consents.pages.issued == []


async def test_a_parameter_given_twice_is_refused_and_escaped(amazon: Client) -> None:
    query = f"application_id={DEMO_APPLICATION_ID}&state=a&state=b&version=beta"
    response = await amazon.get(f"{CONSENT}?{query}")
    assert response.status == 400
    assert "The parameter state is given more than once." in await response.text()
    hostile = "<script>alert(1)</script>"
    response = await amazon.get(CONSENT, params=[(hostile, "1"), (hostile, "2")])
    page = await response.text()
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_an_app_without_redirect_uris_is_md9100(aiohttp_client: AiohttpClient) -> None:
    amazon = await emulator(aiohttp_client, application=Application(redirect_uris=()))
    params = {"application_id": DEMO_APPLICATION_ID, "state": "s1", "version": "beta"}
    response = await amazon.get(CONSENT, params=params)
    assert response.status == 400
    assert "Error code: MD9100" in await response.text()


async def test_the_app_name_is_escaped(aiohttp_client: AiohttpClient) -> None:
    application = Application(name='<img src=x onerror="alert(1)"> & Co')
    amazon = await emulator(aiohttp_client, application=application)
    page = await consent_page(amazon)
    assert "<img" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; Co" in page


async def test_another_signed_in_seller_consents_as_itself(amazon: Client) -> None:
    state_of(amazon).signed_in_seller = "A3OTHERSELLER"
    location = await authorize(amazon)
    assert location.query["selling_partner_id"] == "A3OTHERSELLER"


async def _appstore_login(amazon: Client, **query: str) -> URL:
    """Authorize Now, then "Login to <app> now": where Amazon sends the browser (the login URI)."""
    page = await consent_page(amazon, APPSTORE, **query)
    assert "Login to spproxy demo now</button>" in page
    answer = await decide(amazon, page)
    assert answer.status == 302, await answer.text()
    return URL(answer.headers["Location"])


async def test_the_appstore_round_trip(amazon: Client) -> None:
    login = await _appstore_login(amazon)
    assert login.with_query(None) == URL(DEMO_LOGIN_URI)
    assert set(login.query) == {
        "amazon_callback_uri",
        "amazon_state",
        "selling_partner_id",
        "version",
    }
    assert (login.query["selling_partner_id"], login.query["version"]) == (DEMO_SELLER_ID, "beta")
    callback = URL(login.query["amazon_callback_uri"])
    assert callback == amazon.make_url(f"/apps/authorize/confirm/{DEMO_APPLICATION_ID}")

    # The app signs the seller in, then sends the browser back to Amazon.
    back = {"amazon_state": login.query["amazon_state"], "state": "app-7", "version": "beta"}
    answer = await amazon.get(callback.path, params=back, allow_redirects=False)
    assert answer.status == 302, await answer.text()
    location = URL(answer.headers["Location"])
    assert location.with_query(None) == URL(DEMO_REDIRECT_URI)
    assert location.query["state"] == "app-7"
    assert location.query["selling_partner_id"] == DEMO_SELLER_ID

    form = {
        "grant_type": "authorization_code",
        "code": location.query["spapi_oauth_code"],
        "redirect_uri": DEMO_REDIRECT_URI,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    exchanged = await amazon.post("/auth/o2/token", data=form)
    assert exchanged.status == 200
    again = await amazon.get(callback.path, params=back, allow_redirects=False)
    assert again.status == 403  # amazon_state works once


async def test_the_callback_is_on_the_host_the_browser_used(amazon: Client) -> None:
    page = await consent_page(amazon, APPSTORE)
    form = {"csrf_token": csrf_token_of(page), "decision": "confirm"}
    headers = {"Host": "sellercentral.amazon.co.uk"}
    answer = await amazon.post(CONSENT, data=form, headers=headers, allow_redirects=False)
    callback = URL(URL(answer.headers["Location"]).query["amazon_callback_uri"])
    assert callback.host == "sellercentral.amazon.co.uk"


async def test_a_published_apps_login_carries_no_version(aiohttp_client: AiohttpClient) -> None:
    amazon = await emulator(aiohttp_client, application=Application(published=True))
    login = await _appstore_login(amazon, version="")
    assert "version" not in login.query


@pytest.mark.parametrize(
    ("change", "status", "shown"),
    [
        ({"amazon_state": "forged"}, 403, "amazon_state is missing"),
        ({"amazon_state": ""}, 403, "amazon_state is missing"),
        ({"state": ""}, 400, "has no state"),
        ({"version": ""}, 400, "Error code: MD1000"),
        ({"redirect_uri": "https://evil.example/cb"}, 400, "Error code: MD5101"),
        ({"path": "/apps/authorize/confirm/amzn1.sp.solution.other"}, 404, "No application"),
    ],
)
async def test_the_callback_refuses(
    amazon: Client, change: dict[str, str], status: int, shown: str
) -> None:
    login = await _appstore_login(amazon)
    path = change.pop("path", URL(login.query["amazon_callback_uri"]).path)
    back = {"amazon_state": login.query["amazon_state"], "state": "s", "version": "beta", **change}
    answer = await amazon.get(path, params={k: v for k, v in back.items() if v})
    assert answer.status == status
    assert shown in await answer.text()
    assert state_of(amazon).consents.codes.issued == []


async def test_a_refused_callback_leaves_the_workflow_open(amazon: Client) -> None:
    login = await _appstore_login(amazon)
    callback = URL(login.query["amazon_callback_uri"]).path
    back = {"amazon_state": login.query["amazon_state"], "version": "beta"}
    assert (await amazon.get(callback, params=back)).status == 400  # no state
    answer = await amazon.get(callback, params={**back, "state": "s"}, allow_redirects=False)
    assert answer.status == 302


async def test_the_appstore_workflow_refuses_as_the_website_one(
    aiohttp_client: AiohttpClient,
) -> None:
    amazon = await emulator(aiohttp_client, application=Application(login_uri=""))
    params = {"application_id": DEMO_APPLICATION_ID, "version": "beta"}
    response = await amazon.get(APPSTORE, params=params)
    assert response.status == 400
    assert "Error code: MD9100" in await response.text()
    draft = await amazon.get(APPSTORE, params={"application_id": DEMO_APPLICATION_ID})
    assert draft.status == 400
    assert "Error code: MD1000" in await draft.text()
