from __future__ import annotations

import json

import pytest

from spproxy.errors import (
    BadGateway,
    BadRequest,
    GatewayTimeout,
    NotFound,
    PayloadTooLarge,
    ProxyError,
    SigningError,
    TokenExchangeError,
    UpstreamUnreachable,
)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (BadRequest("m"), 400, "InvalidInput"),
        (NotFound("m"), 404, "NotFound"),
        (PayloadTooLarge("m"), 413, "RequestEntityTooLarge"),
        (TokenExchangeError("m"), 502, "TokenExchangeFailed"),
        (SigningError("m"), 502, "SigningFailed"),
        (UpstreamUnreachable("m"), 502, "UpstreamUnreachable"),
        (GatewayTimeout("m"), 504, "UpstreamTimeout"),
    ],
)
def test_each_error_becomes_the_sp_api_error_shape(
    error: ProxyError, status: int, code: str
) -> None:
    response = error.to_response()
    assert response.status == status
    assert response.headers["x-spproxy-origin"] == "proxy"
    assert response.content_type == "application/json"
    assert isinstance(response.body, bytes)
    assert json.loads(response.body) == {"errors": [{"code": code, "message": "m", "details": ""}]}


def test_the_hierarchy() -> None:
    for bad_gateway in (TokenExchangeError, SigningError, UpstreamUnreachable):
        assert issubclass(bad_gateway, BadGateway)
    assert BadRequest("m", "d", code="Other").code == "Other"
    assert BadRequest.code == "InvalidInput"  # an instance's code does not change the class
