"""Every answer spproxy makes itself, as one hierarchy.

    ProxyError                      status, code, message, details
     ├── BadRequest                 400  the request target, path, a header or a value is unusable
     ├── Unauthenticated            401  clients: configured, and the request names no client
     ├── Forbidden                  403  outside the client's grants; reload from afar
     ├── NotFound                   404  a /_spproxy/ path that is not one of spproxy's endpoints
     ├── RequestTimeout             408  the request's headers or body did not arrive in time
     ├── PayloadTooLarge            413  the body exceeds upstream.max_body_bytes
     ├── RateLimited                429  no rate-limit slot within upstream.queue_timeout_s
     ├── BadGateway                 502  something upstream refused or failed
     │    ├── TokenExchangeError         LWA refused or could not be reached
     │    ├── RdtRefused                 the Tokens API refused a Restricted Data Token
     │    ├── TokensApiUnavailable       the Tokens API failed (5xx, 429)
     │    ├── SigningError               AWS credentials (STS AssumeRole) could not be obtained
     │    └── UpstreamUnreachable        the SP-API endpoint could not be reached
     └── GatewayTimeout             504  the SP-API endpoint did not answer in upstream.timeout_s

A `ProxyError` becomes SP-API's error body `{"errors":[{"code","message","details"}]}` in exactly
one place, `to_response()`, with the header `x-spproxy-origin: proxy`. Messages name the problem
and what to do; they never carry a secret, a token or request data that may hold PII.
"""

from __future__ import annotations

import json
import math
from typing import Literal

from aiohttp import web

from spproxy.headers import ORIGIN_HEADER

# How a token request to LWA or the Tokens API ended, for the metrics.
Outcome = Literal["ok", "refused", "unavailable"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "refused", "unavailable")


class ProxyError(Exception):
    status = 500
    code = "InternalFailure"

    def __init__(self, message: str, details: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code

    def to_response(self, headers: dict[str, str] | None = None) -> web.Response:
        body = {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}
        return web.Response(
            status=self.status,
            body=json.dumps(body).encode(),
            content_type="application/json",
            headers={ORIGIN_HEADER: "proxy", **(headers or {})},
        )


class BadRequest(ProxyError):
    status = 400
    code = "InvalidInput"


class Unauthenticated(ProxyError):
    status = 401
    code = "Unauthorized"


class Forbidden(ProxyError):
    status = 403
    code = "Forbidden"


class NotFound(ProxyError):
    status = 404
    code = "NotFound"


class RequestTimeout(ProxyError):
    status = 408
    code = "RequestTimeout"

    def to_response(self, headers: dict[str, str] | None = None) -> web.Response:
        response = super().to_response(headers)
        response.force_close()  # what is left of a stalled request must not be read as the next
        return response


class PayloadTooLarge(ProxyError):
    status = 413
    code = "RequestEntityTooLarge"


class RateLimited(ProxyError):
    status = 429
    code = "QuotaExceeded"

    def __init__(self, message: str, details: str = "", *, retry_after_s: float) -> None:
        super().__init__(message, details)
        self.retry_after_s = retry_after_s

    def to_response(self, headers: dict[str, str] | None = None) -> web.Response:
        retry_after = str(max(1, math.ceil(self.retry_after_s)))
        return super().to_response({"Retry-After": retry_after, **(headers or {})})


class BadGateway(ProxyError):
    status = 502
    code = "BadGateway"
    # Amazon said no (an LWA error code, a Tokens API 4xx), rather than failed to answer
    # (unreachable, 5xx, 429, an answer without what it must hold).
    refused = False


class TokenExchangeError(BadGateway):
    code = "TokenExchangeFailed"

    def __init__(self, message: str, details: str = "", *, refused: bool = False) -> None:
        super().__init__(message, details)
        self.refused = refused


class RdtRefused(BadGateway):
    code = "RestrictedDataTokenRefused"
    refused = True

    def __init__(self, message: str, details: str = "", *, bundled: bool = False) -> None:
        super().__init__(message, details)
        self.bundled = bundled  # refused for a bundle of several resources, not one alone


class TokensApiUnavailable(BadGateway):
    code = "TokensApiUnavailable"


class SigningError(BadGateway):
    code = "SigningFailed"


class UpstreamUnreachable(BadGateway):
    code = "UpstreamUnreachable"

    def __init__(self, message: str, details: str = "", *, before_sending: bool = False) -> None:
        super().__init__(message, details)
        self.before_sending = before_sending  # the connection never opened: nothing was sent


class GatewayTimeout(ProxyError):
    status = 504
    code = "UpstreamTimeout"


def outcome(error: Exception) -> Outcome:
    """How a failed token request ended: refused if Amazon said no, else unavailable."""
    return "refused" if isinstance(error, BadGateway) and error.refused else "unavailable"
