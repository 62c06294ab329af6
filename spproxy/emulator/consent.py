"""The emulated Seller Central's OAuth authorization workflows: a selling partner authorises the
app, and Amazon sends the app an authorization code (SP-API Developer Guide, "Website
Authorization Workflow" and "Selling Partner Appstore Authorization Workflow").

Any host: every Seller and Vendor Central URL can point at the emulator, and these routes serve
them all, for the one app it knows (EmulatorConfig.application) and its signed-in seller.

GET  /apps/authorize/consent?application_id&state[&redirect_uri][&version=beta]
     the website workflow's consent page: the app, the roles it asks for, the selling partner,
     Confirm and Cancel
GET  /apps/authorize/appstore?application_id[&version=beta]
     Authorize Now on the app's Appstore detail page (with version=beta: a draft app's test
     workflow): the consent page, whose button is "Login to <app> now"
POST /apps/authorize/consent   the consent page's form (csrf_token, decision=confirm|cancel):
     website workflow: 302 to redirect_uri?state&selling_partner_id&spapi_oauth_code;
     Appstore: 302 to the app's login URI
     ?amazon_callback_uri&amazon_state&selling_partner_id[&version=beta]
GET  /apps/authorize/confirm/{application_id}?amazon_state&state[&redirect_uri][&version=beta]
     the amazon_callback_uri the login URI sends the browser back to: 302 to
     redirect_uri?state&selling_partner_id&spapi_oauth_code

Refused with a page, with the code Amazon's "Authorization Errors" page gives where it gives one:
MD1000 a draft app without version=beta; MD5101 a redirect_uri that is not one of the app's;
MD5110 one with a fragment; MD9100 an app registered without a redirect URI (or login URI, for
the Appstore). Refused too, with no documented code: an application_id that is not the app's; a
missing state; a parameter given twice (RFC 6749 section 3.1); a consent form whose CSRF token
was not issued, was used, or expired; an amazon_state likewise.

Cancel sends the app nothing: the guide's seller "can click the Cancel button to exit without
authorizing", and there is no cancel redirect URI (selling-partner-api-models issues #665, #1542).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from multidict import MultiMapping
from yarl import URL

from spproxy.emulator.application import Application
from spproxy.emulator.consentpage import (
    CONSENT_PATH,
    ConsentRefusal,
    cancelled_page,
    consent_page,
)
from spproxy.emulator.consentstore import ConsentRequest, IssuedCode
from spproxy.emulator.state import STATE_KEY, EmulatorState

APPSTORE_PATH = "/apps/authorize/appstore"
CALLBACK_PATH = "/apps/authorize/confirm/{application_id}"  # as Amazon's amazon_callback_uri
_CALLBACK_ROUTE = "amazon_callback"

PageHandler = Callable[[web.Request], Awaitable[web.Response]]


def add_consent_routes(router: web.UrlDispatcher) -> None:
    router.add_get(CONSENT_PATH, _showing_refusals(show_website_consent))
    router.add_post(CONSENT_PATH, _showing_refusals(decide))
    router.add_get(APPSTORE_PATH, _showing_refusals(show_appstore_consent))
    router.add_get(CALLBACK_PATH, _showing_refusals(continue_appstore), name=_CALLBACK_ROUTE)


def _showing_refusals(handler: PageHandler) -> PageHandler:
    @functools.wraps(handler)
    async def answer(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except ConsentRefusal as refusal:
            return refusal.response()

    return answer


async def show_website_consent(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    application = state.config.application
    query = _single_values(request.query)
    beta = _check_application(application, query.get("application_id", ""), query)
    consent = ConsentRequest(
        "website",
        state.signed_in_seller,
        beta,
        state=_app_state(query),
        redirect_uri=_redirect_uri(application, query),
    )
    return _show(state, consent)


async def show_appstore_consent(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    application = state.config.application
    query = _single_values(request.query)
    beta = _check_application(application, query.get("application_id", ""), query)
    if not application.login_uri:
        raise ConsentRefusal(400, "MD9100", "The application has no OAuth login URI registered.")
    return _show(state, ConsentRequest("appstore", state.signed_in_seller, beta))


def _show(state: EmulatorState, consent: ConsentRequest) -> web.Response:
    csrf_token = state.consents.pages.issue(consent)
    return consent_page(state.config.application, consent, csrf_token)


async def decide(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    form = await request.post()
    csrf_token = form.get("csrf_token")
    consent = None
    if isinstance(csrf_token, str):
        consent = state.consents.pages.take(csrf_token)
    if consent is None:
        raise ConsentRefusal(
            403,
            None,
            "This consent page was not issued here, was already used, or has expired: start "
            "the authorization again from the application.",
        )
    if form.get("decision") != "confirm":
        return cancelled_page(state.config.application)
    if consent.workflow == "website":
        return _redirect_with_code(
            state, consent.selling_partner_id, consent.redirect_uri, consent.state
        )
    return _send_to_login(request, state, consent)


def _send_to_login(
    request: web.Request, state: EmulatorState, consent: ConsentRequest
) -> web.Response:
    """Step 2 of the Appstore workflow: Amazon loads the app's login URI."""
    application = state.config.application
    callback = request.app.router[_CALLBACK_ROUTE].url_for(
        application_id=application.application_id
    )
    query = {
        "amazon_callback_uri": str(request.url.origin().join(callback)),
        "amazon_state": state.consents.amazon_states.issue(consent.selling_partner_id),
        "selling_partner_id": consent.selling_partner_id,
    }
    if consent.beta:  # Amazon adds it in a test workflow, not in a production one
        query["version"] = "beta"
    return _redirect(_registered(application.login_uri).extend_query(query))


async def continue_appstore(request: web.Request) -> web.Response:
    """Step 4 of the Appstore workflow: the app sends the browser back to amazon_callback_uri."""
    state = request.app[STATE_KEY]
    application = state.config.application
    query = _single_values(request.query)
    _check_application(application, request.match_info["application_id"], query)
    app_state = _app_state(query)
    redirect_uri = _redirect_uri(application, query)
    # Taken last: a refusal above leaves the workflow open for a corrected redirect.
    seller_id = state.consents.amazon_states.take(query.get("amazon_state", ""))
    if seller_id is None:
        raise ConsentRefusal(
            403,
            None,
            "amazon_state is missing, was not issued here, was already used or has expired: "
            "it must be the one Amazon passed to the login URI.",
        )
    return _redirect_with_code(state, seller_id, redirect_uri, app_state)


def _redirect_with_code(
    state: EmulatorState, seller_id: str, redirect_uri: str, app_state: str
) -> web.Response:
    code = state.consents.codes.issue(IssuedCode(seller_id, redirect_uri))
    answer = {"state": app_state, "selling_partner_id": seller_id, "spapi_oauth_code": code}
    return _redirect(_registered(redirect_uri).extend_query(answer))


def _registered(uri: str) -> URL:
    # As registered, byte for byte (yarl would decode %2F and the like otherwise): the app's
    # query, if any, stays and Amazon's parameters come after it.
    return URL(uri, encoded=True)


def _redirect(location: URL) -> web.Response:
    # Not cached: the location carries a code or an amazon_state.
    return web.Response(
        status=302, headers={"Location": str(location), "Cache-Control": "no-store"}
    )


def _single_values(query: MultiMapping[str]) -> Mapping[str, str]:
    # RFC 6749 section 3.1: "Request and response parameters MUST NOT be included more than
    # once"; two different values must not leave it to the reader which one counts.
    for name in query:
        if len(query.getall(name)) > 1:
            raise ConsentRefusal(400, None, f"The parameter {name} is given more than once.")
    return dict(query)


def _check_application(
    application: Application, application_id: str, query: Mapping[str, str]
) -> bool:
    """Whether this is a test workflow (version=beta), for the app the emulator knows."""
    if application_id != application.application_id:
        raise ConsentRefusal(404, None, "No application has this application_id.")
    beta = query.get("version") == "beta"
    if not (beta or application.published):
        # Authorization Errors, MD1000: a draft app authorised by the production workflow.
        raise ConsentRefusal(
            400,
            "MD1000",
            "The application is in Draft state: add version=beta to the authorization URI.",
        )
    return beta


def _app_state(query: Mapping[str, str]) -> str:
    # Both workflows send it (website step 3, Appstore step 4) and want it back with the code; a
    # consent URI without state is, at Amazon, the Appstore test workflow: here that is
    # APPSTORE_PATH, so that a state lost on the way shows.
    state = query.get("state", "")
    if not state:
        raise ConsentRefusal(
            400, None, "The authorization URI has no state: the application must send one."
        )
    return state


def _redirect_uri(application: Application, query: Mapping[str, str]) -> str:
    if not application.redirect_uris:
        raise ConsentRefusal(400, "MD9100", "The application has no OAuth redirect URI registered.")
    redirect_uri = query.get("redirect_uri")
    if redirect_uri is None:
        return application.redirect_uris[0]
    if "#" in redirect_uri:
        raise ConsentRefusal(400, "MD5110", "The redirect URI has a fragment (#).")
    if redirect_uri not in application.redirect_uris:
        # Compared as strings, exactly: MD5101 is "doesn't match one of the redirect URIs".
        raise ConsentRefusal(
            400, "MD5101", "The redirect URI is not one of the application's redirect URIs."
        )
    return redirect_uri
