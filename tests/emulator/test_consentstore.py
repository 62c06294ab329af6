"""What the emulated Seller Central remembers between the steps: values taken once, in time."""

from __future__ import annotations

from spproxy.emulator.consentstore import (
    CODE_TTL_S,
    ConsentStore,
    IssuedCode,
    OneTimeValues,
)
from tests.emulator.conftest import FakeClock


def test_a_value_is_taken_once() -> None:
    values = OneTimeValues[str](FakeClock(), ttl_s=60)
    key = values.issue("A1")
    assert values.take(key) == "A1"
    assert values.take(key) is None
    assert values.take("never-issued") is None
    assert values.issued == [key]


def test_a_value_expires() -> None:
    clock = FakeClock()
    values = OneTimeValues[str](clock, ttl_s=60, prefix="AN")
    early, late = values.issue("early"), values.issue("late")
    assert early.startswith("AN") and early != late
    clock.advance(59.9)
    assert values.take(early) == "early"
    clock.advance(0.1)
    assert values.take(late) is None


def test_expired_values_are_dropped_when_new_ones_come() -> None:
    clock = FakeClock()
    values = OneTimeValues[int](clock, ttl_s=60)
    for number in range(1000):
        values.issue(number)
    clock.advance(60)
    fresh = values.issue(1000)
    assert len(values._held) == 1  # the bound is the point
    assert values.take(fresh) == 1000
    assert len(values.issued) == 1001


def test_a_code_is_redeemed_for_its_redirect_uri_only() -> None:
    clock = FakeClock()
    store = ConsentStore(clock)
    code = store.codes.issue(IssuedCode("A1", "https://app.example.com/cb"))
    assert store.redeem_code(code, "https://app.example.com/cb") == "A1"
    assert store.redeem_code(code, "https://app.example.com/cb") is None

    other = store.codes.issue(IssuedCode("A1", "https://app.example.com/cb"))
    assert store.redeem_code(other, "https://app.example.com/cb/") is None
    assert store.redeem_code(other, "https://app.example.com/cb") is None  # used up

    late = store.codes.issue(IssuedCode("A1", "https://app.example.com/cb"))
    clock.advance(CODE_TTL_S)
    assert store.redeem_code(late, "https://app.example.com/cb") is None
