"""What the emulated Amazon knows: who may log in, which tokens it issued, what it received.

Tests read `EmulatorState` (via `STATE_KEY` on the emulator app) to assert what reached
"Amazon": the headers, the kind of token, whether the signature verified, what it answered
(`ReceivedRequest.status`); and drive it: `EmulatorState.faults` (faults.py) injects failures,
dropped connections, held answers, expired tokens and a rotated client secret; what it issues
is typed in credentials.py.
"""

from __future__ import annotations

import copy
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web
from multidict import CIMultiDictProxy

from spproxy.emulator.application import Application
from spproxy.emulator.consentstore import ConsentStore
from spproxy.emulator.credentials import (
    IssuedToken,
    RestrictedResource,
    TemporaryCredentials,
    TokenKind,
)
from spproxy.emulator.faultkinds import FaultKind
from spproxy.emulator.faults import Faults
from spproxy.emulator.fixtures import MFN_SHIPMENTS, JsonObject
from spproxy.emulator.jobs import Jobs
from spproxy.emulator.limits import RateLimiter
from spproxy.emulator.presigned import DocumentStore

DEMO_CLIENT_ID = "amzn1.application-oa2-client.spproxydemo"
DEMO_CLIENT_SECRET = "amzn1.oa2-cs.v1.spproxy-demo-client-secret"  # noqa: S105 - a fake for the emulator
DEMO_REFRESH_TOKEN = "Atzr|spproxy-demo-refresh-token"  # noqa: S105 - a fake for the emulator
DEMO_SELLER_ID = "A2SPPROXYDEMO1"
DEMO_AUTHORIZATION_CODE = "ANspproxyDemoAuthCode"  # as Seller Central passes to a redirect URI

SignatureOutcome = Literal["valid", "invalid", "absent"]
RoleRefusal = Literal["unauthorized", "invalid_input"]

# Amazon's access tokens start with these: LWA's, the client_credentials grant's, the Tokens API's.
_TOKEN_PREFIXES: dict[TokenKind, str] = {"lwa": "Atza|", "grantless": "Atc|", "rdt": "Atz.sprdt|"}


def _demo_refresh_tokens() -> dict[str, str]:
    return {DEMO_REFRESH_TOKEN: DEMO_SELLER_ID}


def _demo_authorization_codes() -> dict[str, str]:
    return {DEMO_AUTHORIZATION_CODE: DEMO_SELLER_ID}


@dataclass(frozen=True)
class EmulatorConfig:
    """Who the emulated Amazon accepts.

    `refresh_tokens` maps each refresh token it honours to the selling partner it stands for.
    `authorization_codes` maps OAuth authorization codes issued out of band (single-use, as at
    LWA, but for any redirect_uri and without expiry) to the selling partner who authorised the
    app; exchanging one grants a new refresh token. The consent pages (consent.py) issue real ones.
    `application` is the app `client_id` and `client_secret` belong to, as registered (its id,
    name, draft or published, roles, login and redirect URIs: application.py); `signed_in_seller`
    is the selling partner signed in to the emulated Seller Central, who sees its consent pages.
    `aws_keys` maps access key ids to secret keys; when set, every SP-API call must carry a
    valid SigV4 signature (as SP-API required before 2023-10-02), else none is checked.

    The roles the application lacks, for the Tokens API (default: it has them all): a
    createRestrictedDataToken call naming any of `denied_data_elements` (e.g. buyerTaxInformation
    without the Tax Invoicing role), an operation whose path template is in `denied_paths` (e.g.
    "/mfn/v0/shipments/{shipmentId}", every method on it), or the document of a report whose type is
    in `denied_report_types` is refused whole. `role_refusal` picks the answer: "unauthorized" is
    403 Unauthorized naming what is missing; "invalid_input" is the 400 InvalidInput "Application
    do not have access to some or all requested resource" Amazon was seen answering
    (selling-partner-api-docs issues #702 and #806).

    `rate_limits` turns on SP-API's usage plans (limits.py): a token bucket per selling partner (or
    application, for grantless tokens) and operation, with rate and burst from Amazon's models
    (`spproxy/data/operations.json`); a call finding it empty is answered 429 QuotaExceeded.
    `usage_plans` overrides plans by operation name, as (rate per second, burst), for tests.
    `clock` is what the buckets refill by (seconds), and what consent pages, amazon_state values
    and authorization codes expire by; tests inject a fake one instead of sleeping. Token expiry
    stays on wall-clock time (time.time()).

    `sandbox_examples` (on by default) answers every operation of Amazon's models from the static
    examples the models publish, as Amazon's sandbox does, alongside the emulator's own handlers
    (sandbox.py says which answers when); off, only the handlers answer.

    `static_sandbox` makes the emulator Amazon's static sandbox (`sandbox.sellingpartnerapi-*`),
    no more lenient than it: every operation of the models answers only its published examples
    (no emulated seller data; the Tokens API answers only the bodies its model publishes, with the
    published fixed tokens), a request no example matches gets 400 InvalidInput "Could not match
    input arguments", and the token is not checked for its kind, scope or RDT resources (the
    sandbox matches requests, not tokens) but must still be a live token from LWA. With
    `rate_limits`, every operation's plan is the sandbox's 5 requests per second, burst 15
    (limits.py). Needs `sandbox_examples`.
    """

    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    refresh_tokens: Mapping[str, str] = field(default_factory=_demo_refresh_tokens)
    aws_keys: Mapping[str, str] | None = None
    token_ttl_s: int = 3600
    authorization_codes: Mapping[str, str] = field(default_factory=_demo_authorization_codes)
    application: Application = field(default_factory=Application)
    signed_in_seller: str = DEMO_SELLER_ID
    denied_data_elements: frozenset[str] = frozenset()
    denied_paths: frozenset[str] = frozenset()
    denied_report_types: frozenset[str] = frozenset()
    role_refusal: RoleRefusal = "unauthorized"
    rate_limits: bool = False
    usage_plans: Mapping[str, tuple[float, int]] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    sandbox_examples: bool = True
    static_sandbox: bool = False
    # Reports and feeds (jobs.py): seconds IN_QUEUE, then IN_PROGRESS, by `clock`; the report and
    # feed types whose processing ends FATAL (unknown report types do too).
    processing_s: tuple[float, float] = (2.0, 3.0)
    fatal_report_types: frozenset[str] = frozenset()
    fatal_feed_types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RdtMint:
    """One createRestrictedDataToken call that passed validation, granted or refused."""

    restricted_resources: tuple[RestrictedResource, ...]
    target_application: str | None
    selling_partner_id: str | None
    refusal: str | None = None  # why the roles did not allow it; None: granted


@dataclass
class ReceivedRequest:
    """One request as it reached the emulated SP-API (not LWA or STS calls).

    Recorded on arrival; `status` and `request_id` are filled in when the answer is sent (None
    while a held call waits, and for good when the call was dropped without an answer).
    """

    method: str
    raw_path: str  # path as on the wire, without the query
    query_string: str  # raw, as on the wire
    headers: CIMultiDictProxy[str]
    body: bytes
    token_kind: TokenKind | None  # None: missing, unknown or expired token; "rdt": an RDT
    signature: SignatureOutcome
    operation: str | None = None  # the operationId routed to; None: no operation has the path
    fault: FaultKind | None = None  # the injected fault that hit the call, if any
    status: int | None = None  # what Amazon answered; None: no answer (yet)
    request_id: str | None = None  # the answer's x-amzn-RequestId


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.tokens: dict[str, IssuedToken] = {}
        self.temporary_credentials: dict[str, TemporaryCredentials] = {}
        self.requests: list[ReceivedRequest] = []
        # SP-API calls received and answers sent by status, kept apart from `requests` so that
        # clearing that list (a long benchmark does) loses no count.
        self.requests_received = 0
        self.answers_by_status: Counter[int] = Counter()
        self.lwa_exchanges: Counter[str] = Counter()  # by grant_type, refused ones excluded
        # The client secret LWA accepts: the configured one until faults.rotate_client_secret.
        self.client_secret = config.client_secret
        self.retired_client_secrets: list[str] = []
        self.lwa_client_secrets_used: list[str] = []  # by each successful LWA exchange, in order
        self.limiter = RateLimiter(config.clock)
        self.quota_refusals = 0  # 429s the rate limiter answered (injected ones excluded)
        self.quota_refusals_by_operation: Counter[str] = Counter()  # by operationId
        self.faults = Faults(self)
        self.sts_calls = 0
        # Refresh token -> selling partner, for tokens granted by authorization_code exchanges:
        # the config stays frozen, so what the emulator grants at run time lives here.
        self.granted_refresh_tokens: dict[str, str] = {}
        self.redeemed_authorization_codes: set[str] = set()
        self.consents = ConsentStore(config.clock)
        # Who consents on the consent pages; a test switches it to onboard another seller.
        self.signed_in_seller = config.signed_in_seller
        self.rdt_mints: list[RdtMint] = []  # granted, in order
        self.refused_mints: list[RdtMint] = []  # refused for a missing role, in order
        # Merchant Fulfillment shipments: createShipment adds, cancelShipment changes them.
        self.mfn_shipments: dict[str, JsonObject] = copy.deepcopy(MFN_SHIPMENTS)
        # Created reports and feeds, and the documents behind their presigned URLs.
        self.reports = Jobs(config.clock, config.processing_s)
        self.feeds = Jobs(config.clock, config.processing_s)
        self.documents = DocumentStore(config.clock)

    def issue_token(
        self,
        kind: TokenKind,
        *,
        scope: str | None = None,
        selling_partner_id: str | None = None,
        restricted_resources: tuple[RestrictedResource, ...] = (),
        target_application: str | None = None,
    ) -> str:
        token = _TOKEN_PREFIXES[kind] + secrets.token_urlsafe(48)
        self.tokens[token] = IssuedToken(
            kind,
            scope,
            selling_partner_id,
            time.time() + self.config.token_ttl_s,
            restricted_resources,
            target_application,
        )
        return token

    def seller_for_refresh_token(self, refresh_token: str) -> str | None:
        """The selling partner a configured or granted refresh token stands for."""
        configured = self.config.refresh_tokens.get(refresh_token)
        return configured or self.granted_refresh_tokens.get(refresh_token)

    def redeem_authorization_code(self, code: str, redirect_uri: str) -> str | None:
        """A new refresh token for the code's selling partner; None if the code is unknown, used,
        expired, or was issued for another redirect URI."""
        seller_id = self._redeem_configured_code(code) or self.consents.redeem_code(
            code, redirect_uri
        )
        if seller_id is None:
            return None
        refresh_token = "Atzr|" + secrets.token_urlsafe(48)
        self.granted_refresh_tokens[refresh_token] = seller_id
        return refresh_token

    def _redeem_configured_code(self, code: str) -> str | None:
        seller_id = self.config.authorization_codes.get(code)
        if seller_id is None or code in self.redeemed_authorization_codes:
            return None
        self.redeemed_authorization_codes.add(code)
        return seller_id

    def valid_token(self, token: str) -> IssuedToken | None:
        issued = self.tokens.get(token)
        if issued is None or issued.expires_at <= time.time():
            return None
        return issued

    def issue_temporary_credentials(self, duration_s: int) -> TemporaryCredentials:
        creds = TemporaryCredentials(
            access_key_id="ASIA" + secrets.token_hex(8).upper(),
            secret_access_key=secrets.token_urlsafe(30),
            session_token=secrets.token_urlsafe(60),
            expires_at=time.time() + duration_s,
        )
        self.temporary_credentials[creds.access_key_id] = creds
        return creds

    def credentials_for(self, access_key_id: str) -> tuple[str, str | None] | None:
        """(secret key, session token it requires) behind an access key id, if it is valid.

        Configured keys need no session token; STS-issued ones need theirs until they expire.
        """
        if self.config.aws_keys and access_key_id in self.config.aws_keys:
            return self.config.aws_keys[access_key_id], None
        creds = self.temporary_credentials.get(access_key_id)
        if creds is not None and creds.expires_at > time.time():
            return creds.secret_access_key, creds.session_token
        return None

    def issued_secrets(self) -> list[str]:
        """Every secret and token this emulator knows or issued (for log-leak tests)."""
        values = [self.config.client_secret, self.client_secret, *self.retired_client_secrets]
        values += [*self.config.refresh_tokens, *self.tokens]
        values += [*self.config.authorization_codes, *self.granted_refresh_tokens]
        values += self.consents.codes.issued
        if self.config.aws_keys:
            values += list(self.config.aws_keys.values())
        for creds in self.temporary_credentials.values():
            values += [creds.secret_access_key, creds.session_token]
        return values


STATE_KEY = web.AppKey("emulator_state", EmulatorState)
RECORD_KEY = web.RequestKey("emulator_record", ReceivedRequest)
"""The record of an SP-API call, on its request, for the answer's status to be filled in."""
