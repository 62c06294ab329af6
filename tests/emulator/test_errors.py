"""SP-API's error answer, in one place."""

from __future__ import annotations

import json

from spproxy.emulator.errors import SpapiError, invalid_input, not_found


def test_an_error_answers_in_spapi_shape_with_its_headers() -> None:
    error = SpapiError(429, "QuotaExceeded", "Slow down.", headers={"Retry-After": "1"})
    response = error.response()
    assert response.status == 429
    assert response.content_type == "application/json"
    assert response.headers["Retry-After"] == "1"
    assert response.text is not None
    body = json.loads(response.text)
    assert body == {"errors": [{"code": "QuotaExceeded", "message": "Slow down.", "details": ""}]}


def test_the_two_common_refusals() -> None:
    refused = invalid_input("Bad.", "Why.")
    assert (refused.status, refused.code, refused.message, refused.details) == (
        400,
        "InvalidInput",
        "Bad.",
        "Why.",
    )
    missing = not_found("Gone.")
    assert (missing.status, missing.code, missing.details) == (404, "NotFound", "")
