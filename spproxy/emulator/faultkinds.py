"""The kinds of fault a test injects (`Faults` in faults.py makes them), and what each does to
the call it hits.

- `Failure` (`faults.fail(status)`) answers in SP-API's error shape, code by status: 429
  QuotaExceeded (with `x-amzn-RateLimit-Limit` when the operation has a usage plan), 500
  InternalFailure, 502 BadGateway, 503 ServiceUnavailable, 504 GatewayTimeout; `Retry-After` if
  given. Hitting LWA's path it answers in LWA's shape: `{"error": ..., "error_description": ...}`
  with error "temporarily_unavailable" for 503, "invalid_request" 400, "invalid_client" 401, else
  "server_error".
- `Drop` (`faults.drop()`) closes the connection without a byte of answer: the client sees the
  server disconnect (aiohttp: ServerDisconnectedError).
- `Hold` (`faults.hold()`): matching calls wait until `release()` (alias `set()`, as on an
  asyncio.Event), then are answered normally. `release()` also ends the fault. `arrived(n)` waits
  until n calls have been held. `delay(seconds)` is a hold that lets each call go on by itself
  after `seconds` (real time), for client-timeout tests (`ReceivedRequest.fault` says "hold"
  for both). Holds are released when the app shuts down, so a forgotten one never stalls a
  test's teardown.
"""

from __future__ import annotations

import asyncio
import contextlib
from http import HTTPStatus
from typing import Literal

from aiohttp import web

from spproxy.emulator.errors import SpapiError
from spproxy.emulator.limits import QUOTA_EXCEEDED_MESSAGE, RATE_LIMIT_HEADER

FaultKind = Literal["fail", "drop", "hold"]

_STATUSES = frozenset(status.value for status in HTTPStatus)

# SP-API's error codes by status (Amazon's "Error responses" table).
_SPAPI_ERRORS: dict[int, tuple[str, str]] = {
    400: ("InvalidInput", "Request has missing or invalid parameters and cannot be parsed."),
    403: ("Unauthorized", "Access to requested resource is denied."),
    404: ("NotFound", "The resource specified does not exist."),
    429: ("QuotaExceeded", QUOTA_EXCEEDED_MESSAGE),
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    502: ("BadGateway", "Bad gateway. Please try again."),
    503: ("ServiceUnavailable", "Service temporarily unavailable. Please try again."),
    504: ("GatewayTimeout", "The request timed out. Please try again."),
}


# LWA's (OAuth 2.0) error codes by status; any other status answers "server_error".
_LWA_ERRORS = {400: "invalid_request", 401: "invalid_client", 503: "temporarily_unavailable"}


class Fault:
    """One injected fault; `Faults` makes them."""

    kind: FaultKind

    def __init__(self, times: int | None, path: str | None) -> None:
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None: until cleared)")
        self.remaining = times  # None: every matching call until cleared
        self.path = path
        self.applied = 0  # calls hit so far

    @property
    def active(self) -> bool:
        return self.remaining is None or self.remaining > 0

    def clear(self) -> None:
        self.remaining = 0

    def matches(self, raw_path: str, *, spapi: bool) -> bool:
        return spapi if self.path is None else raw_path.startswith(self.path)

    async def act(
        self, request: web.Request, *, lwa: bool, rate_limit_header: str | None
    ) -> web.StreamResponse | None:
        """Do what the fault does to the call: its answer, or None to answer it normally."""
        raise NotImplementedError

    def hit(self) -> None:
        """Count one call hit (`Faults.take` does, for the fault it picks)."""
        self.applied += 1
        if self.remaining is not None:
            self.remaining -= 1

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} path={self.path!r} remaining={self.remaining} "
            f"applied={self.applied}>"
        )


class Failure(Fault):
    kind: FaultKind = "fail"

    def __init__(
        self, status: int, times: int | None, path: str | None, retry_after: str | None
    ) -> None:
        super().__init__(times, path)
        if not 400 <= status <= 599 or status not in _STATUSES:
            raise ValueError(f"an injected failure answers a 4xx or 5xx status, not {status}")
        self.status = status
        self.retry_after = retry_after

    async def act(
        self, request: web.Request, *, lwa: bool, rate_limit_header: str | None
    ) -> web.StreamResponse:
        headers = {} if self.retry_after is None else {"Retry-After": self.retry_after}
        if lwa:
            error = _LWA_ERRORS.get(self.status, "server_error")
            body = {"error": error, "error_description": HTTPStatus(self.status).phrase}
            return web.json_response(body, status=self.status, headers=headers)
        if self.status == 429 and rate_limit_header is not None:
            headers[RATE_LIMIT_HEADER] = rate_limit_header
        code, message = _SPAPI_ERRORS.get(self.status) or _generic_error(self.status)
        return SpapiError(self.status, code, message, headers=headers).response()


class Drop(Fault):
    kind: FaultKind = "drop"

    async def act(
        self, request: web.Request, *, lwa: bool, rate_limit_header: str | None
    ) -> web.StreamResponse:
        await request.read()  # unread bytes would turn the close into a reset
        transport = request.transport
        if transport is not None:
            transport.close()
        # Never delivered: writing it fails on the closed transport, and aiohttp lets it go.
        return web.Response(status=499)


class Hold(Fault):
    kind: FaultKind = "hold"

    def __init__(self, times: int | None, path: str | None, seconds: float | None) -> None:
        super().__init__(times, path)
        self.seconds = seconds  # None: until released; else each call goes on after this
        self.held = 0  # calls that arrived at this hold
        self.waiting = 0  # calls waiting now
        self._released = asyncio.Event()
        self._arrival = asyncio.Event()

    @property
    def released(self) -> bool:
        return self._released.is_set()

    def release(self) -> None:
        """Let every held call go on, and hold no more."""
        self.clear()
        self._released.set()

    set = release  # asyncio.Event's word for it

    async def arrived(self, count: int = 1) -> None:
        """Wait until `count` calls have been held (bound it with asyncio.timeout in tests)."""
        while self.held < count:
            self._arrival.clear()
            await self._arrival.wait()

    async def act(self, request: web.Request, *, lwa: bool, rate_limit_header: str | None) -> None:
        self.held += 1
        self.waiting += 1
        self._arrival.set()
        try:
            if self.seconds is None:
                await self._released.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), self.seconds)
        finally:
            self.waiting -= 1


def _generic_error(status: int) -> tuple[str, str]:
    phrase = HTTPStatus(status).phrase
    return phrase.title().replace(" ", "").replace("-", ""), f"{phrase}."
