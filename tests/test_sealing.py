"""Sealed values: they open only with the key and under the Redis key they were sealed for."""

from __future__ import annotations

import base64
import os

import pytest

from spproxy.sealing import Sealer, parse_key

KEY = os.urandom(32)
TOKEN = b"Atza|IwEBIA-a-token-nobody-may-read"


def test_a_sealed_value_opens_under_its_own_key_only() -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal(TOKEN, "spproxy:{app}:lwa:main")
    assert TOKEN not in sealed and b"Atza" not in sealed
    assert sealer.open(sealed, "spproxy:{app}:lwa:main") == TOKEN
    assert sealer.open(sealed, "spproxy:{app}:lwa:other") is None  # copied under another key
    assert Sealer(os.urandom(32)).open(sealed, "spproxy:{app}:lwa:main") is None  # another key


def test_an_altered_or_truncated_value_does_not_open() -> None:
    sealer = Sealer(KEY)
    sealed = bytearray(sealer.seal(TOKEN, "k"))
    sealed[-1] ^= 1
    assert sealer.open(bytes(sealed), "k") is None
    assert sealer.open(b"short", "k") is None and sealer.open(b"", "k") is None


def test_each_seal_is_different_and_derived_keys_are_apart() -> None:
    sealer = Sealer(KEY)
    assert sealer.seal(TOKEN, "k") != sealer.seal(TOKEN, "k")  # a fresh nonce each time
    signing = sealer.derive("placeholders")
    assert len(signing) == 32 and signing != KEY and signing != sealer.derive("other")
    assert Sealer(KEY).derive("placeholders") == signing  # the same on every replica


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not base64!", "is not base64"),
        (base64.b64encode(b"short").decode(), "must decode to 32 bytes, not 5"),
    ],
)
def test_a_bad_key_says_what_is_wrong_and_never_the_key(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as error:
        parse_key(text)
    assert text not in str(error.value)


def test_a_good_key_parses_with_surrounding_whitespace() -> None:
    assert parse_key(base64.b64encode(KEY).decode() + "\n") == KEY
    with pytest.raises(ValueError):
        Sealer(b"too short")
