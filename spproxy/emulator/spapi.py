"""The emulated SP-API's request pipeline, one server middleware in front of every operation.

For each request that is not for LWA or STS, in order: read the body (one over the size limit is
refused with 413 and not recorded); verify the SigV4 signature when the config has AWS keys;
record the request in `EmulatorState.requests` (refused ones too); answer 404 for paths that are
no operation; check the access token against what the operation needs (access.py) and leave what
it grants on the request; let the operation answer and add its `x-amzn-RateLimit-Limit`. Every
refusal has SP-API's error shape.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from spproxy.emulator.access import ACCESS_KEY, check_token_fits, token_refusal
from spproxy.emulator.errors import SpapiError, not_found
from spproxy.emulator.operations import Operation
from spproxy.emulator.sigv4 import SignatureCheck, verify_request
from spproxy.emulator.state import STATE_KEY, EmulatorState, ReceivedRequest

ACCESS_TOKEN_HEADER = "x-amz-access-token"  # noqa: S105 - a header name

_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


def spapi_middleware(operation_routes: Mapping[web.AbstractRoute, Operation]) -> Middleware:
    @web.middleware
    async def serve_spapi(request: web.Request, handler: Handler) -> web.StreamResponse:
        match = request.match_info
        operation = operation_routes.get(match.route)
        if operation is None and match.http_exception is None:
            return await handler(request)  # a route of its own: LWA's token endpoint or STS
        try:
            return await _answer(request, handler, operation)
        except SpapiError as refusal:
            return refusal.response()

    return serve_spapi


async def _answer(
    request: web.Request, handler: Handler, operation: Operation | None
) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    body = await _read_body(request)
    raw_path, _, query_string = request.raw_path.partition("?")
    signature = _check_signature(state, request, body)
    token = request.headers.get(ACCESS_TOKEN_HEADER, "")
    issued = state.valid_token(token)
    state.requests.append(
        ReceivedRequest(
            method=request.method,
            raw_path=raw_path,
            query_string=query_string,
            headers=request.headers,
            body=body,
            token_kind=None if issued is None else issued.kind,
            signature=signature.outcome,
        )
    )
    if state.config.aws_keys is not None and signature.outcome != "valid":
        reason = signature.reason or "The request carries no SigV4 signature."
        raise SpapiError(403, "InvalidSignature", _SIGNATURE_MISMATCH, reason)
    if issued is None:
        raise token_refusal(state, token)
    if operation is None:
        raise not_found("Resource not found.", f"No operation serves {request.method} {raw_path}.")
    request[ACCESS_KEY] = check_token_fits(issued, operation, request.method, raw_path)
    response = await handler(request)
    if operation.rate_limit_header is not None and response.status < 300:
        response.headers["x-amzn-RateLimit-Limit"] = operation.rate_limit_header
    return response


async def _read_body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge as too_large:
        raise SpapiError(
            413,
            "RequestEntityTooLarge",
            "The request body is too large.",
            f"At most {request.client_max_size} bytes are accepted.",
        ) from too_large


def _check_signature(state: EmulatorState, request: web.Request, body: bytes) -> SignatureCheck:
    if state.config.aws_keys is None:
        # SP-API ignores signatures since 2023-10-02; so does the emulator unless configured.
        return SignatureCheck("absent")
    return verify_request(request, body, state.credentials_for)
