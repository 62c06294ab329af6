"""Which access token an SP-API operation accepts, refused in SP-API's words.

Seller operations need a seller's LWA token (refresh_token grant); grantless operations need a
client_credentials token carrying the operation's scope. Restricted Data Tokens will join here.
"""

from __future__ import annotations

from spproxy.emulator.errors import SpapiError
from spproxy.emulator.operations import Operation
from spproxy.emulator.state import EmulatorState, IssuedToken

_DENIED = "Access to requested resource is denied."
REVOKED_OR_INVALID = "The access token you provided is revoked, malformed or invalid."
EXPIRED = "The access token you provided has expired."


def token_refusal(state: EmulatorState, token: str) -> SpapiError:
    """Amazon's 403 for a token that is not live: missing, unknown or expired.

    `EmulatorState.valid_token` refuses unknown and expired tokens alike; Amazon tells them apart.
    """
    return _unauthorized(EXPIRED if token in state.tokens else REVOKED_OR_INVALID)


def check_token_fits(issued: IssuedToken, operation: Operation) -> None:
    scope = operation.grantless_scope
    if scope is None and issued.kind != "lwa":
        raise _unauthorized(
            f"{operation.name} needs a seller's LWA access token (refresh_token grant), "
            "not a grantless one."
        )
    if scope is not None and (issued.kind != "grantless" or issued.scope != scope):
        raise _unauthorized(
            f"{operation.name} is grantless: it needs an access token from the "
            f"client_credentials grant with scope {scope}."
        )


def _unauthorized(details: str) -> SpapiError:
    return SpapiError(403, "Unauthorized", _DENIED, details)
