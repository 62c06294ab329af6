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


@pytest.mark.parametrize(
    "raw",
    [
        "/orders/v0/orders/123-1234567-1234567",
        "/orders/v0/orders/",
        "/",
        "/a/.b/c..d/...",
        "/a/%41",
        "/a//b",
        "/a/./b",
        "/a/..",
        "/a b",
        "/caf\u00e9",
    ],
)
def test_the_fast_path_agrees_with_full_normalisation(raw: str) -> None:
    """Plain paths skip re-encoding; the answer must be what normalising would give."""
    try:
        expected = normalise_path(raw)
    except BadRequest:
        with pytest.raises(BadRequest):
            parse_target("GET", raw)
        return
    assert parse_target("GET", raw).path == expected


@pytest.mark.parametrize(
    "query",
    ["a=1&b=2", "a=", "a=1&&b=2", "a", "a=x,y", "k=a%2Cb", "k=a+b", "A-Z_.~=0-9"],
)
def test_the_query_fast_path_agrees_with_canonical_encoding(query: str) -> None:
    from spproxy.urlcanon import canonical_query

    assert parse_target("GET", f"/x?{query}").query == canonical_query(query)
