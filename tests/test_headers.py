"""Header names: spproxy's own share one prefix, which upstream never forwards."""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy

from spproxy import headers
from spproxy.upstream import forwarded_headers


def test_every_header_spproxy_reads_stays_local() -> None:
    own = [value for name, value in vars(headers).items() if name.endswith("_HEADER")]
    ours = [name for name in own if name.startswith(headers.SPPROXY_PREFIX)]
    assert len(ours) == 8
    sent = CIMultiDictProxy(CIMultiDict((name, "value") for name in own))
    forwarded = forwarded_headers(sent)
    assert not any(name in forwarded for name in ours)
    assert headers.ACCESS_TOKEN_HEADER not in forwarded  # a client's token never goes upstream
