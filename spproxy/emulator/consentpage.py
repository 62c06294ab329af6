"""The emulated Seller Central's pages: the consent page, the page after Cancel, and refusals.

Every value shown goes through html.escape: query values are the caller's (an attacker's, as far
as the emulator knows), and the registered app name is not trusted to be markup either. The pages
load nothing (Content-Security-Policy), cannot be framed (a consent button under someone else's
page is clickjacking), are not cached (they hold a CSRF token) and send no Referer (their URL
holds the app's state).
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from spproxy.emulator.application import Application
from spproxy.emulator.consentstore import ConsentRequest

CONSENT_PATH = "/apps/authorize/consent"

_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class ConsentRefusal(Exception):
    """The page Seller Central shows instead of a consent page, with Amazon's error code where
    its Authorization Errors page documents one (MD1000, ...), and why."""

    def __init__(self, status: int, code: str | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        body = f'<p id="error-message">{escape(self.message)}</p>'
        if self.code is not None:
            body += f'\n<p id="error-code">Error code: {escape(self.code)}</p>'
        return _page("We're sorry", body, status=self.status)


def consent_page(
    application: Application, consent: ConsentRequest, csrf_token: str
) -> web.Response:
    name = escape(application.name)
    roles = "\n".join(f"  <li>{escape(role)}</li>" for role in application.roles)
    draft = (
        '<p id="draft">A draft application (version=beta): authorise it only to test it.</p>\n'
        if consent.beta
        else ""
    )
    # The website workflow names where the code goes; the Appstore one signs in to the app first.
    if consent.workflow == "website":
        confirm, then = "Confirm", f"Amazon then sends you to {escape(consent.redirect_uri)}."
    else:
        confirm, then = f"Login to {name} now", f"Amazon then sends you to {name} to sign in."
    body = f"""<p><strong id="application">{name}</strong>
(<span id="application-id">{escape(application.application_id)}</span>) asks for access to the
data of selling partner <strong id="selling-partner">{escape(consent.selling_partner_id)}</strong>:
</p>
<ul id="roles">
{roles}
</ul>
{draft}<p id="then">{then}</p>
<form method="post" action="{CONSENT_PATH}">
  <input type="hidden" name="csrf_token" value="{escape(csrf_token)}">
  <button type="submit" id="confirm" name="decision" value="confirm">{confirm}</button>
  <button type="submit" id="cancel" name="decision" value="cancel">Cancel</button>
</form>"""
    return _page(f"Authorize {name}", body)


def cancelled_page(application: Application) -> web.Response:
    """After Cancel the seller stays in Seller Central and the app hears nothing."""
    body = (
        f'<p id="cancelled">You did not authorize {escape(application.name)}; it was sent '
        "nothing. You can close this page.</p>"
    )
    return _page("Authorization cancelled", body)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    """`title` and `body` are HTML already escaped."""
    html = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>body {{ font-family: sans-serif; max-width: 40em; margin: 2em auto; }}</style>
</head>
<body>
<h1>{title}</h1>
{body}
<p><small>Seller Central, as emulated by spproxy: not Amazon.</small></p>
</body>
</html>
"""
    return web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS
    )
