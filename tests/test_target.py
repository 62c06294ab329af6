from __future__ import annotations

import pytest

from spproxy.errors import BadRequest
from spproxy.target import Target, normalise_path, parse_target


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/orders/v0/orders", "/orders/v0/orders"),
        ("//orders///v0/orders", "/orders/v0/orders"),
        ("/orders/v0/orders/", "/orders/v0/orders/"),
        ("/%6Frders/v0/%7E", "/orders/v0/~"),  # unreserved characters decoded
        ("/items/SKU%2fA%2FB", "/items/SKU%2FA%2FB"),  # an encoded slash stays inside its segment
        ("/items/a:b!c$", "/items/a%3Ab%21c%24"),  # everything else strictly encoded
        ("/items/caf%C3%A9", "/items/caf%C3%A9"),
        ("/items/café", "/items/caf%C3%A9"),
        ("/", "/"),
    ],
)
def test_paths_normalise_to_one_canonical_form(raw: str, expected: str) -> None:
    assert normalise_path(raw) == expected
    assert normalise_path(expected) == expected  # idempotent: classified == sent


@pytest.mark.parametrize(
    "raw",
    ["/a/../b", "/a/./b", "/a/%2e%2e/b", "/a/.%2E", "/%2E", "/a/..", "/a/%zz", "/a/%", "/a/%0a"],
)
def test_dot_segments_bad_escapes_and_controls_are_refused(raw: str) -> None:
    with pytest.raises(BadRequest):
        normalise_path(raw)


def test_targets() -> None:
    assert parse_target("GET", "/a/b?x=1,2&y=a b") == Target("/a/b", "x=1%2C2&y=a%20b")
    assert parse_target("GET", "/a").path_and_query == "/a"
    assert parse_target("GET", "/a?k=v").path_and_query == "/a?k=v"
    for method, target in [
        ("CONNECT", "host:443"),
        ("GET", "http://evil/a"),
        ("GET", "*"),
        ("GET", "/a#frag"),
        ("GET", "/a?x=%zz"),
    ]:
        with pytest.raises(BadRequest):
            parse_target(method, target)
