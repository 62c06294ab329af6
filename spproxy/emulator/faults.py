"""Faults a test injects into the emulated Amazon, through `EmulatorState.faults`.

Everything is driven from the test, in the same process and event loop, without sleeps:

    faults = app[STATE_KEY].faults
    faults.fail(503, times=2, retry_after="1")   # the next 2 SP-API calls answer 503
    faults.fail(500, path="/orders/")            # the next call under /orders/ answers 500
    faults.drop()                                # the next call: connection closed, no answer
    hold = faults.hold(times=2)                  # the next 2 calls wait ...
    await hold.arrived(2)                        # ... (until both are waiting) ...
    hold.release()                               # ... until the test lets them go on
    faults.delay(5.0)                            # the next call waits 5 s (real time) first
    faults.lwa_down()                            # LWA answers 503 until cleared
    faults.tokens_api_down(times=1)              # createRestrictedDataToken answers 503 once
    faults.expire_tokens()                       # every issued access token / RDT has expired
    faults.rotate_client_secret("new")           # LWA accepts only the new client secret now
    faults.clear()                               # no fault pending; held calls go on

Call faults (`fail`, `drop`, `hold`, `delay`, `lwa_down`, `tokens_api_down`) return a `Fault`
handle: `applied` counts the calls it hit, `remaining` how many more it will hit (None: every
matching call until `clear()`), `clear()` ends it. `times=None` means "until cleared".

Which calls a fault hits: with `path=None`, SP-API calls (every request that is not for LWA, STS
or `/_emulator/stats`); with a `path`, every request whose raw path (as on the wire, without the
query) starts with it, LWA's `/auth/o2/token` included (that is what `lwa_down` does; STS is
`POST /`, so only `path="/"` reaches it, along with everything else). Faults are taken first
registered, first used; a call is hit by at most one.

Where they act, in the SP-API pipeline (spapi.py): after the body is read and the call is
recorded in `EmulatorState.requests` (so a POST that got an injected 503 or was dropped did
reach Amazon; `ReceivedRequest.fault` names the fault, `.status` the answer, None when dropped),
and before the signature check, the token checks and the rate limiter: an injected answer
consumes no quota, and a held call is checked (token expiry included) and charged to its bucket
when it goes on, as if it arrived then.

- `fail(status)` answers in SP-API's error shape, code by status: 429 QuotaExceeded (with
  `x-amzn-RateLimit-Limit` when the operation has a usage plan), 500 InternalFailure, 502
  BadGateway, 503 ServiceUnavailable, 504 GatewayTimeout; `Retry-After` if given. Hitting LWA's
  path it answers in LWA's shape: `{"error": ..., "error_description": ...}` with error
  "temporarily_unavailable" for 503, "invalid_request" 400, "invalid_client" 401, else
  "server_error".
- `drop()` closes the connection without a byte of answer: the client sees the server disconnect
  (aiohttp: ServerDisconnectedError).
- `hold()` returns a `Hold`: matching calls wait until `release()` (alias `set()`, as on an
  asyncio.Event), then are answered normally. `release()` also ends the fault. `arrived(n)` waits
  until n calls have been held. `delay(seconds)` is a hold that lets each call go on by itself
  after `seconds` (real time), for client-timeout tests (`ReceivedRequest.fault` says "hold"
  for both). Holds are released when the app shuts down, so a forgotten one never stalls a
  test's teardown.
- `expire_tokens(*kinds)` / `expire(token)`: the tokens have expired; SP-API answers them 403
  Unauthorized "The access token you provided has expired." (as for any expired token).
- `rotate_client_secret(new)`: LWA accepts only `new` from now on (the old one gets 401
  invalid_client). `EmulatorState.lwa_client_secrets_used` lists the secret each successful LWA
  exchange used.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from http import HTTPStatus
from typing import Literal, Protocol, TypeVar

from aiohttp import web

from spproxy.emulator.credentials import IssuedToken, TokenKind
from spproxy.emulator.errors import SpapiError
from spproxy.emulator.limits import QUOTA_EXCEEDED_MESSAGE, RATE_LIMIT_HEADER

FaultKind = Literal["fail", "drop", "hold"]
F = TypeVar("F", bound="Fault")

LWA_PATH = "/auth/o2/token"
TOKENS_API_PATH = "/tokens/2021-03-01/restrictedDataToken"

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


class Issuer(Protocol):
    """What the credential faults change: the tokens issued, the client secret LWA accepts
    (`EmulatorState` is one; faults know nothing more of it)."""

    tokens: dict[str, IssuedToken]
    client_secret: str
    retired_client_secrets: list[str]


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

    def _hit(self) -> None:
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


class Faults:
    """The faults pending in one emulated Amazon (see the module docstring)."""

    def __init__(self, issuer: Issuer) -> None:
        self._state = issuer
        self.pending: list[Fault] = []
        self._holds: list[Hold] = []  # every hold made, pending or used up, to release them all

    # --- calls ---------------------------------------------------------------------------------

    def fail(
        self,
        status: int,
        times: int | None = 1,
        *,
        path: str | None = None,
        retry_after: str | None = None,
    ) -> Failure:
        """The next `times` matching calls answer `status` in SP-API's error shape."""
        return self._add(Failure(status, times, path, retry_after))

    def drop(self, times: int | None = 1, *, path: str | None = None) -> Drop:
        """The next `times` matching calls get the connection closed without an answer."""
        return self._add(Drop(times, path))

    def hold(self, times: int | None = 1, *, path: str | None = None) -> Hold:
        """The next `times` matching calls wait until the test calls `release()`."""
        return self._add(Hold(times, path, None))

    def delay(self, seconds: float, times: int | None = 1, *, path: str | None = None) -> Hold:
        """The next `times` matching calls each wait `seconds` (real time) before going on."""
        return self._add(Hold(times, path, seconds))

    def lwa_down(self, times: int | None = None, *, status: int = 503, drop: bool = False) -> Fault:
        """LWA's token endpoint answers `status` (or drops the connection) until cleared."""
        if drop:
            return self.drop(times, path=LWA_PATH)
        return self.fail(status, times, path=LWA_PATH)

    def tokens_api_down(
        self, times: int | None = None, *, status: int = 503, drop: bool = False
    ) -> Fault:
        """createRestrictedDataToken answers `status` (or drops the connection) until cleared."""
        if drop:
            return self.drop(times, path=TOKENS_API_PATH)
        return self.fail(status, times, path=TOKENS_API_PATH)

    def clear(self) -> None:
        """No fault pending any more; held calls go on."""
        for fault in self.pending:
            fault.clear()
        self.pending.clear()
        self.release_all()

    def release_all(self) -> None:
        """Let every held call go on (the app does this when it shuts down)."""
        for hold in self._holds:
            hold.release()
        self._holds.clear()

    # --- credentials ---------------------------------------------------------------------------

    def expire_tokens(self, *kinds: TokenKind) -> int:
        """Expire every live access token of these kinds (default: all); returns how many."""
        now = time.time()
        tokens = self._state.tokens
        expired = [
            token
            for token, issued in tokens.items()
            if issued.expires_at > now and (not kinds or issued.kind in kinds)
        ]
        for token in expired:
            tokens[token] = replace(tokens[token], expires_at=now)
        return len(expired)

    def expire(self, token: str) -> None:
        """Expire one issued token (KeyError if the emulator never issued it)."""
        issued = self._state.tokens[token]
        self._state.tokens[token] = replace(issued, expires_at=min(issued.expires_at, time.time()))

    def rotate_client_secret(self, new_secret: str) -> None:
        """LWA accepts only `new_secret` from now on."""
        if not new_secret:
            raise ValueError("the new client secret is empty")
        state = self._state
        state.retired_client_secrets.append(state.client_secret)
        state.client_secret = new_secret

    # --- the pipeline's side -------------------------------------------------------------------

    def take(self, raw_path: str, *, spapi: bool) -> Fault | None:
        """The fault that hits this call, counted as applied; None if none does."""
        self.pending = [fault for fault in self.pending if fault.active]
        for fault in self.pending:
            if fault.matches(raw_path, spapi=spapi):
                fault._hit()
                return fault
        return None

    def _add(self, fault: F) -> F:
        self.pending.append(fault)
        if isinstance(fault, Hold):
            self._holds.append(fault)
        return fault


def _generic_error(status: int) -> tuple[str, str]:
    phrase = HTTPStatus(status).phrase
    return phrase.title().replace(" ", "").replace("-", ""), f"{phrase}."
