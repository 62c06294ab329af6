"""One call as values, and what sends it: Amazon's words for a token it no longer takes."""

from __future__ import annotations

import pytest

from spproxy.upstream import Upstream
from spproxy.wire import TOKEN_REJECTED, Sender


@pytest.mark.parametrize(
    ("body", "rejected"),
    [
        (b'{"errors":[{"message":"The access token you provided has expired."}]}', True),
        (
            b'{"errors":[{"message":"The access token you provided is revoked, malformed'
            b' or invalid."}]}',
            True,
        ),
        (b"The security token included in the request is expired", True),
        (b'{"errors":[{"message":"Access to requested resource is denied."}]}', False),
        (b'{"errors":[{"message":"The token is fine. Something else expired."}]}', False),
    ],
)
def test_amazons_words_for_a_rejected_token(body: bytes, rejected: bool) -> None:
    assert bool(TOKEN_REJECTED.search(body)) is rejected


def test_upstream_is_the_sender_token_sources_are_given() -> None:
    sender: type[Sender] = Upstream  # checked by mypy: Upstream meets the protocol
    assert sender is Upstream
