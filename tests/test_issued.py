"""Tokens spproxy issued: signed placeholders any replica with the key verifies, and RDTs
clients minted, remembered here and shared through a real Redis."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio
from hypothesis import given, settings
from hypothesis import strategies as st

from spproxy.config import Client, Secret
from spproxy.issued import ISSUED_TTL_S, PLACEHOLDER_PREFIX, IssuedTokens
from spproxy.sealing import Sealer
from spproxy.sharedstate import SharedState
from tests.harness import free_port

KEY = os.urandom(32)  # the state key every replica of one app shares
SHIPPING = Client("shipping", Secret("shipping-team-key-0123456789"))
ROTATED = Client("shipping", Secret("rotated-shipping-key-987654321"))
RDT = "Atz.sprdt|IQEBLjAsAhRmHjNgHpi0U-Dme37rR6CuUpSR"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def shared_state(url: str, key: bytes = KEY) -> SharedState:
    client = redis.asyncio.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return SharedState(client, "test-app", Sealer(key))


@pytest.fixture
async def replicas(redis_url: str) -> AsyncIterator[Callable[..., SharedState]]:
    """replica(key=KEY): one replica's shared state on the test Redis, closed afterwards."""
    made: list[SharedState] = []

    def replica(key: bytes = KEY) -> SharedState:
        made.append(shared_state(redis_url, key))
        return made[-1]

    yield replica
    for state in made:
        await state.aclose()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unreachable() -> SharedState:
    return shared_state(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there


async def test_a_placeholder_is_verified_by_every_replica_with_the_key() -> None:
    issuer, other_replica = IssuedTokens(unreachable()), IssuedTokens(unreachable())
    token = issuer.placeholder(SHIPPING)
    assert token.startswith(PLACEHOLDER_PREFIX) and SHIPPING.key.reveal() not in token
    issued = await other_replica.recall(token, shared=True)
    assert issued is not None and (issued.client, issued.rdt) == ("shipping", False)
    assert issued.fingerprint == other_replica.fingerprint(SHIPPING.key)
    assert issued.fingerprint != other_replica.fingerprint(ROTATED.key)
    assert len(other_replica) == 0  # verified, not stored
    another_app = IssuedTokens(shared_state(f"redis://127.0.0.1:{free_port()}/0", os.urandom(32)))
    assert await another_app.recall(token, shared=True) is None
    assert await IssuedTokens(None).recall(token, shared=True) is None  # a key of its own


async def test_a_placeholder_without_a_client_and_one_that_expired() -> None:
    clock = Clock()
    tokens = IssuedTokens(None, clock=clock)
    anonymous = await tokens.recall(tokens.placeholder(None), shared=False)
    assert anonymous is not None and anonymous.client is None
    token = tokens.placeholder(SHIPPING)
    clock.now += ISSUED_TTL_S - 1
    assert await tokens.recall(token, shared=False) is not None
    clock.now += 1
    assert await tokens.recall(token, shared=False) is None


TOKENS = IssuedTokens(None)
VALID = TOKENS.placeholder(SHIPPING)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.integers(0, len(VALID) - 1), st.characters(codec="utf-8"))
def test_a_placeholder_changed_anywhere_is_refused(at: int, character: str) -> None:
    tampered = VALID[:at] + character + VALID[at + 1 :]
    issued = asyncio.run(TOKENS.recall(tampered, shared=False))
    assert issued is None or tampered == VALID


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text() | st.binary().map(lambda raw: base64.urlsafe_b64encode(raw).decode()))
def test_garbage_after_the_prefix_is_refused_never_raised(garbage: str) -> None:
    assert asyncio.run(TOKENS.recall(PLACEHOLDER_PREFIX + garbage, shared=False)) is None


@pytest.mark.parametrize(
    "hostile",
    [
        VALID + "=",  # padding spproxy never writes
        VALID + "A",
        VALID[:-1],
        VALID.replace(PLACEHOLDER_PREFIX, "SPPROXY-PLACEHOLDER."),
        PLACEHOLDER_PREFIX + "\udcff\udcfe",  # header bytes that are not UTF-8
        PLACEHOLDER_PREFIX + "\ud800",  # a lone surrogate, as a JSON escape makes
        "\ud800",
        PLACEHOLDER_PREFIX + "A" * 8000,
    ],
)
async def test_hostile_tokens_stand_for_nobody(hostile: str) -> None:
    assert await TOKENS.recall(hostile, shared=False) is None


async def test_a_client_minted_rdt_is_shared_through_redis(
    replicas: Callable[..., SharedState], redis_url: str
) -> None:
    minted_on, asked = IssuedTokens(replicas()), IssuedTokens(replicas())
    await minted_on.remember(RDT, SHIPPING)
    assert await asked.recall(RDT, shared=False) is None  # the key path: Redis is not asked
    issued = await asked.recall(RDT, shared=True)
    assert issued == await minted_on.recall(RDT, shared=False)
    assert issued is not None and issued.rdt and issued.client == "shipping"
    assert issued.fingerprint == asked.fingerprint(SHIPPING.key)
    # What Redis holds: sealed, under the token's SHA-256; never the token, the key, the name.
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        (stored,) = await client.keys("*")
        value = await client.get(stored)
        await client.flushdb()
    finally:
        await client.aclose()
    assert stored == f"spproxy:{{test-app}}:issued:{_digest(RDT)}".encode()
    assert isinstance(value, bytes)
    assert not any(secret in value for secret in (b"Atz", b"shipping", b"key-0123"))
    assert await asked.recall(RDT, shared=True) == issued  # asked once: now known here


async def test_a_record_moved_or_from_another_app_is_not_trusted(
    replicas: Callable[..., SharedState],
) -> None:
    state = replicas()
    await IssuedTokens(state).remember(RDT, SHIPPING)
    moved = "Atz.sprdt|someone-elses-token"
    source, target = state.key("issued", _digest(RDT)), state.key("issued", _digest(moved))
    assert await state.call(lambda r: r.copy(source, target))
    assert await IssuedTokens(replicas()).recall(moved, shared=True) is None
    assert await IssuedTokens(replicas(os.urandom(32))).recall(RDT, shared=True) is None
    assert await IssuedTokens(replicas()).recall(RDT, shared=True) is not None


async def test_a_shared_record_lasts_until_its_own_expiry(
    replicas: Callable[..., SharedState],
) -> None:
    an_hour_ago = Clock()
    await IssuedTokens(replicas(), clock=an_hour_ago).remember(RDT, SHIPPING)
    now = Clock()
    now.now += ISSUED_TTL_S  # Redis still holds it (its TTL runs from when it was stored)
    assert await IssuedTokens(replicas(), clock=now).recall(RDT, shared=True) is None
    now.now -= 1
    assert await IssuedTokens(replicas(), clock=now).recall(RDT, shared=True) is not None


async def test_redis_down_means_this_process_alone() -> None:
    state = unreachable()
    try:
        tokens = IssuedTokens(state)
        await tokens.remember(RDT, SHIPPING)  # no error: remembered here
        issued = await tokens.recall(RDT, shared=True)
        assert issued is not None and issued.client == "shipping"
        assert await tokens.recall(RDT + "x", shared=True) is None
        assert state.failures == 1 and not state.up  # tried once, then skipped until retry_s
    finally:
        await state.aclose()


async def test_client_minted_rdts_are_bounded_and_expire() -> None:
    clock = Clock()
    tokens = IssuedTokens(None, rdt_limit=2, clock=clock)
    for n in range(3):
        await tokens.remember(f"{RDT}{n}", None)
    assert len(tokens) == 2
    assert await tokens.recall(f"{RDT}0", shared=False) is None  # pushed out by the bound
    assert await tokens.recall(f"{RDT}2", shared=False) is not None
    clock.now += ISSUED_TTL_S
    assert await tokens.recall(f"{RDT}2", shared=False) is None
