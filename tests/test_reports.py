from __future__ import annotations

import json

from spproxy.operations import load_table
from spproxy.reports import ReportTypes
from tests.replicas import redis_snapshot, shared_state, shared_states, unreachable_url

TABLE = load_table()


async def test_types_are_learned_from_get_report_and_get_reports_answers() -> None:
    types = ReportTypes()
    assert types.restricted("doc-1", None) is None
    await types.learn(
        json.dumps(
            {
                "reportId": "1",
                "reportType": "GET_ORDER_REPORT_DATA_SHIPPING",
                "reportDocumentId": "doc-1",
            }
        ).encode()
    )
    await types.learn(
        json.dumps(
            {
                "reports": [
                    {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "reportDocumentId": "doc-2"},
                    {"reportType": "SC_VAT_TAX_REPORT", "reportDocumentId": "doc-3"},
                    {"reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"},  # not done yet
                    "garbage",
                ]
            }
        ).encode()
    )
    assert types.restricted("doc-1", None) is True
    assert types.restricted("doc-2", None) is False
    assert types.restricted("doc-3", None) is True
    await types.learn(b"not json")  # ignored
    await types.learn(b"[1, 2]")


async def test_a_hint_wins_and_a_403_teaches() -> None:
    types = ReportTypes()
    assert types.restricted("doc", "GET_EASYSHIP_DOCUMENTS") is True
    assert types.restricted("doc", "GET_MERCHANT_LISTINGS_ALL_DATA") is False
    await types.mark_restricted("doc")
    assert types.restricted("doc", None) is True


async def test_memory_is_bounded_and_expires() -> None:
    now = [0.0]
    types = ReportTypes(maxsize=2, ttl_s=10, clock=lambda: now[0])
    for n in range(3):
        await types.learn(
            json.dumps({"reportType": "SC_VAT_TAX_REPORT", "reportDocumentId": f"d{n}"}).encode()
        )
    assert types.restricted("d0", None) is None  # pushed out by the bound
    assert types.restricted("d2", None) is True
    now[0] = 11
    assert types.restricted("d2", None) is None  # expired


def test_only_report_listings_are_observed() -> None:
    types = ReportTypes()
    assert types.observer(TABLE.classify("GET", "/reports/2021-06-30/reports")) is not None
    assert types.observer(TABLE.classify("GET", "/reports/2021-06-30/reports/123")) is not None
    assert types.observer(TABLE.classify("GET", "/reports/2021-06-30/documents/d")) is None
    assert types.observer(None) is None


def _report(document: str, report_type: str) -> bytes:
    return json.dumps({"reportType": report_type, "reportDocumentId": document}).encode()


async def test_what_one_replica_learns_serves_the_others(redis_url: str) -> None:
    async with shared_states(redis_url, 2) as (here, there):
        relaying, asked = ReportTypes(shared=here), ReportTypes(shared=there)
        await relaying.learn(_report("doc-1", "GET_ORDER_REPORT_DATA_SHIPPING"))
        await relaying.learn(_report("doc-2", "GET_MERCHANT_LISTINGS_ALL_DATA"))
        await relaying.mark_restricted("doc-3")
        assert asked.restricted("doc-1", None) is None  # not learned by this replica itself
        assert [await asked.recall(d, None) for d in ("doc-1", "doc-2", "doc-3", "doc-4")] == [
            True,
            False,
            True,
            None,
        ]
        assert asked.restricted("doc-1", None) is True and len(asked) == 3  # kept locally
        assert await asked.recall("doc-4", "SC_VAT_TAX_REPORT") is True  # a hint wins
        snapshot = await redis_snapshot(redis_url)
    assert len(snapshot) == 3 and all(b"doc-" not in key for key in snapshot)  # ids hashed


async def test_redis_down_leaves_each_replica_its_own_knowledge() -> None:
    state = shared_state(unreachable_url())
    try:
        types = ReportTypes(shared=state)
        await types.learn(_report("doc-1", "GET_ORDER_REPORT_DATA_SHIPPING"))
        assert await types.recall("doc-1", None) is True
        assert await types.recall("doc-2", None) is None
        assert not state.up
    finally:
        await state.aclose()
