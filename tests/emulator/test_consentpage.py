"""The emulated Seller Central's pages: every value escaped, headers keeping the page to itself."""

from __future__ import annotations

from spproxy.emulator import Application
from spproxy.emulator.consentpage import ConsentRefusal, cancelled_page, consent_page
from spproxy.emulator.consentstore import ConsentRequest

HOSTILE = '"><script>alert(1)</script>'


def _text(response: object) -> str:
    text = getattr(response, "text", None)
    assert isinstance(text, str)
    return text


def test_the_consent_page_escapes_everything_it_shows() -> None:
    application = Application(application_id=HOSTILE, name=HOSTILE, roles=(HOSTILE,))
    consent = ConsentRequest("website", HOSTILE, beta=True, state=HOSTILE, redirect_uri=HOSTILE)
    page = _text(consent_page(application, consent, csrf_token=HOSTILE))
    assert "<script>" not in page
    # title, heading, name, id, seller, role, redirect URI, CSRF token (the state is not shown)
    assert page.count("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;") == 8


def test_the_appstore_consent_page_signs_in_to_the_app() -> None:
    consent = ConsentRequest("appstore", "A1", beta=False)
    page = _text(consent_page(Application(name="Acme"), consent, csrf_token="t"))
    assert 'id="confirm" name="decision" value="confirm">Login to Acme now</button>' in page
    assert "Amazon then sends you to Acme to sign in." in page
    assert 'id="draft"' not in page


def test_pages_are_not_cached_framed_or_referred() -> None:
    for response in (
        consent_page(Application(), ConsentRequest("appstore", "A1", beta=True), "t"),
        cancelled_page(Application()),
        ConsentRefusal(400, "MD1000", "draft").response(),
    ):
        assert response.content_type == "text/html" and response.charset == "utf-8"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_a_refusal_shows_amazons_code_when_it_has_one() -> None:
    documented = ConsentRefusal(400, "MD5101", "not one of the app's")
    assert documented.response().status == 400
    assert '<p id="error-code">Error code: MD5101</p>' in _text(documented.response())
    undocumented = ConsentRefusal(404, None, f"No application {HOSTILE}")
    page = _text(undocumented.response())
    assert "error-code" not in page and "<script>" not in page
    assert undocumented.response().status == 404
