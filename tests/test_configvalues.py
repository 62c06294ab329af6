"""One value: ${VAR} expansion, then its kind's checks; a problem is one line and reads as UNSET."""

from __future__ import annotations

from pathlib import Path

import pytest

from spproxy.config import Secret
from spproxy.configvalues import UNSET, ValueReader


def test_variables_expand_from_the_environment() -> None:
    reader = ValueReader({"HOST": "h", "EMPTY": ""}, Path())
    assert reader.expand("https://${HOST}:${PORT:-8000}/${EMPTY}", "k") == "https://h:8000/"
    assert reader.expand(5, "k") == 5  # only strings hold variables
    assert reader.expand("${A}${B:-b}${C}", "k") is UNSET
    assert reader.problems == [
        "k: environment variable A is not set",
        "k: environment variable C is not set",
    ]


@pytest.mark.parametrize(
    ("raw", "kind", "low", "high", "expected", "problem"),
    [
        ("8", int, 0, 10, 8, None),
        (2.5, float, 0, None, 2.5, None),
        ("fast", float, 0, None, UNSET, "k: must be a number, got 'fast'"),
        (True, int, None, None, UNSET, "k: must be a number, got True"),
        (11, int, 0, 10, UNSET, "k: must be between 0 and 10"),
        (-1, int, 0, None, UNSET, "k: must be at least 0"),
    ],
)
def test_numbers_and_their_bounds(
    raw: object, kind: type, low: float | None, high: float | None, expected: object, problem: str
) -> None:
    reader = ValueReader({}, Path())
    assert reader.number(raw, "k", kind, low, high) == expected
    assert reader.problems == ([problem] if problem else [])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), ("yes", True), ("1", True), ("FALSE", False), ("no", False), ("maybe", UNSET)],
)
def test_booleans(raw: object, expected: object) -> None:
    reader = ValueReader({}, Path())
    assert reader.boolean(raw, "k") == expected
    assert reader.problems == ([] if expected is not UNSET else ["k: must be true or false"])


def test_lists_of_names() -> None:
    reader = ValueReader({}, Path())
    assert reader.names(["a", "b"], "k", None) == ("a", "b")
    assert reader.names(["a", "c"], "k", ("a", "b")) is UNSET
    assert reader.names("a", "k", None) is UNSET
    assert reader.names(["a", ""], "k", ("a", "b")) is UNSET
    assert reader.problems == [
        "k: unknown c (allowed: a, b)",
        "k: must be a list of names",
        "k: must be a list of a, b",
    ]


def test_urls_and_file_paths(tmp_path: Path) -> None:
    reader = ValueReader({}, tmp_path)
    assert reader.text("https://h:1/", "k", {"url": "host"}) == "https://h:1"
    assert reader.text("https://h/token", "k", {"url": "any"}) == "https://h/token"
    assert reader.text("https://h/path", "k", {"url": "host"}) is UNSET
    assert reader.text("h:1", "k", {"url": "any"}) is UNSET
    assert reader.text("certs/a.pem", "k", {"path": True}) == str(tmp_path / "certs/a.pem")
    assert reader.text("", "k", {}) is UNSET
    assert reader.problems == [
        "k: must be scheme://host[:port] without a path",
        "k: must be an http(s) URL, got 'h:1'",
        "k: must be a non-empty string",
    ]


def test_a_secret_from_its_key_or_its_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("from-a-file\n")
    (tmp_path / "blank").write_text("\n")
    reader = ValueReader({"TOKEN": "from-env"}, tmp_path)
    assert reader.secret({"token": "${TOKEN}"}, "token", "a.token", True) == Secret("from-env")
    assert reader.secret({"token_file": "token"}, "token", "a.token", True) == Secret("from-a-file")
    assert reader.secret({}, "token", "a.token", False) is None  # optional, not given
    assert reader.problems == []
    for raw in ({}, {"token": "x", "token_file": "token"}, {"token_file": "blank"}):
        assert reader.secret(raw, "token", "a.token", True) is UNSET
    assert reader.problems == [
        "a.token: required (or token_file)",
        "a.token: set token or token_file, not both",
        "a.token_file: blank is empty",
    ]
