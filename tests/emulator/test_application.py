"""The emulated app's registration: the login and redirect URIs Amazon's portal would take."""

from __future__ import annotations

import pytest

from spproxy.emulator import DEMO_APPLICATION_ID, Application
from spproxy.emulator.application import DEMO_LOGIN_URI, DEMO_REDIRECT_URI, is_loopback


def test_the_demo_app_is_a_draft_with_every_seller_role() -> None:
    application = Application()
    assert application.application_id == DEMO_APPLICATION_ID
    assert not application.published
    assert "Tax Invoicing" in application.roles
    assert (application.login_uri, application.redirect_uris) == (
        DEMO_LOGIN_URI,
        (DEMO_REDIRECT_URI,),
    )


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/callback?from=amazon",
        "http://127.0.0.1:8000/_spproxy/authorize/callback",
        "http://127.8.9.10/callback",
        "http://[::1]:8000/callback",
        "http://localhost:8000/callback",
    ],
)
def test_https_and_loopback_http_are_taken(uri: str) -> None:
    assert Application(login_uri=uri, redirect_uris=(uri,)).redirect_uris == (uri,)


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://app.example.com/callback", "only https://"),
        ("http://10.0.0.1/callback", "only https://"),
        ("http://localhost.example.com/callback", "only https://"),
        ("ftp://127.0.0.1/callback", "only https://"),
        ("https://app.example.com/callback#done", "no fragment"),
        ("https://app.example.com/callback#", "no fragment"),
        ("/callback", "absolute"),
        ("https:///callback", "absolute"),
        ("", "absolute"),
    ],
)
def test_what_the_portal_would_refuse_is_refused(uri: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        Application(redirect_uris=(uri,))
    if uri:  # an empty login URI is none (below)
        with pytest.raises(ValueError, match=why):
            Application(login_uri=uri)


def test_an_app_without_login_or_redirect_uri_can_be_registered() -> None:
    # As at Amazon, where authorising it then fails with MD9100 (test_consent.py).
    assert Application(login_uri="", redirect_uris=()).redirect_uris == ()


def test_an_app_needs_an_id_and_a_name() -> None:
    with pytest.raises(ValueError, match="application_id and a name"):
        Application(application_id="")
    with pytest.raises(ValueError, match="application_id and a name"):
        Application(name="")


def test_loopback_hosts() -> None:
    assert all(map(is_loopback, ["localhost", "127.0.0.1", "127.1.2.3", "::1"]))
    assert not any(map(is_loopback, ["10.0.0.1", "example.com", "localhost.example.com"]))
