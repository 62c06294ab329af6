"""Facts one replica learns serve the others, through a real Redis: written through, read on a
local miss and kept locally; sealed under their key; local only while Redis is down."""

from __future__ import annotations

from spproxy.sharedfacts import LearnedFacts
from spproxy.sharedstate import SharedState
from tests.replicas import redis_snapshot, shared_state, shared_states, unreachable_url


def facts(shared: SharedState | None, maxsize: int = 100) -> LearnedFacts[str, str]:
    return LearnedFacts(
        maxsize=maxsize,
        ttl_s=60,
        kind="test-fact",
        name=lambda key: key.upper(),
        encode=str.encode,
        decode=lambda said: said.decode() if said.startswith(b"v") else None,
        shared=shared,
    )


async def test_a_fact_one_replica_learns_serves_another(redis_url: str) -> None:
    async with shared_states(redis_url, 2) as (here, there):
        learner, other = facts(here), facts(there)
        await learner.learn([("doc-1", "v-restricted"), ("doc-2", "v-not")])
        assert other.get("doc-1") is None  # not known locally yet
        assert await other.recall("doc-1") == "v-restricted"
        assert await other.recall("doc-3") is None
        assert 59_000 < await here.client.pttl(here.key("test-fact", "DOC-2")) <= 60_000
        await here.client.flushdb()
        assert other.get("doc-1") == "v-restricted"  # kept locally once recalled
        assert "doc-1" in other and len(other) == 1


async def test_facts_are_sealed_under_their_key(redis_url: str) -> None:
    async with shared_states(redis_url, 1) as (here,):
        learner = facts(here)
        await learner.learn([("doc-1", "v-secretive")])
        snapshot = await redis_snapshot(redis_url)
        assert len(snapshot) == 1 and b"v-secretive" not in next(iter(snapshot.values()))
        moved = here.key("test-fact", "DOC-2")
        await here.client.set(moved, await here.client.get(here.key("test-fact", "DOC-1")) or b"")
        other = facts(here)
        assert await other.recall("doc-2") is None  # does not open under another key
        await learner.learn([("doc-3", "not a fact")])
        assert await other.recall("doc-3") is None  # opens, but is no fact of this kind


async def test_the_local_copy_is_bounded(redis_url: str) -> None:
    async with shared_states(redis_url, 1) as (here,):
        learner = facts(here, maxsize=2)
        await learner.learn([(key, f"v-{key}") for key in "abc"])
        assert len(learner) == 2 and learner.get("a") is None
        assert await learner.recall("a") == "v-a"  # Redis still knows it


async def test_redis_down_keeps_what_this_process_learned() -> None:
    state = shared_state(unreachable_url())
    try:
        learner = facts(state)
        await learner.learn([("doc-1", "v1")])
        assert [await learner.recall(key) for key in ("doc-1", "doc-2")] == ["v1", None]
        assert not state.up
    finally:
        await state.aclose()


async def test_without_shared_state_facts_are_local() -> None:
    learner = facts(None)
    await learner.learn([("doc-1", "v1")])
    assert await learner.recall("doc-1") == "v1"
    assert await learner.recall("doc-2") is None
