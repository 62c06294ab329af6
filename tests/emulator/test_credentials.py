"""What the emulated Amazon issues: frozen records, compared by value."""

from __future__ import annotations

import dataclasses

import pytest

from spproxy.emulator.credentials import IssuedToken, RestrictedResource, TemporaryCredentials


def test_a_restricted_resource_grants_no_data_element_unless_named() -> None:
    resource = RestrictedResource("GET", "/orders/v0/orders/{orderId}")
    assert resource.data_elements == frozenset()
    assert resource == ("GET", "/orders/v0/orders/{orderId}", frozenset())


def test_issued_tokens_and_credentials_cannot_change() -> None:
    token = IssuedToken("rdt", None, "A1", 100.0, (RestrictedResource("GET", "/x"),))
    assert token.target_application is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        token.expires_at = 0.0  # type: ignore[misc]
    credentials = TemporaryCredentials("ASIA1", "secret", "session", 100.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        credentials.session_token = ""  # type: ignore[misc]
