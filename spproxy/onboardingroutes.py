"""The onboarding endpoints under /_spproxy/onboarding/ (the flows: `onboarding`).

    POST /_spproxy/onboarding            an admin client (a loopback caller without clients:):
                                         {"marketplace_id", "name"?, "vendor"?} -> {"url"}
    GET  /_spproxy/onboarding/start      the seller's browser, with its ticket
    GET  /_spproxy/onboarding/login      the Appstore workflow's login URI (onboarding.appstore)
    GET  /_spproxy/onboarding/callback   Amazon's redirect back (onboarding.redirect_uri)

Browsers get HTML pages, every value escaped; the cookie that binds an authorization to its
browser is HttpOnly, SameSite=Lax (Amazon's redirect back is a top-level GET) and, over HTTPS,
Secure.
"""

from __future__ import annotations

import html
import json

from aiohttp import hdrs, web

from spproxy.addresses import is_loopback
from spproxy.body import read_body
from spproxy.errors import BadRequest, Forbidden, NotFound
from spproxy.headers import ORIGIN_HEADER
from spproxy.onboarding import Onboarding, Step
from spproxy.proxy import PROXY
from spproxy.target import RESERVED_PREFIX

PREFIX = RESERVED_PREFIX + "onboarding"


def loopback_uri(port: int, endpoint: str) -> str:
    """An onboarding endpoint (callback, login) on this machine: for the demo and authorize."""
    return f"http://127.0.0.1:{port}{PREFIX}/{endpoint}"


COOKIE = "spproxy_onboarding"
MAX_BODY = 4096


def _onboarding(request: web.Request) -> Onboarding:
    onboarding = request.app[PROXY].onboarding
    if onboarding is None:
        raise NotFound("Onboarding is off: configure onboarding: (see the README).")
    return onboarding


async def create(request: web.Request) -> web.Response:
    """A ticket: the link the application hands to the seller."""
    onboarding = _onboarding(request)
    proxy = request.app[PROXY]
    client = await proxy.clients.identify(request.headers)
    if client is None and not is_loopback(request.remote):
        raise Forbidden("Without clients: only a caller on this machine may onboard sellers.")
    if client is not None and not client.onboarding:
        raise Forbidden(f"Client '{client.name}' may not onboard sellers (onboarding: true).")
    body = await read_body(request, MAX_BODY, proxy.config.listen.body_timeout_s)
    try:
        asked = json.loads(body or b"{}")
    except ValueError:
        asked = None
    if not isinstance(asked, dict) or not isinstance(asked.get("marketplace_id"), str):
        raise BadRequest('The body must be JSON: {"marketplace_id": "...", "name": "..."}.')
    name, vendor = asked.get("name"), asked.get("vendor", False)
    if not (name is None or isinstance(name, str)) or not isinstance(vendor, bool):
        raise BadRequest("name must be a string and vendor a boolean.")
    who = client.name if client is not None else "-"
    ticket = await onboarding.ticket(asked["marketplace_id"], name, vendor, who)
    url = request.url.with_path(f"{PREFIX}/start").with_query(ticket=ticket)
    return web.json_response({"url": str(url), "expires_in": int(onboarding.pending.ttl_s)})


async def start(request: web.Request) -> web.StreamResponse:
    return _answer(request, await _onboarding(request).start(request.query.get("ticket", "")))


async def login(request: web.Request) -> web.StreamResponse:
    onboarding = _onboarding(request)
    if not onboarding.config.appstore:
        raise NotFound("The Appstore workflow is off (onboarding.appstore).")
    query = request.query
    step = await onboarding.login(
        query.get("amazon_callback_uri", ""),
        query.get("amazon_state", ""),
        query.get("selling_partner_id", ""),
    )
    return _answer(request, step)


async def callback(request: web.Request) -> web.StreamResponse:
    query = request.query
    step = await _onboarding(request).complete(
        query.get("state", ""),
        request.cookies.get(COOKIE),
        query.get("spapi_oauth_code", ""),
        query.get("selling_partner_id", ""),
        query.get("error", ""),
    )
    return _answer(request, step)


def _answer(request: web.Request, step: Step) -> web.StreamResponse:
    if step.location is not None:
        response = web.Response(
            status=302, headers={hdrs.LOCATION: step.location, hdrs.CACHE_CONTROL: "no-store"}
        )
        if step.cookie is not None:
            response.set_cookie(
                COOKIE,
                step.cookie,
                path=PREFIX,
                max_age=int(_onboarding(request).pending.ttl_s),
                httponly=True,
                samesite="Lax",
                secure=request.secure,
            )
        return response
    page = PAGE.format(title=html.escape(step.title), message=html.escape(step.message))
    return web.Response(
        status=step.status,
        text=page,
        content_type="text/html",
        headers={hdrs.CACHE_CONTROL: "no-store", ORIGIN_HEADER: "proxy"},
    )


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - spproxy</title></head>
<body><h1>{title}</h1><p id="message">{message}</p></body></html>
"""


def add_routes(app: web.Application) -> None:
    app.router.add_post(PREFIX, create)
    app.router.add_get(f"{PREFIX}/start", start)
    app.router.add_get(f"{PREFIX}/login", login)
    app.router.add_get(f"{PREFIX}/callback", callback)
