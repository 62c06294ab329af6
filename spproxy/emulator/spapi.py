"""The emulated SP-API's request pipeline, one server middleware in front of every operation.

For each request that is not for LWA, STS or `/_emulator/stats`, in order:
1. read the body (one over the size limit is refused with 413 and not recorded);
2. record the request in `EmulatorState.requests` (refused ones too; the answer's status is
   filled in when it is sent, app.py);
3. injected faults (faults.py): an injected failure is answered, a dropped call gets its
   connection closed, a held or delayed call waits here and then goes on;
4. verify the SigV4 signature when the config has AWS keys;
5. refuse missing, unknown or expired access tokens; answer 404 for paths that are no operation;
   check the token against what the operation needs (access.py) and leave what it grants on the
   request; in the static sandbox mode, any live token will do (sandbox.py);
6. with `EmulatorConfig.rate_limits`, take a token from the caller's bucket for the operation
   (limits.py; the sandbox's plan in the static sandbox mode), else 429 QuotaExceeded;
7. answer: the operation's handler or Amazon's published sandbox example the request matches, in
   the order sandbox.py describes, and add its `x-amzn-RateLimit-Limit` to a successful answer.
Every refusal has SP-API's error shape.

LWA's token endpoint and STS are routes of their own: only faults given a `path` reach them.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from spproxy.emulator.access import ACCESS_KEY, Access, check_token_fits, token_refusal
from spproxy.emulator.apis.emulator_helpers import STATS_PATH
from spproxy.emulator.errors import SpapiError, not_found
from spproxy.emulator.faults import LWA_PATH
from spproxy.emulator.limits import RATE_LIMIT_HEADER, UsagePlan, plan_for, quota_exceeded
from spproxy.emulator.operations import Operation, OperationRoutes
from spproxy.emulator.sandbox import is_static_sandbox, respond
from spproxy.emulator.sigv4 import SignatureCheck, verify_request
from spproxy.emulator.state import RECORD_KEY, STATE_KEY, EmulatorState, ReceivedRequest

ACCESS_TOKEN_HEADER = "x-amz-access-token"  # noqa: S105 - a header name

_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


def spapi_middleware(operations: OperationRoutes) -> Middleware:
    @web.middleware
    async def serve_spapi(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not operations.is_operation_path(request.match_info):
            return await _own_route(request, handler)
        try:
            return await _answer(request, operations.find(request))
        except SpapiError as refusal:
            return refusal.response()

    return serve_spapi


async def _own_route(request: web.Request, handler: Handler) -> web.StreamResponse:
    """LWA's token endpoint or STS (faults given their path apply), or the emulator's stats."""
    raw_path = request.raw_path.partition("?")[0]
    if request.path != STATS_PATH:
        fault = request.app[STATE_KEY].faults.take(raw_path, spapi=False)
        if fault is not None:
            answer = await fault.act(request, lwa=raw_path == LWA_PATH, rate_limit_header=None)
            if answer is not None:
                return answer
    return await handler(request)


async def _answer(request: web.Request, operation: Operation | None) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    body = await _read_body(request)
    raw_path, _, query_string = request.raw_path.partition("?")
    signature = _check_signature(state, request, body)
    token = request.headers.get(ACCESS_TOKEN_HEADER, "")
    issued = state.valid_token(token)
    record = ReceivedRequest(
        method=request.method,
        raw_path=raw_path,
        query_string=query_string,
        headers=request.headers,
        body=body,
        token_kind=None if issued is None else issued.kind,
        signature=signature.outcome,
        operation=None if operation is None else operation.name,
    )
    state.requests.append(record)
    state.requests_received += 1
    request[RECORD_KEY] = record
    plan = (
        None
        if operation is None
        else plan_for(operation, state.config.usage_plans, sandbox=state.config.static_sandbox)
    )
    rate_limit_header = _rate_limit_header(operation, plan)
    fault = state.faults.take(raw_path, spapi=True)
    if fault is not None:
        record.fault = fault.kind
        answer = await fault.act(request, lwa=False, rate_limit_header=rate_limit_header)
        if answer is not None:
            return answer
        issued = state.valid_token(token)  # a held call is checked as it is when it goes on
    if state.config.aws_keys is not None and signature.outcome != "valid":
        reason = signature.reason or "The request carries no SigV4 signature."
        raise SpapiError(403, "InvalidSignature", _SIGNATURE_MISMATCH, reason)
    if issued is None:
        raise token_refusal(state, token)
    if operation is None:
        raise not_found("Resource not found.", f"No operation serves {request.method} {raw_path}.")
    if is_static_sandbox(request, operation):
        # Amazon's static sandbox matches requests, not token kinds: an LWA token gets
        # getOrderAddress's example, as a grantless token or an RDT would (sandbox.py).
        access = Access(issued.kind, selling_partner_id=issued.selling_partner_id)
    else:
        access = check_token_fits(issued, operation, request.method, raw_path)
    request[ACCESS_KEY] = access
    if state.config.rate_limits and plan is not None:
        _take_quota(state, access, operation, plan)
    response = await respond(request, operation, body)
    if rate_limit_header is not None and response.status < 300:
        response.headers[RATE_LIMIT_HEADER] = rate_limit_header
    return response


def _rate_limit_header(operation: Operation | None, plan: UsagePlan | None) -> str | None:
    if plan is not None:
        return plan.header
    return None if operation is None else operation.rate_limit_header


def _take_quota(
    state: EmulatorState, access: Access, operation: Operation, plan: UsagePlan
) -> None:
    """One token from the bucket of the caller (selling partner, or the app) for the operation."""
    caller = access.selling_partner_id or f"app:{state.config.client_id}"
    if not state.limiter.take((caller, operation.method, operation.path), plan):
        state.quota_refusals += 1
        state.quota_refusals_by_operation[operation.name] += 1
        raise quota_exceeded(plan)


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
