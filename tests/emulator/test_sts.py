"""The emulated STS AssumeRole."""

from __future__ import annotations

from xml.etree import ElementTree

import aiohttp
import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from spproxy.emulator.app import make_emulator_app
from spproxy.emulator.state import STATE_KEY, EmulatorConfig, EmulatorState
from spproxy.emulator.sts import NAMESPACE, assume_role
from spproxy.signing import AwsCredentials, SigV4Signer, StaticCredentials

AKID, SECRET = "AKIDSTSTEST", "sts-test-secret"
NS = {"sts": NAMESPACE}
ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/SellingPartnerAPI"
FORM = {
    "Action": "AssumeRole",
    "Version": "2011-06-15",
    "RoleArn": ROLE_ARN,
    "RoleSessionName": "spproxy",
}


def sts_app() -> web.Application:
    app = web.Application()
    app[STATE_KEY] = EmulatorState(EmulatorConfig(aws_keys={AKID: SECRET}))
    app.router.add_post("/", assume_role)
    return app


async def call(
    app: web.Application,
    aiohttp_server: AiohttpServer,
    form: dict[str, str],
    *,
    credentials: AwsCredentials | None = AwsCredentials(AKID, SECRET),  # noqa: B008
    service: str = "sts",
) -> tuple[int, ElementTree.Element]:
    server = await aiohttp_server(app)
    middlewares: tuple[SigV4Signer, ...] = ()
    if credentials is not None:
        signer = SigV4Signer(StaticCredentials(credentials), region="us-east-1", service=service)
        middlewares = (signer,)
    async with (
        aiohttp.ClientSession(middlewares=middlewares) as session,
        session.post(server.make_url("/"), data=form) as response,
    ):
        assert response.content_type == "text/xml"
        return response.status, ElementTree.fromstring(await response.text())  # noqa: S314


def error_code(root: ElementTree.Element) -> str | None:
    assert root.tag == f"{{{NAMESPACE}}}ErrorResponse"
    return root.findtext("sts:Error/sts:Code", namespaces=NS)


async def test_assume_role_answers_sts_xml(aiohttp_server: AiohttpServer) -> None:
    app = sts_app()
    status, root = await call(app, aiohttp_server, {**FORM, "DurationSeconds": "900"})
    assert status == 200
    assert root.tag == f"{{{NAMESPACE}}}AssumeRoleResponse"
    creds = root.find("sts:AssumeRoleResult/sts:Credentials", NS)
    assert creds is not None
    akid = creds.findtext("sts:AccessKeyId", namespaces=NS)
    assert akid is not None
    assert akid.startswith("ASIA")
    expiration = creds.findtext("sts:Expiration", namespaces=NS)
    assert expiration is not None
    assert expiration.endswith("Z")
    state = app[STATE_KEY]
    issued = state.temporary_credentials[akid]
    assert issued.session_token == creds.findtext("sts:SessionToken", namespaces=NS)
    assert issued.secret_access_key == creds.findtext("sts:SecretAccessKey", namespaces=NS)
    assert root.findtext("sts:AssumeRoleResult/sts:AssumedRoleUser/sts:Arn", namespaces=NS) == (
        "arn:aws:sts::123456789012:assumed-role/SellingPartnerAPI/spproxy"
    )
    assert root.findtext("sts:ResponseMetadata/sts:RequestId", namespaces=NS)
    assert state.sts_calls == 1


async def test_temporary_credentials_can_assume_a_role_again(
    aiohttp_server: AiohttpServer,
) -> None:
    app = sts_app()
    state = app[STATE_KEY]
    temporary = state.issue_temporary_credentials(900)
    credentials = AwsCredentials(
        temporary.access_key_id, temporary.secret_access_key, temporary.session_token
    )
    status, _ = await call(app, aiohttp_server, FORM, credentials=credentials)
    assert status == 200


@pytest.mark.parametrize(
    ("credentials", "service", "code"),
    [
        (None, "sts", "MissingAuthenticationToken"),
        (AwsCredentials(AKID, "wrong"), "sts", "SignatureDoesNotMatch"),
        (AwsCredentials("AKIDUNKNOWN", SECRET), "sts", "SignatureDoesNotMatch"),
        (AwsCredentials(AKID, SECRET), "execute-api", "SignatureDoesNotMatch"),
    ],
)
async def test_unsigned_or_badly_signed_is_403(
    aiohttp_server: AiohttpServer, credentials: AwsCredentials | None, service: str, code: str
) -> None:
    app = sts_app()
    status, root = await call(app, aiohttp_server, FORM, credentials=credentials, service=service)
    assert (status, error_code(root)) == (403, code)
    assert app[STATE_KEY].sts_calls == 0


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"Action": "GetCallerIdentity"}, "InvalidAction"),
        ({"RoleArn": "arn:aws:iam::123:role/x"}, "ValidationError"),
        ({"RoleArn": "arn:aws:iam::123456789012:user/x"}, "ValidationError"),
        ({"RoleSessionName": "x"}, "ValidationError"),
        ({"DurationSeconds": "899"}, "ValidationError"),
        ({"DurationSeconds": "43201"}, "ValidationError"),
        ({"DurationSeconds": "soon"}, "ValidationError"),
    ],
)
async def test_bad_parameters_are_400(
    aiohttp_server: AiohttpServer, change: dict[str, str], code: str
) -> None:
    status, root = await call(sts_app(), aiohttp_server, {**FORM, **change})
    assert (status, error_code(root)) == (400, code)


async def test_sts_is_served_by_the_emulator_app(aiohttp_server: AiohttpServer) -> None:
    app = make_emulator_app(EmulatorConfig(aws_keys={AKID: SECRET}))
    status, _ = await call(app, aiohttp_server, FORM)
    assert status == 200
    assert app[STATE_KEY].sts_calls == 1
