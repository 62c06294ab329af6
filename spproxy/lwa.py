"""Login with Amazon (LWA) access tokens: one exchange per account and scope, cached.

SP-API calls carry an LWA access token in `x-amz-access-token`. A seller's token comes from the
`refresh_token` grant; grantless operations use the `client_credentials` grant with a scope
(SP-API docs, "Connecting to the Selling Partner API", step 1). Tokens last `expires_in` seconds
(an hour). We reuse one until `margin_s` before it runs out, and however many requests wait for
a token, only one exchange per key is in flight: the others await the same task. In the last
`refresh_ahead_s` of a token's life the next request triggers an exchange in the background and
is served the current token, so in steady state no request waits for LWA; and while LWA is down,
a token that has not yet expired keeps serving.

With `shared`, replicas share their tokens through Redis: whichever fetches first (a request, a
renewal ahead of expiry, the keeper) exchanges and stores the token, and the others take it from
Redis instead of exchanging again (`sharedtokens`).
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from spproxy.addresses import redact_url
from spproxy.config import Account, LwaConfig
from spproxy.errors import Outcome, TokenExchangeError, outcome
from spproxy.sharedtokens import SharedTokens, fingerprint
from spproxy.tokencache import TokenCache

if TYPE_CHECKING:
    from spproxy.sharedstate import SharedState

log = logging.getLogger("spproxy.lwa")

# What to tell the operator for each LWA error code (RFC 6749 5.2 and Amazon's LWA docs).
_REMEDIES = {
    "invalid_grant": (
        "The seller must authorise the app again; put the new refresh token in the account's "
        "refresh_token and reload spproxy."
    ),
    "invalid_client": (
        "Check lwa.client_id and lwa.client_secret. LWA client secrets expire every 180 days: "
        "rotate it in Solution Provider Portal / Developer Central and update lwa.client_secret."
    ),
    "unauthorized_client": "The app is not authorised for this grant type; check its registration.",
    "invalid_scope": "The app may not use this grantless scope; check its roles.",
}


@dataclass(frozen=True, slots=True)  # one held per account
class AccessToken:
    value: str
    expires_at: float  # time.time() when LWA says it expires


# A token is cached per seller account (refresh_token grant) or per scope (client_credentials).
TokenKey = tuple[str, str]


class LwaTokens:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: LwaConfig,
        *,
        timeout_s: float,
        margin_s: float = 120.0,
        refresh_ahead_s: float = 600.0,
        clock: Callable[[], float] = time.time,
        shared: SharedState | None = None,  # Redis shared with other replicas
    ) -> None:
        self._session = session
        self._config = config
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._clock = clock
        self._cache: TokenCache[TokenKey, AccessToken] = TokenCache(
            margin_s=margin_s,
            refresh_ahead_s=refresh_ahead_s,
            clock=clock,
            stale_on=(TokenExchangeError,),
            what="LWA",
        )
        self._shared = None if shared is None else SharedTokens(shared, clock=clock)
        self.failures: dict[str, str] = {}  # account name -> why its last exchange failed
        self.outcomes: Counter[Outcome] = Counter()  # this process's exchanges: ok, refused, ...

    @property
    def exchanges(self) -> int:
        """Successful exchanges (this process's own, not those of other replicas)."""
        return self.outcomes["ok"]

    async def seller_token(self, account: Account) -> str:
        return await self._token(("account", account.name), account)

    def fresh_seller_token(self, account: Account) -> str | None:
        """The account's token if one is held and no renewal is due; else None."""
        fresh = self._cache.fresh(("account", account.name))
        return None if fresh is None else fresh.value

    async def refresh(self, account: Account) -> None:
        """Exchange the account's refresh token now (or take the newer token another replica
        shared), or join the exchange in flight."""
        key = ("account", account.name)
        await self._cache.fetch(key, lambda: self._obtained(key, account))

    async def grantless_token(self, scope: str) -> str:
        return await self._token(("scope", scope), None)

    async def aclose(self) -> None:
        await self._cache.aclose()

    def snapshot(self, accounts: Iterable[Account]) -> dict[str, dict[str, Any]]:
        """For /_spproxy/status: each account's token expiry (clock time) and last failure."""
        return {
            account.name: {
                "lwa_token_expires_at": self.expiry(account),
                "last_token_failure": self.failures.get(account.name),
            }
            for account in accounts
        }

    def expiry(self, account: Account) -> float | None:
        cached = self._cache.store.get(("account", account.name))
        return cached.expires_at if cached else None

    async def invalidate_seller_token(self, account: Account, token: str) -> None:
        """Amazon says this token is no longer valid: the next request exchanges again."""
        await self._invalidate(("account", account.name), account, token)

    async def invalidate_grantless_token(self, scope: str, token: str) -> None:
        await self._invalidate(("scope", scope), None, token)

    def reconfigure(self, config: LwaConfig, timeout_s: float) -> None:
        """A reloaded config: its client credentials serve the next exchange."""
        if config.client_id != self._config.client_id:
            self._cache.store.clear()  # tokens of another app
        self._config = config
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def forget(self, account: str) -> None:
        """The account's refresh token changed or the account is gone."""
        self._cache.store.pop(("account", account), None)
        self.failures.pop(account, None)

    async def _invalidate(self, key: TokenKey, account: Account | None, token: str) -> None:
        if self._shared is not None:  # first: a request meanwhile must not take it from Redis
            await self._shared.discard([self._shared_key(self._shared, key, account)], token)
        cached = self._cache.store.get(key)
        if cached is not None and cached.value == token:
            del self._cache.store[key]

    async def _token(self, key: TokenKey, account: Account | None) -> str:
        """The token for `key`: an account's (refresh_token grant) or a scope's (None)."""
        fresh = self._cache.fresh(key)
        if fresh is not None:
            return fresh.value

        def exchange() -> Coroutine[Any, Any, AccessToken]:
            return self._obtained(key, account)

        token, _ = await self._cache.get(
            key,
            wait=lambda: self._cache.fetch(key, exchange),
            renew=lambda: self._cache.start([key], exchange),
        )
        return token.value

    async def _obtained(self, key: TokenKey, account: Account | None) -> AccessToken:
        """A token newer than the one held, from the replicas' shared state or exchanged."""
        if self._shared is None:
            token = await self._exchange(key, account)
        else:
            token = await self._shared.obtain(
                self._shared_key(self._shared, key, account),
                lambda: self._exchange(key, account),
                build=AccessToken,
                usable=lambda token: self._cache.renews(key, token),
            )
        if account is not None:
            self.failures.pop(account.name, None)  # whichever replica exchanged
        return token

    def _shared_key(self, shared: SharedTokens, key: TokenKey, account: Account | None) -> str:
        """The key's Redis key: an account's token only for its refresh token, any token only
        for this app's client id."""
        secret = account.refresh_token.reveal() if account is not None else ""
        return shared.state.key("lwa", *key, fingerprint(self._config.client_id, secret))

    async def _exchange(self, key: TokenKey, account: Account | None) -> AccessToken:
        if account is not None:
            what = f"account '{account.name}'"
            form = {"grant_type": "refresh_token", "refresh_token": account.refresh_token.reveal()}
        else:
            what = f"scope {key[1]}"
            form = {"grant_type": "client_credentials", "scope": key[1]}
        try:
            token, _ = await self._post(form, what)
        except TokenExchangeError as exc:
            self.outcomes[outcome(exc)] += 1
            if account is not None:
                self.failures[account.name] = exc.message
            log.warning("LWA token exchange for %s failed: %s", what, exc.message)
            raise
        self.outcomes["ok"] += 1
        log.debug("LWA token for %s obtained, valid until %.0f", what, token.expires_at)
        return token

    async def redeem(self, code: str, redirect_uri: str) -> str:
        """The refresh token an OAuth authorization code stands for (the seller's consent):
        LWA's authorization_code grant, within the code's five minutes, once."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        _, payload = await self._post(form, "an authorization code")
        refresh_token = payload.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise TokenExchangeError(
                "LWA answered 200 for an authorization code without a refresh_token.",
                "Amazon's login service answered something unexpected; authorize again.",
            )
        return refresh_token

    async def _post(self, form: dict[str, str], what: str) -> tuple[AccessToken, dict[str, Any]]:
        form = {
            **form,
            "client_id": self._config.client_id,
            "client_secret": self._config.client_secret.reveal(),
        }
        started = self._clock()
        try:
            async with self._session.post(
                self._config.endpoint, data=form, timeout=self._timeout, allow_redirects=False
            ) as response:
                status = response.status
                payload = await response.json(content_type=None) if status < 500 else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise TokenExchangeError(
                f"LWA could not be reached or answered no JSON for {what} ({type(exc).__name__}).",
                f"Check lwa.endpoint ({redact_url(self._config.endpoint)}) and the network; "
                "retry later.",
            ) from None
        if not isinstance(payload, dict):
            raise TokenExchangeError(
                f"LWA answered HTTP {status} for {what}.", "Amazon's login service failed; retry."
            )
        if status != 200 or "access_token" not in payload:
            error = str(payload.get("error", f"HTTP {status}"))
            raise TokenExchangeError(
                f"LWA refused the token request for {what}: {error}.",
                _REMEDIES.get(error, "See Amazon's LWA error codes."),
                # An OAuth error code with a 4xx (RFC 6749 5.2) says no; a 429 says "busy".
                refused=400 <= status < 500 and status != 429 and "error" in payload,
            )
        token, lifetime = payload["access_token"], lifetime_s(payload.get("expires_in"))
        if not isinstance(token, str) or not token or lifetime is None:
            missing = "an access_token" if lifetime is not None else "a numeric expires_in"
            raise TokenExchangeError(
                f"LWA answered 200 for {what} without {missing}.",
                "Amazon's login service answered something unexpected; retry later.",
            )
        return AccessToken(token, started + lifetime), payload


def lifetime_s(value: object) -> float | None:
    """A token's lifetime as Amazon states it (expires_in, expiresIn): positive seconds, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 < seconds < math.inf else None
