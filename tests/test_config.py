"""The schema's own promises: secrets masked in any repr, URLs shown without credentials."""

from __future__ import annotations

import pytest
import yaml

from spproxy.config import redact_url
from spproxy.configread import parse_config
from tests.test_configread import ENV, FULL


def test_secrets_never_show_in_repr() -> None:
    text = repr(parse_config(yaml.safe_load(FULL), ENV))
    for secret in ("cs-from-env", "Atzr|refresh-from-env", "s3cr3t", "Atzr|second"):
        assert secret not in text


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
