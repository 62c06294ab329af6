"""What the emulated Seller Central remembers between the steps of an OAuth authorization.

Each is a random value that works once and expires on the emulator's clock (EmulatorConfig.clock):

- the consent pages it showed, by the CSRF token in each page's form, with what the page asked
  the seller to confirm: the form posts nothing else the emulator would have to trust;
- the Appstore workflows waiting for the app's login URI to send the browser back, by the
  `amazon_state` Amazon gave the app, with the selling partner who consented;
- the authorization codes (`spapi_oauth_code`), with the selling partner and the redirect URI
  each was issued for. LWA takes one once, within five minutes, with that redirect URI only
  (Amazon's Website Authorization Workflow: the code expires after five minutes; RFC 6749
  section 4.1.3: the redirect_uri must be the one of the authorization request). A code tried
  with another redirect URI is used up all the same, as one tried twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

CODE_TTL_S = 5 * 60
# Amazon states no lifetime for a consent page or an amazon_state: the emulator's own, long
# enough for a person to sign in to the app, short enough that a flow left open fails here too.
STEP_TTL_S = 15 * 60

Workflow = Literal["website", "appstore"]
Value = TypeVar("Value")


@dataclass(frozen=True)
class ConsentRequest:
    """What one consent page asks the seller to confirm."""

    workflow: Workflow
    selling_partner_id: str
    beta: bool  # version=beta: the test workflow of a draft app
    state: str = ""  # website workflow: the app's state, echoed to its redirect URI
    redirect_uri: str = ""  # website workflow: where the code goes


@dataclass(frozen=True)
class IssuedCode:
    selling_partner_id: str
    redirect_uri: str


class OneTimeValues(Generic[Value]):
    """Random keys standing for values, each taken at most once, before it expires."""

    def __init__(self, clock: Callable[[], float], ttl_s: float, prefix: str = "") -> None:
        self._clock = clock
        self._ttl_s = ttl_s
        self._prefix = prefix
        self._held: dict[str, tuple[Value, float]] = {}
        self.issued: list[str] = []  # every key ever issued, for log-leak tests

    def issue(self, value: Value) -> str:
        now = self._clock()
        # Expired keys go when a new one comes: what is held stays bounded by what is in use.
        self._held = {key: held for key, held in self._held.items() if held[1] > now}
        key = self._prefix + secrets.token_urlsafe(32)
        self._held[key] = (value, now + self._ttl_s)
        self.issued.append(key)
        return key

    def take(self, key: str) -> Value | None:
        """The value behind `key` if it was issued, not yet taken and has not expired."""
        held = self._held.pop(key, None)
        if held is None or held[1] <= self._clock():
            return None
        return held[0]


class ConsentStore:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.pages = OneTimeValues[ConsentRequest](clock, STEP_TTL_S)
        self.amazon_states = OneTimeValues[str](clock, STEP_TTL_S)  # -> selling partner
        # Amazon's codes start "AN", as the ones sellers' redirects carry do.
        self.codes = OneTimeValues[IssuedCode](clock, CODE_TTL_S, prefix="AN")

    def redeem_code(self, code: str, redirect_uri: str) -> str | None:
        """The selling partner who authorised, if the code is good for this redirect URI."""
        issued = self.codes.take(code)
        if issued is None or issued.redirect_uri != redirect_uri:
            return None
        return issued.selling_partner_id
