"""Which access token an SP-API operation accepts, refused in SP-API's words.

Seller operations need a seller's LWA token (refresh_token grant); grantless operations need a
client_credentials token carrying the operation's scope. Restricted operations need a Restricted
Data Token minted (Tokens API) for a resource that covers the request: same method, and the
request's path or a generic path it fills. An RDT is accepted nowhere else: it is no LWA token.
Orders v0 getOrders/getOrder/getOrderItems also answer an LWA token, without PII, and
getReportDocument answers one for reports of types that are not restricted (apis/reports.py).

What the token grants is left on the request (`ACCESS_KEY`) for the handlers that decide what PII
to show (`granted_data_elements`).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from spproxy.emulator.credentials import IssuedToken, TokenKind
from spproxy.emulator.errors import SpapiError
from spproxy.emulator.operations import Operation
from spproxy.emulator.rdt import covering
from spproxy.emulator.state import EmulatorState

_DENIED = "Access to requested resource is denied."
REVOKED_OR_INVALID = "The access token you provided is revoked, malformed or invalid."
EXPIRED = "The access token you provided has expired."


@dataclass(frozen=True)
class Access:
    """What the request's token lets it see: its kind, for an RDT the PII it grants here, and
    the selling partner it acts for (None: grantless)."""

    token_kind: TokenKind
    data_elements: frozenset[str] = frozenset()
    selling_partner_id: str | None = None


ACCESS_KEY = web.RequestKey("emulator_access", Access)


def token_refusal(state: EmulatorState, token: str) -> SpapiError:
    """Amazon's 403 for a token that is not live: missing, unknown or expired.

    `EmulatorState.valid_token` refuses unknown and expired tokens alike; Amazon tells them apart.
    """
    return unauthorized(EXPIRED if token in state.tokens else REVOKED_OR_INVALID)


def check_token_fits(issued: IssuedToken, operation: Operation, method: str, path: str) -> Access:
    """What the token grants for this request to `operation`; refused with a 403 if nothing."""
    scope = operation.grantless_scope
    if scope is not None:
        if issued.kind != "grantless" or issued.scope != scope:
            raise unauthorized(
                f"{operation.name} is grantless: it needs an access token from the "
                f"client_credentials grant with scope {scope}."
            )
        return Access(issued.kind)
    if issued.kind == "rdt":
        return _restricted_data_access(issued, operation, method, path)
    if issued.kind != "lwa":
        raise unauthorized(
            f"{operation.name} needs a seller's LWA access token (refresh_token grant), "
            "not a grantless one."
        )
    if operation.restricted and not operation.answers_lwa_token:
        raise unauthorized(
            f"{operation.name} is a restricted operation: it needs a Restricted Data Token "
            "(Tokens API createRestrictedDataToken) in place of the LWA access token."
        )
    return Access(issued.kind, selling_partner_id=issued.selling_partner_id)


def _restricted_data_access(
    issued: IssuedToken, operation: Operation, method: str, path: str
) -> Access:
    if not operation.restricted:
        raise unauthorized(
            f"{operation.name} is not a restricted operation: it needs a seller's LWA access "
            "token, not a Restricted Data Token."
        )
    granting = covering(issued.restricted_resources, method, path)
    if not granting:
        raise unauthorized(
            f"The access token you provided does not grant access to {method} {path}."
        )
    granted = frozenset[str]().union(*(resource.data_elements for resource in granting))
    return Access(issued.kind, granted, issued.selling_partner_id)


def granted_data_elements(request: web.Request) -> frozenset[str]:
    """The dataElements the request's RDT grants for it; none for any other token."""
    return request[ACCESS_KEY].data_elements


def holds_restricted_data_token(request: web.Request) -> bool:
    return request[ACCESS_KEY].token_kind == "rdt"  # noqa: S105 - a token kind


def unauthorized(details: str) -> SpapiError:
    return SpapiError(403, "Unauthorized", _DENIED, details)
