"""Emulated STS AssumeRole (Query API, `POST /`, form body, SigV4 service "sts").

Answers in STS's XML: AssumeRoleResponse on success, ErrorResponse with STS's error codes
(https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html). Keys it accepts
are `EmulatorConfig.aws_keys`; the credentials it issues are valid for the emulated SP-API.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from aiohttp import web

from spproxy.emulator.sigv4 import verify_request
from spproxy.emulator.state import STATE_KEY

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})")
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
MIN_DURATION_S, MAX_DURATION_S = 900, 43200


async def assume_role(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await request.read()
    check = verify_request(request, body, state.credentials_for, service="sts")
    if check.outcome == "absent":
        return _error(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
    if check.outcome == "invalid":
        return _error(403, "SignatureDoesNotMatch", check.reason)

    try:
        form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        return _error(400, "MalformedInput", "The request body is not UTF-8 form data")
    if form.get("Action") != "AssumeRole":
        return _error(400, "InvalidAction", f"Could not find operation {form.get('Action')}")
    role = _ROLE_ARN.fullmatch(form.get("RoleArn", ""))
    if role is None:
        return _error(400, "ValidationError", "RoleArn is not arn:aws:iam::<account>:role/<name>")
    session_name = form.get("RoleSessionName", "")
    if not _SESSION_NAME.fullmatch(session_name):
        return _error(400, "ValidationError", r"RoleSessionName must match [\w+=,.@-]{2,64}")
    try:
        duration_s = int(form.get("DurationSeconds", "3600"))
    except ValueError:
        duration_s = 0
    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        return _error(400, "ValidationError", "DurationSeconds must be between 900 and 43200")

    credentials = state.issue_temporary_credentials(duration_s)
    state.sts_calls += 1
    account, role_name = role.groups()
    expiration = datetime.fromtimestamp(credentials.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    role_id = "AROA" + secrets.token_hex(8).upper()
    xml = f"""<AssumeRoleResponse xmlns="{NAMESPACE}">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::{account}:assumed-role/{escape(role_name)}/{escape(session_name)}</Arn>
      <AssumedRoleId>{role_id}:{escape(session_name)}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{escape(credentials.access_key_id)}</AccessKeyId>
      <SecretAccessKey>{escape(credentials.secret_access_key)}</SecretAccessKey>
      <SessionToken>{escape(credentials.session_token)}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>{uuid.uuid4()}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
"""
    return web.Response(text=xml, content_type="text/xml")


def _error(status: int, code: str, message: str) -> web.Response:
    kind = "Sender" if status < 500 else "Receiver"
    xml = f"""<ErrorResponse xmlns="{NAMESPACE}">
  <Error>
    <Type>{kind}</Type>
    <Code>{code}</Code>
    <Message>{escape(message)}</Message>
  </Error>
  <RequestId>{uuid.uuid4()}</RequestId>
</ErrorResponse>
"""
    return web.Response(status=status, text=xml, content_type="text/xml")
