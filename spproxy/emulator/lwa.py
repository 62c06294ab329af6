"""Emulated Login with Amazon token endpoint, `POST /auth/o2/token`.

Answers the three grants SP-API apps use (refresh_token, client_credentials for grantless
operations, authorization_code for OAuth authorisation) and refuses exactly as LWA does:
`{"error": ..., "error_description": ...}` with LWA's status codes. Parameters come form-encoded
as at https://api.amazon.com/auth/o2/token; a JSON body is accepted too, as LWA does.
Secrets are compared in constant time and never echoed back. The client secret accepted is
`EmulatorState.client_secret` (the configured one until a test rotates it, faults.py); each
successful exchange records the secret it used in `EmulatorState.lwa_client_secrets_used`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from spproxy.emulator.state import STATE_KEY, EmulatorState

GRANTLESS_SCOPES = frozenset(
    {"sellingpartnerapi::notifications", "sellingpartnerapi::client_credential:rotation"}
)

# Beyond client_id and client_secret, which every grant needs.
_GRANT_PARAMETERS = {
    "refresh_token": ("refresh_token",),
    "client_credentials": ("scope",),
    "authorization_code": ("code", "redirect_uri"),
}

# LWA's answers say not to store tokens anywhere on the way.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class LwaError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


async def exchange_token(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        params = await _read_parameters(request)
        grant_type = _required(params, "grant_type")
        if grant_type not in _GRANT_PARAMETERS:
            raise LwaError(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server",
            )
        for name in ("client_id", "client_secret", *_GRANT_PARAMETERS[grant_type]):
            _required(params, name)
        _authenticate_client(state, params["client_id"], params["client_secret"])
        answer = _grant(state, grant_type, params)
    except LwaError as refusal:
        body = {"error": refusal.error, "error_description": refusal.description}
        return web.json_response(body, status=refusal.status, headers=_NO_STORE)
    state.lwa_exchanges[grant_type] += 1
    state.lwa_client_secrets_used.append(params["client_secret"])
    return web.json_response(answer, headers=_NO_STORE)


async def _read_parameters(request: web.Request) -> Mapping[str, str]:
    if request.content_type == "application/json":
        try:
            document: Any = await request.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise LwaError(400, "invalid_request", "The request body is not a JSON object")
        return {key: str(value) for key, value in document.items()}
    form = await request.post()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise LwaError(
            400, "invalid_request", f"The request is missing a required parameter : {name}"
        )
    return value


def _authenticate_client(state: EmulatorState, client_id: str, client_secret: str) -> None:
    id_matches = secrets.compare_digest(client_id.encode(), state.config.client_id.encode())
    secret_matches = secrets.compare_digest(client_secret.encode(), state.client_secret.encode())
    if not (id_matches and secret_matches):
        raise LwaError(401, "invalid_client", "Client authentication failed")


def _grant(state: EmulatorState, grant_type: str, params: Mapping[str, str]) -> dict[str, Any]:
    ttl = state.config.token_ttl_s
    if grant_type == "client_credentials":
        scope = params["scope"]
        if scope not in GRANTLESS_SCOPES:
            raise LwaError(400, "invalid_scope", "The request has an invalid parameter : scope")
        token = state.issue_token("grantless", scope=scope)
        return {"access_token": token, "scope": scope, "token_type": "bearer", "expires_in": ttl}
    if grant_type == "authorization_code":
        # Once, within five minutes, for the redirect_uri it was issued for (consentstore.py);
        # codes issued out of band (EmulatorConfig.authorization_codes) take any redirect_uri.
        refresh_token = state.redeem_authorization_code(params["code"], params["redirect_uri"])
        if refresh_token is None:
            raise _invalid_grant("code")
    else:
        refresh_token = params["refresh_token"]
    seller_id = state.seller_for_refresh_token(refresh_token)
    if seller_id is None:
        raise _invalid_grant("refresh_token")
    return {
        "access_token": state.issue_token("lwa", selling_partner_id=seller_id),
        "refresh_token": refresh_token,
        "token_type": "bearer",
        "expires_in": ttl,
    }


def _invalid_grant(parameter: str) -> LwaError:
    return LwaError(
        400, "invalid_grant", f"The request has an invalid grant parameter : {parameter}"
    )
