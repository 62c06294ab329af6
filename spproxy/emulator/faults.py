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

What each kind does to the call it hits (an answer in SP-API's or LWA's error shape, a closed
connection, a wait) is in faultkinds.py. The credential faults:
- `expire_tokens(*kinds)` / `expire(token)`: the tokens have expired; SP-API answers them 403
  Unauthorized "The access token you provided has expired." (as for any expired token).
- `rotate_client_secret(new)`: LWA accepts only `new` from now on (the old one gets 401
  invalid_client). `EmulatorState.lwa_client_secrets_used` lists the secret each successful LWA
  exchange used.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Protocol, TypeVar

from spproxy.emulator.credentials import IssuedToken, TokenKind
from spproxy.emulator.faultkinds import Drop, Failure, Fault, Hold

F = TypeVar("F", bound=Fault)

LWA_PATH = "/auth/o2/token"
TOKENS_API_PATH = "/tokens/2021-03-01/restrictedDataToken"


class Issuer(Protocol):
    """What the credential faults change: the tokens issued, the client secret LWA accepts
    (`EmulatorState` is one; faults know nothing more of it)."""

    tokens: dict[str, IssuedToken]
    client_secret: str
    retired_client_secrets: list[str]


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
                fault.hit()
                return fault
        return None

    def _add(self, fault: F) -> F:
        self.pending.append(fault)
        if isinstance(fault, Hold):
            self._holds.append(fault)
        return fault
