from __future__ import annotations

from spproxy.pathindex import PathIndex


def test_literals_win_over_variables_with_backtracking() -> None:
    index: PathIndex[str] = PathIndex()
    index.add("GET", "/a/{id}/c", "byId")
    index.add("GET", "/a/b/d", "literal")
    index.add("POST", "/a/{id}/c", "post")
    assert index.match("GET", "/a/b/d") == ("literal", [])
    assert index.match("GET", "/a/b/c") == ("byId", ["b"])  # b is literal, yet backtracks
    assert index.match("POST", "/a/x%2Fy/c") == ("post", ["x%2Fy"])
    assert index.match("GET", "/a//c") is None  # an empty segment is no {id}
    assert index.match("GET", "/a/b") is None
    assert index.match("DELETE", "/a/b/c") is None
