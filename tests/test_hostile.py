"""A hostile client on the same host, against a real `spproxy serve` over real sockets.

Each test sends what a local attacker could (headers, path bytes, bodies, stalls, vanishing
connections) and asserts what the client saw, what reached the emulated Amazon, and what spproxy
logged. The boundaries: need-to-know (client grants), the reserved prefix, the log, bounded
waits and retries, and malformed answers from Amazon.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from spproxy.emulator import (
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    make_emulator_app,
)
from tests.harness import Served, free_port, parse_metrics, raw_request, serve, serve_yaml

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]

ANALYTICS_KEY = "analytics-team-key-0123456789"
SHIPPING_KEY = "shipping-team-key-0123456789"
DELEGATOR_KEY = "delegator-team-key-0123456789"
ORDER = "902-1845936-5435065"
ADDRESS = f"/orders/v0/orders/{ORDER}/address"
TOKENS = "/tokens/2021-03-01/restrictedDataToken"
RESTRICTED_REPORT = "50040018869"  # GET_ORDER_REPORT_DATA_SHIPPING, in the emulator's fixtures
RESTRICTED_DOCUMENT = "amzn1.spdoc.1.4.na.3f9d2a77-0c4e-4f51-8b7e-6a2c9e1d4b22"
OTHER_RESTRICTED_DOCUMENT = "amzn1.spdoc.1.4.na.7b1e0c52-4b8e-4d6a-9a53-2f6d1c0e8a11"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [A-Z]+ \S+ ")


def clients_yaml(analytics_key: str = ANALYTICS_KEY, *, shipping: bool = True) -> str:
    shipping_client = (
        f"""
  shipping:
    key: {SHIPPING_KEY}
    pii: true
    data_elements: [shippingAddress]
    operations: ["getOrder*", createRestrictedDataToken]"""
        * shipping
    )
    return f"""
clients:
  analytics:
    key: {analytics_key}{shipping_client}
  delegator:
    key: {DELEGATOR_KEY}
    pii: true
"""


async def emulator(aiohttp_server: ServerFactory, **options: object) -> tuple[str, EmulatorState]:
    server = await aiohttp_server(make_emulator_app(EmulatorConfig(**options)))  # type: ignore[arg-type]
    return str(server.make_url("")).rstrip("/"), server.app[STATE_KEY]


def tokens_body(*resources: Mapping[str, object], **extra: object) -> dict[str, object]:
    return {"restrictedResources": list(resources), **extra}


def error_of(body: dict[str, list[dict[str, str]]]) -> str:
    return body["errors"][0]["message"]


# --- need-to-know ----------------------------------------------------------------------------


@dataclass
class Teams:
    """A real spproxy with three clients in front of the emulator, and a session to it."""

    proxy: Served
    amazon: EmulatorState
    session: aiohttp.ClientSession
    url: str


@pytest.fixture
async def teams(aiohttp_server: ServerFactory, tmp_path: Path) -> AsyncIterator[Teams]:
    url, amazon = await emulator(aiohttp_server)
    async with (
        serve(tmp_path, lambda port: serve_yaml(url, port, extra=clients_yaml())) as proxy,
        aiohttp.ClientSession(proxy.base) as session,
    ):
        yield Teams(proxy, amazon, session, url)
    for key in (ANALYTICS_KEY, SHIPPING_KEY, DELEGATOR_KEY):
        assert key not in proxy.log


ANALYTICS = {"x-spproxy-key": ANALYTICS_KEY}
SHIPPING = {"x-spproxy-key": SHIPPING_KEY}
ADDRESS_RESOURCE = {"method": "GET", "path": "/orders/v0/orders/{orderId}/address"}


async def test_the_tokens_api_mints_only_within_a_clients_grants(teams: Teams) -> None:
    session, amazon = teams.session, teams.amazon
    # A client without PII gets no RDT from the Tokens API, for any body.
    body = tokens_body(ADDRESS_RESOURCE)
    async with session.post(TOKENS, json=body, headers=ANALYTICS) as refused:
        assert refused.status == 403 and refused.headers["x-spproxy-origin"] == "proxy"
        assert "createRestrictedDataToken" in error_of(await refused.json())
    # A client limited to shippingAddress may mint for what it may call, nothing more.
    beyond: list[Mapping[str, object]] = [
        {"method": "GET", "path": "/orders/v0/orders/{orderId}/buyerInfo"},
        {"method": "GET", "path": "/orders/v0/orders/{orderId}", "dataElements": ["buyerInfo"]},
        {"method": "GET", "path": "/mfn/v0/shipments/{shipmentId}"},  # not in its globs
        {"method": "GET", "path": "/sellers/v1/marketplaceParticipations"},  # not restricted
        {"method": "GET", "path": "/orders/v0/orders/%2E%2E/x"},
    ]
    for resource in beyond:
        body = tokens_body(ADDRESS_RESOURCE, resource)
        async with session.post(TOKENS, json=body, headers=SHIPPING) as refused:
            assert refused.status in (400, 403), resource
    async with session.post(TOKENS, data=b"{not json", headers=SHIPPING) as garbage:
        assert garbage.status == 400
    assert amazon.rdt_mints == []
    async with session.post(TOKENS, json=tokens_body(ADDRESS_RESOURCE), headers=SHIPPING) as ok:
        assert ok.status == 200
    delegated = tokens_body(ADDRESS_RESOURCE, targetApplication="amzn1.sp.solution.delegatee")
    delegator = {"x-spproxy-key": DELEGATOR_KEY}
    async with session.post(TOKENS, json=delegated, headers=delegator) as ok:
        assert ok.status == 200
    assert [mint.target_application for mint in amazon.rdt_mints] == [
        None,
        "amzn1.sp.solution.delegatee",
    ]


async def test_an_rdt_a_client_minted_identifies_it_and_is_replaced(teams: Teams) -> None:
    session, amazon = teams.session, teams.amazon
    async with session.post(TOKENS, json=tokens_body(ADDRESS_RESOURCE), headers=SHIPPING) as ok:
        client_rdt = (await ok.json())["restrictedDataToken"]
    # An SDK that minted its own RDT sends it instead of a key: it stands for the client that
    # minted it; spproxy still sends its own credential, and counts the wasted mint.
    async with session.get(ADDRESS, headers={"x-amz-access-token": client_rdt}) as answer:
        assert answer.status == 200 and "410 Terry Ave N" in await answer.text()
        assert answer.headers["x-spproxy-credential"] == "rdt-minted"
    assert amazon.requests[-1].headers["x-amz-access-token"] != client_rdt
    async with session.get("/_spproxy/metrics") as metrics:
        samples = parse_metrics(await metrics.text())
    assert samples[("spproxy_client_rdts_replaced_total", ())] == 1
    # An RDT spproxy did not hand out stands for nobody.
    forged = {"x-amz-access-token": client_rdt + "x"}
    async with session.get(ADDRESS, headers=forged) as answer:
        assert answer.status == 401


async def test_restricted_report_documents_are_refused_before_amazon_is_asked(
    teams: Teams,
) -> None:
    session, amazon = teams.session, teams.amazon
    # Refused to a client without PII before Amazon's getReportDocument quota (0.0167/s) is
    # spent, whether the type was hinted or learned from getReport.
    hinted = {**ANALYTICS, "x-spproxy-report-type": "GET_ORDER_REPORT_DATA_SHIPPING"}
    document = f"/reports/2021-06-30/documents/{OTHER_RESTRICTED_DOCUMENT}"
    async with session.get(document, headers=hinted) as refused:
        assert refused.status == 403
    report = f"/reports/2021-06-30/reports/{RESTRICTED_REPORT}"
    async with session.get(report, headers=ANALYTICS) as answer:
        assert (await answer.json())["reportDocumentId"] == RESTRICTED_DOCUMENT
    document = f"/reports/2021-06-30/documents/{RESTRICTED_DOCUMENT}"
    async with session.get(document, headers=ANALYTICS) as refused:
        assert refused.status == 403
        assert "restricted report type" in error_of(await refused.json())
    assert [r.operation for r in amazon.requests] == ["getReport"]


async def test_a_key_or_token_that_is_not_utf8_is_a_401(teams: Teams) -> None:
    for header in (
        b"x-spproxy-key: \xff\xfe\xc3(",
        b"x-amz-access-token: spproxy-placeholder.\xff\xfe\xc3(",
        b"x-amz-access-token: Atz.sprdt|\xed\xa0\x80",  # an encoded surrogate
    ):
        raw = await raw_request(
            teams.proxy.port,
            b"GET /sellers/v1/marketplaceParticipations HTTP/1.1\r\nHost: x\r\n"
            + header
            + b"\r\nConnection: close\r\n\r\n",
        )
        assert raw.startswith(b"HTTP/1.1 401 "), header
        assert b'"code": "Unauthorized"' in raw


async def test_rotating_or_removing_a_key_revokes_what_was_issued_under_it(teams: Teams) -> None:
    session, proxy = teams.session, teams.proxy
    form = {"grant_type": "refresh_token", "refresh_token": ANALYTICS_KEY}
    async with session.post("/auth/o2/token", data=form) as exchanged:
        placeholder = (await exchanged.json())["access_token"]
    async with session.post(TOKENS, json=tokens_body(ADDRESS_RESOURCE), headers=SHIPPING) as ok:
        client_rdt = (await ok.json())["restrictedDataToken"]
    participations = "/sellers/v1/marketplaceParticipations"
    for token in (placeholder, client_rdt):
        async with session.get(participations, headers={"x-amz-access-token": token}) as answer:
            assert answer.status in (200, 403)  # shipping may not call it: 403, yet known
    rotated = clients_yaml("rotated-analytics-key-987654321", shipping=False)
    proxy.config.write_text(serve_yaml(teams.url, proxy.port, extra=rotated))
    async with session.post("/_spproxy/reload") as reloaded:
        assert reloaded.status == 200
    for headers in ({"x-amz-access-token": placeholder}, {"x-amz-access-token": client_rdt}):
        async with session.get(participations, headers=headers) as answer:
            assert answer.status == 401, headers
    async with session.get(participations, headers=ANALYTICS) as answer:
        assert answer.status == 401


# --- the log and the reserved prefix ---------------------------------------------------------


async def test_no_client_byte_forges_a_log_line(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    url, _ = await emulator(aiohttp_server)
    async with serve(tmp_path, lambda port: serve_yaml(url, port)) as proxy:
        for raw_target in (
            b"/x%0d%0a2099-01-01T00:00:00.000Z%20INFO%20spproxy.access%20FORGED",
            b"/x%1b[2J%1b[31mred%0a",
            b"/a\xe2\x80\xa8b\xc2\x85c/%zz",  # raw U+2028 and NEL, then a bad escape
        ):
            request = b"GET " + raw_target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            raw = await raw_request(proxy.port, request)
            assert re.match(rb"HTTP/1\.[01] 400 ", raw), raw
    log = proxy.log
    assert all(LOG_LINE.match(line) for line in log.splitlines()), log
    assert not any(character in log for character in "\u2028\x85\x1b")
    assert log.count("status=400") == 3


async def test_reserved_paths_and_dot_segments_stay_local_and_urls_hide_passwords(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    url, amazon = await emulator(aiohttp_server)
    unreachable = f"http://user:hunter2-endpoint-password@127.0.0.1:{free_port()}"
    gone = (
        f'  gone: {{refresh_token: "{DEMO_REFRESH_TOKEN}", region: na, endpoint: "{unreachable}"}}'
    )
    upstream = "  retries: 0"
    async with (
        serve(
            tmp_path, lambda port: serve_yaml(url, port, accounts=gone, upstream=upstream)
        ) as proxy,
        aiohttp.ClientSession(proxy.base) as session,
    ):
        for target, expected in (
            ("/_spproxy%2Fstatus", 404),
            ("//_spproxy/status", 404),
            ("/_SPPROXY/status", 404),
            ("/%5Fspproxy/secrets", 404),
            ("/_Spproxy", 404),
            ("/%5Fspproxy/health", 200),  # aiohttp's router decodes it: the endpoint itself
        ):
            async with session.get(URL(proxy.base + target, encoded=True)) as answer:
                assert answer.status == expected, target
                if expected == 404:
                    assert answer.headers["x-spproxy-origin"] == "proxy"
                    assert (await answer.json())["errors"][0]["code"] == "NotFound"
        walked = "/orders/v0/orders/..%2F..%2Ffinances/v0/financialEvents"
        async with session.get(URL(proxy.base + walked, encoded=True)) as answer:
            assert answer.status == 400
        sku = "/listings/2021-08-01/items/A2SPPROXYDEMO1/AB%2FCD"
        query = "?marketplaceIds=ATVPDKIKX0DER"
        async with session.get(URL(proxy.base + sku + query, encoded=True)):
            pass
        gone_account = {"x-spproxy-account": "gone"}
        async with session.get(
            "/sellers/v1/marketplaceParticipations", headers=gone_account
        ) as answer:
            assert answer.status == 502
            assert "hunter2" not in await answer.text()
        async with session.get("/_spproxy/status") as status:
            text = await status.text()
            assert "hunter2" not in text and "***@127.0.0.1" in text
    assert [r.raw_path for r in amazon.requests] == [sku]
    assert "hunter2" not in proxy.log
    access = [line for line in proxy.log.splitlines() if " spproxy.access " in line]
    assert len([line for line in access if "status=404" in line]) == 5  # reserved: logged


async def test_requests_aiohttp_refuses_get_sp_api_errors_that_echo_nothing(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    url, amazon = await emulator(aiohttp_server)
    secret = "buyer-name-in-a-query-value"
    async with serve(tmp_path, lambda port: serve_yaml(url, port)) as proxy:
        for request in (
            f"GET /orders?q={secret} HTTP/1.1\r\nX-Big: {'a' * 9000}\r\n\r\n".encode(),
            f"GET /orders?q={secret} HTTP/1.1 extra\r\nHost: x\r\n\r\n".encode(),
            f"G\x01T /orders?q={secret} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
            f"GET /orders?q={secret} HTTP/1.1\r\n".encode()
            + b"".join(b"X-H%d: v\r\n" % n for n in range(200))
            + b"\r\n",
        ):
            answer = await raw_request(proxy.port, request)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert re.match(rb"HTTP/1\.[01] 400 ", head), answer
            assert b"x-spproxy-origin: proxy" in head.lower()
            assert json.loads(body)["errors"][0]["code"] == "InvalidInput"
            assert secret.encode() not in answer
    assert amazon.requests == []
    assert secret not in proxy.log
    assert proxy.log.count("status=400") == 4


# --- slow and vanishing clients --------------------------------------------------------------


async def test_stalled_and_vanishing_clients(aiohttp_server: ServerFactory, tmp_path: Path) -> None:
    url, amazon = await emulator(aiohttp_server)
    listen = "  header_timeout_s: 0.5\n  body_timeout_s: 0.5"
    async with serve(tmp_path, lambda port: serve_yaml(url, port, listen=listen)) as proxy:
        stalled_body = (
            b"POST /feeds/2021-06-30/documents HTTP/1.1\r\nHost: x\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"contentType"'
        )
        stalled_headers = b"GET /sellers/v1/marketplaceParticipations HTTP/1.1\r\nHost: x\r\n"
        answers = await asyncio.gather(
            *(raw_request(proxy.port, stalled_body) for _ in range(50)),
            raw_request(proxy.port, stalled_headers),
        )
        for answer in answers:  # each: 408, then the connection closed (the read saw EOF)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408 "), answer
            assert json.loads(body)["errors"][0]["code"] == "RequestTimeout"

        # A client that goes away mid-body, and one that goes away while Amazon is slow.
        _, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(stalled_body)
        await writer.drain()
        writer.transport.abort()
        hold = amazon.faults.hold(path="/sellers/v1/marketplaceParticipations")
        _, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(stalled_headers + b"\r\n")
        await writer.drain()
        async with asyncio.timeout(20):
            await hold.arrived()
        writer.transport.abort()
        async with aiohttp.ClientSession(proxy.base) as session:
            async with asyncio.timeout(20):  # until both are counted (another process: polled)
                while len(await _answered(session, "499")) < 2:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            hold.release()
            client_gone = await _answered(session, "499")
            failed = await _answered(session, "500")
    assert client_gone == [("client", 1), ("client", 1)] and failed == []
    assert amazon.rdt_mints == []
    log = proxy.log
    assert " ERROR " not in log and "internal error" not in log
    assert log.count("status=499") == 2
    assert log.count("status=408") == 51


async def _answered(session: aiohttp.ClientSession, status: str) -> list[tuple[str, float]]:
    """The spproxy_requests_total series with this status: (origin, value) of each."""
    async with session.get("/_spproxy/metrics") as metrics:
        samples = parse_metrics(await metrics.text())
    return [
        (fields["origin"], value)
        for (name, labels), value in samples.items()
        if name == "spproxy_requests_total" and (fields := dict(labels))["status"] == status
    ]


# --- what Amazon sends back ------------------------------------------------------------------


async def test_aiohttp_does_not_add_attempts_to_upstream_retries(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    url, amazon = await emulator(aiohttp_server)
    upstream = "  retries: 3\n  backoff_s: 0.001"
    path = "/sellers/v1/marketplaceParticipations"
    async with (
        serve(tmp_path, lambda port: serve_yaml(url, port, upstream=upstream)) as proxy,
        aiohttp.ClientSession(proxy.base) as session,
    ):
        # Eight keep-alive connections from spproxy to Amazon, open and idle.
        hold = amazon.faults.hold(times=8, path=path)
        calls = [asyncio.create_task(session.get(path)) for _ in range(8)]
        async with asyncio.timeout(20):
            await hold.arrived(8)
        hold.release()
        for call in calls:
            (await call).release()
        # Now Amazon drops every call on whatever connection it arrives.
        amazon.faults.drop(times=None, path=path)
        seen = len(amazon.requests)
        async with session.get(path) as answer:
            assert answer.status == 502
    assert len(amazon.requests) - seen == 4  # the first attempt and upstream.retries (3)


@pytest.fixture
def lwa_stub() -> dict[str, object]:
    """What the stub LWA / Tokens API answers: mutable by the test."""
    return {
        "lwa": {"access_token": "Atza|stub", "token_type": "bearer", "expires_in": 3600},
        "tokens": {"restrictedDataToken": "Atz.sprdt|stub", "expiresIn": 3600},
    }


async def test_malformed_answers_from_amazon_are_502s_naming_what_was_wrong(
    aiohttp_server: ServerFactory, tmp_path: Path, lwa_stub: dict[str, object]
) -> None:
    def stubbed(kind: str) -> web.Response:
        body = lwa_stub[kind]
        if isinstance(body, bytes):
            return web.Response(body=body, content_type="text/html")
        return web.json_response(body)

    async def lwa(request: web.Request) -> web.Response:
        return stubbed("lwa")

    async def tokens(request: web.Request) -> web.Response:
        return stubbed("tokens")

    async def anything(request: web.Request) -> web.Response:
        return web.json_response({"payload": {}})

    app = web.Application()
    app.router.add_post("/auth/o2/token", lwa)
    app.router.add_post(TOKENS, tokens)
    app.router.add_route("*", "/{path:.*}", anything)
    stub = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    lwa_stub["lwa"] = {"access_token": "Atza|stub", "token_type": "bearer"}  # no expires_in
    async with (
        serve(tmp_path, lambda port: serve_yaml(stub, port)) as proxy,
        aiohttp.ClientSession(proxy.base) as session,
    ):
        async with session.get("/sellers/v1/marketplaceParticipations") as answer:
            assert answer.status == 502 and answer.headers["x-spproxy-origin"] == "proxy"
            error = (await answer.json())["errors"][0]
            assert error["code"] == "TokenExchangeFailed"
            assert "without a numeric expires_in" in error["message"]
        async with session.get("/_spproxy/ready") as ready:
            assert ready.status == 503
            assert "numeric expires_in" in await ready.text()
        lwa_stub["lwa"] = b"<html>busy</html>"
        async with session.get("/sellers/v1/marketplaceParticipations") as answer:
            assert answer.status == 502
            assert "answered no JSON" in (await answer.json())["errors"][0]["message"]
        lwa_stub["lwa"] = {"access_token": "Atza|stub", "expires_in": 3600}
        for answer_body, missing in (
            ({"restrictedDataToken": "Atz.sprdt|stub", "expiresIn": "soon"}, "numeric expiresIn"),
            ({"restrictedDataToken": "Atz.sprdt|stub"}, "numeric expiresIn"),
            ({"expiresIn": 3600}, "a restrictedDataToken"),
            (b"<html>", "a JSON object"),
        ):
            lwa_stub["tokens"] = answer_body
            async with session.get(ADDRESS) as answer:
                assert answer.status == 502
                error = (await answer.json())["errors"][0]
                assert error["code"] == "TokensApiUnavailable" and missing in error["message"]
        async with session.get("/_spproxy/ready") as ready:
            assert ready.status == 200
    assert " ERROR " not in proxy.log and DEMO_CLIENT_SECRET not in proxy.log
