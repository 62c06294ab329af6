"""Query and body parameters read as SP-API reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import MultiDict

from spproxy.emulator.apis.query import (
    comma_separated,
    csv_values,
    date_time,
    next_token,
    page_query,
    required_comma_separated,
    utc,
)
from spproxy.emulator.errors import SpapiError


def test_comma_separated_values_and_repeats_add_up() -> None:
    request = make_mocked_request("GET", "/x?ids=a,b&ids=c&empty=")
    assert comma_separated(request, "ids") == ["a", "b", "c"]
    assert csv_values(request.query, "empty") == []
    with pytest.raises(SpapiError) as refused:
        required_comma_separated(request, "empty")
    assert refused.value.status == 400


def test_date_times_without_a_zone_are_utc() -> None:
    assert utc("2025-01-02T03:04:05") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    query = MultiDict({"after": "2025-01-02T03:04:05Z", "bad": "yesterday"})
    assert date_time(query, "after") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert date_time(query, "missing") is None
    for name, required in (("bad", False), ("missing", True)):
        with pytest.raises(SpapiError):
            date_time(query, name, required=required)


def test_a_next_token_carries_the_query_and_the_offset() -> None:
    first = make_mocked_request("GET", "/x?status=NEW&limit=2")
    query, offset = page_query(first)
    assert offset == 0
    token = next_token(query, 2)
    query, offset = page_query(make_mocked_request("GET", f"/x?nextToken={token}"))
    assert (dict(query), offset) == ({"status": "NEW", "limit": "2"}, 2)
    with pytest.raises(SpapiError):
        page_query(make_mocked_request("GET", "/x?nextToken=nonsense"))
