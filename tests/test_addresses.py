"""URLs shown without credentials; which addresses are this machine's alone."""

from __future__ import annotations

import pytest

from spproxy.addresses import is_loopback, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://sellingpartnerapi-na.amazon.com", "https://sellingpartnerapi-na.amazon.com"),
        ("http://user:pass@10.0.0.1:8080/x", "http://***@10.0.0.1:8080/x"),
        ("https://token@host", "https://***@host"),
    ],
)
def test_urls_are_shown_without_user_or_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address judged, not bound
        ("", False),
        (None, False),
    ],
)
def test_only_loopback_addresses_are_this_machines_alone(
    address: str | None, loopback: bool
) -> None:
    assert is_loopback(address) is loopback
