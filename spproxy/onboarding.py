"""Seller onboarding: Amazon's authorization workflows (SP-API Developer Guide, "Authorizing
Selling Partner API applications"), ending with the seller's refresh token in spproxy's store.

    website   an application (an admin client) asks for a ticket: a single-use link for the
              seller. The seller's browser opens it: spproxy sets a cookie and sends it to the
              marketplace's Seller (or Vendor) Central consent page with a fresh `state`.
    Appstore  Amazon sends the seller's browser to the login URI with amazon_callback_uri,
              amazon_state and selling_partner_id: spproxy sets a cookie and sends it back to
              amazon_callback_uri (an Amazon central only: never an open redirect) with its state.
    callback  Amazon sends the browser to redirect_uri with state, selling_partner_id and
              spapi_oauth_code: the state must be known, unexpired, unused and this browser's;
              the code is redeemed at LWA (authorization_code, once, within its five minutes)
              and the refresh token stored, sealed, under the account's name. Neither the code
              nor the token ever reaches the application, a page or a log line.

Every outcome is a `Step`: where the browser goes next, or a page with its status.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from spproxy import marketplaces
from spproxy.authorizations import Authorization, Authorizations, browser_hash, new_secret
from spproxy.config import OnboardingConfig, Secret
from spproxy.errors import BadRequest, TokenExchangeError

if TYPE_CHECKING:
    from spproxy.proxy import Proxy
    from spproxy.storedaccounts import StoredAccounts

log = logging.getLogger("spproxy.onboarding")

ACCOUNT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
SELLING_PARTNER_ID = re.compile(r"[A-Z0-9]{8,32}")


@dataclass(frozen=True, slots=True)
class NewAccount:
    name: str
    selling_partner_id: str
    region: str
    refresh_token: str


@dataclass(frozen=True, slots=True)
class Step:
    """The browser's next step: a redirect (with the cookie to set), or a page."""

    status: int  # 302 with `location`, else the page's
    title: str = ""
    message: str = ""
    location: str | None = None
    cookie: str | None = None  # set with the redirect: binds the authorization to the browser


class AccountConflict(Exception):
    """The store refused the account (its name or selling partner id is taken)."""


class StoreUnavailable(Exception):
    """The store could not be reached: nothing was stored."""


Store = Callable[[NewAccount], Awaitable[None]]  # raises AccountConflict, StoreUnavailable
Redeem = Callable[[str, str], Awaitable[str]]  # (code, redirect_uri) -> refresh token
Audit = Callable[[dict[str, str]], None]
Finished = Callable[[Authorization, Step], None]  # an authorization and its last page
UNKNOWN_AUTHORIZATION = (
    "This authorization is unknown, was completed already, has expired or was started in "
    "another browser. Start again."
)


@dataclass
class Onboarding:
    config: OnboardingConfig
    pending: Authorizations
    redeem: Redeem
    store: Store
    audit: Audit
    consent_page: Callable[[str, bool], str | None]  # (marketplace, vendor) -> its consent URL
    marketplace_region: Callable[[str], str | None]
    central_region: Callable[[str], str | None]  # a central's URL -> its region, None: not one
    finished: list[Finished] = field(default_factory=list)  # `spproxy authorize` waits on one

    async def ticket(self, marketplace_id: str, name: str | None, vendor: bool, client: str) -> str:
        """A single-use link for the seller's browser (the website workflow)."""
        region = self.marketplace_region(marketplace_id)
        if region is None or self.consent_page(marketplace_id, vendor) is None:
            raise BadRequest(f"Unknown marketplace {marketplace_id!r}.", "See the README's table.")
        if name is not None and not ACCOUNT_NAME.fullmatch(name):
            raise BadRequest("The account name may use letters, digits, '_', '.' and '-'.")
        ticket = new_secret()
        authorization = Authorization(marketplace_id, region, name, vendor, started_by=client)
        await self.pending.put("ticket", ticket, authorization)
        return ticket

    async def start(self, ticket: str) -> Step:
        """The seller's browser opens its link: to Amazon's consent page, with a cookie."""
        authorization = await self.pending.take("ticket", ticket)
        if authorization is None or authorization.marketplace_id is None:
            return _refused("This link was used already or has expired; ask for a new one.")
        consent = self.consent_page(authorization.marketplace_id, authorization.vendor)
        assert consent is not None  # checked when the ticket was made
        return await self._to_amazon(consent, authorization, {})

    async def login(self, callback_uri: str, amazon_state: str, partner: str) -> Step:
        """The Appstore workflow's login URI: back to Amazon, with spproxy's own state."""
        region = self.central_region(callback_uri)
        if region is None or not amazon_state or not SELLING_PARTNER_ID.fullmatch(partner):
            return _refused("This is not a sign-in Amazon started; start from the Appstore.")
        authorization = Authorization(None, region, None, vendor=False, started_by="appstore")
        return await self._to_amazon(callback_uri, authorization, {"amazon_state": amazon_state})

    async def complete(
        self, state: str, cookie: str | None, code: str, partner: str, error: str
    ) -> Step:
        """Amazon's redirect back: check the state, redeem the code, store the account; the
        `finished` hooks see how each authorization ended."""
        authorization = await self.pending.take("state", state) if state else None
        if authorization is None:
            return _refused(UNKNOWN_AUTHORIZATION)
        step = await self._complete(authorization, cookie, code, partner, error)
        for hook in self.finished:
            hook(authorization, step)
        return step

    async def _complete(
        self, authorization: Authorization, cookie: str | None, code: str, partner: str, error: str
    ) -> Step:
        partner = partner if SELLING_PARTNER_ID.fullmatch(partner) else ""  # logged: checked
        if not Authorizations.same_browser(authorization, cookie):
            return _refused(UNKNOWN_AUTHORIZATION)  # its state is spent all the same
        if error:
            self._audited(authorization, partner, "declined")
            return Step(403, "Authorization declined", "Nothing was stored.")
        if not code or not partner:
            return _refused("Amazon's answer lacks the authorization code or the seller.")
        try:
            refresh_token = await self.redeem(code, self.config.redirect_uri)
        except TokenExchangeError as error_:
            self._audited(authorization, partner, "refused by LWA")
            return Step(502, "Amazon refused the authorization", error_.message)
        name = authorization.name or f"seller-{partner}"
        try:
            await self.store(NewAccount(name, partner, authorization.region, refresh_token))
        except AccountConflict as conflict:
            self._audited(authorization, partner, "conflict")
            return Step(409, "Not added", str(conflict))
        except StoreUnavailable:
            self._audited(authorization, partner, "store unavailable")
            return Step(503, "Not added", "The account store cannot be reached; start again.")
        self._audited(authorization, partner, "added", name)
        return Step(200, "Seller added", f"Seller {partner} was added as account '{name}'.")

    async def _to_amazon(
        self, url: str, authorization: Authorization, extra: dict[str, str]
    ) -> Step:
        state, cookie = new_secret(), new_secret()
        bound = replace(authorization, browser=browser_hash(cookie))
        await self.pending.put("state", state, bound)
        query = {**extra, "state": state}
        if authorization.marketplace_id is not None:  # the website workflow names the app
            query = {"application_id": self.config.application_id, **query}
            query["redirect_uri"] = self.config.redirect_uri
        if self.config.draft:
            query["version"] = "beta"  # a draft application (Amazon's guide)
        separator = "&" if urlsplit(url).query else "?"
        return Step(302, location=f"{url}{separator}{urlencode(query)}", cookie=cookie)

    def _audited(
        self, authorization: Authorization, partner: str, outcome: str, name: str = "-"
    ) -> None:
        entry = {"event": "onboarding", "client": authorization.started_by, "account": name}
        entry |= {"selling_partner_id": partner or "-", "outcome": outcome}
        self.audit(entry)
        log.info("onboarding: seller %s %s (account %s)", partner or "-", outcome, name)


def _refused(message: str) -> Step:
    return Step(400, "Authorization not completed", message)


def onboarding_for(proxy: Proxy, stored: StoredAccounts) -> Onboarding | None:
    """The onboarding `proxy`'s config asks for, storing sellers in `stored`."""
    config = proxy.config.onboarding
    if config is None:
        return None
    from spproxy.accountstore import StoreError, StoreRefused  # SQLAlchemy: only with a store

    async def store(new: NewAccount) -> None:
        # With the emulator standing in for Amazon (consent_url), it serves SP-API there too.
        token, endpoint = Secret(new.refresh_token), config.consent_url
        try:
            await stored.add(new.name, new.selling_partner_id, new.region, token, endpoint)
        except StoreRefused as refused:
            raise AccountConflict(str(refused)) from None
        except StoreError:
            raise StoreUnavailable from None

    def consent_page(marketplace_id: str, vendor: bool) -> str | None:
        if config.consent_url is not None:
            return config.consent_url + marketplaces.CONSENT_PATH
        try:
            return marketplaces.consent_url(marketplace_id, vendor=vendor)
        except LookupError:
            return None

    def central_region(url: str) -> str | None:
        if config.consent_url is not None and url.startswith(config.consent_url + "/"):
            return proxy.config.default_account.region  # the emulator: every central
        return marketplaces.central_region(url)

    audit = proxy.audit
    return Onboarding(
        config,
        Authorizations(proxy.state),
        proxy.tokens.redeem,
        store,
        audit.event if audit is not None else lambda entry: None,
        consent_page,
        marketplaces.region_of,
        central_region,
    )
