"""Networks users have: an outbound forward proxy for every call to Amazon, Amazon over https
(directly or through the proxy's tunnel), and a TLS listener (mutual TLS optional), each with
real components on loopback (proxy.py, trustme certificates)."""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer

from spproxy.emulator import STATE_KEY, make_emulator_app
from tests.forward_proxy import forward_proxy
from tests.harness import free_port, serve, serve_yaml

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
ADDRESS = "/orders/v0/orders/902-1845936-5435065/address"
TOKENS = "/tokens/2021-03-01/restrictedDataToken"


@pytest.fixture(name="forward_proxy")
async def forward_proxy_fixture(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    log = tmp_path / "proxy.log"
    async with forward_proxy(log) as url:
        yield url, log


async def test_lwa_tokens_and_sp_api_go_through_the_configured_proxy(
    aiohttp_server: ServerFactory, tmp_path: Path, forward_proxy: tuple[str, Path]
) -> None:
    proxy_url, proxy_log = forward_proxy
    server = await aiohttp_server(make_emulator_app())
    url = str(server.make_url("")).rstrip("/")
    upstream = f"  proxy: {proxy_url}"

    def config(port: int) -> str:
        # LWA by another name than SP-API, so that each gets a connection (and a Via) of its own
        lwa = url.replace("127.0.0.1", "localhost")
        return serve_yaml(url, port, upstream=upstream).replace(f"{url}/auth", f"{lwa}/auth")

    async with (
        serve(tmp_path, config) as spproxy,
        aiohttp.ClientSession(spproxy.base) as session,
    ):
        async with session.get(ADDRESS) as answer:  # LWA, the Tokens API, then getOrderAddress
            assert answer.status == 200
        async with session.get("/_spproxy/status") as status:
            assert (await status.json())["outbound_proxy"] == proxy_url
    # proxy.py adds Via to the first request of each connection it carries, and logs that
    # request when the connection closes (spproxy's have: it stopped).
    amazon = server.app[STATE_KEY]
    assert [r.raw_path for r in amazon.requests] == [TOKENS, ADDRESS]
    assert amazon.requests[0].headers["via"].startswith("1.1 proxy.py")
    async with asyncio.timeout(20):
        while "POST 127.0.0.1" not in _read(proxy_log):  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.1)
    assert "/auth/o2/token" in _read(proxy_log)


async def test_without_the_proxy_nothing_reaches_amazon(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    server = await aiohttp_server(make_emulator_app())
    url = str(server.make_url("")).rstrip("/")
    upstream = f"  proxy: http://127.0.0.1:{free_port()}\n  retries: 0"  # nobody listens there
    async with (
        serve(tmp_path, lambda port: serve_yaml(url, port, upstream=upstream)) as spproxy,
        aiohttp.ClientSession(spproxy.base) as session,
        session.get("/sellers/v1/marketplaceParticipations") as answer,
    ):
        assert answer.status == 502
    assert server.app[STATE_KEY].requests == []
    assert server.app[STATE_KEY].lwa_exchanges == {}


def _read(log: Path) -> str:
    return log.read_text()


def _files(tmp_path: Path) -> tuple[trustme.CA, trustme.CA]:
    server_ca, client_ca = trustme.CA(), trustme.CA()
    issued = server_ca.issue_cert("127.0.0.1", "localhost")
    issued.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    for blob in issued.cert_chain_pems[1:]:
        blob.write_to_path(str(tmp_path / "cert.pem"), append=True)
    issued.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    client_ca.cert_pem.write_to_path(str(tmp_path / "clients.pem"))
    return server_ca, client_ca


async def test_https_with_and_without_client_certificates(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    server = await aiohttp_server(make_emulator_app())
    url = str(server.make_url("")).rstrip("/")
    server_ca, client_ca = _files(tmp_path)
    listen = "  tls_cert_file: cert.pem\n  tls_key_file: key.pem\n  tls_client_ca_file: clients.pem"
    trusting = ssl.create_default_context()
    server_ca.configure_trust(trusting)
    with_certificate = ssl.create_default_context()
    server_ca.configure_trust(with_certificate)
    client_ca.issue_cert("shop.internal").configure_cert(with_certificate)
    participations = "/sellers/v1/marketplaceParticipations"

    def config(port: int) -> str:
        return serve_yaml(url, port, listen=listen)

    async with serve(tmp_path, config, ready=None) as spproxy:  # probed below, over TLS
        base = spproxy.base.replace("http://", "https://")
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(20):
                while True:
                    try:
                        async with session.get(
                            f"{base}/_spproxy/health", ssl=with_certificate
                        ) as health:
                            assert health.status == 200
                            break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.1)
            async with session.get(f"{base}{participations}", ssl=with_certificate) as answer:
                assert answer.status == 200
            with pytest.raises(aiohttp.ClientError):  # no client certificate: no handshake
                async with session.get(f"{base}{participations}", ssl=trusting):
                    pass
            with pytest.raises(aiohttp.ClientError):  # plain HTTP on the TLS port
                async with session.get(f"{spproxy.base}{participations}"):
                    pass
    assert f"listening on https://127.0.0.1:{spproxy.port}" in spproxy.log


async def test_unusable_tls_files_are_config_errors(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("not a certificate")
    listen = "  tls_cert_file: cert.pem\n  tls_key_file: missing.pem"
    config = tmp_path / "spproxy.yaml"
    config.write_text(serve_yaml("http://127.0.0.1:9", free_port(), listen=listen))
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "spproxy", "serve", "--config", str(config)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path.cwd())},
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    (line,) = err.decode().splitlines()
    assert line.startswith("spproxy: config: listen.tls_cert_file: cannot load it with its key:")


@pytest.mark.parametrize("through_the_proxy", [False, True], ids=["direct", "tunnel"])
async def test_amazon_over_https_direct_and_through_the_proxys_tunnel(
    aiohttp_server: ServerFactory,
    tmp_path: Path,
    forward_proxy: tuple[str, Path],
    through_the_proxy: bool,
) -> None:
    """Amazon's endpoints are https: the certificate checked against the system's trust store
    (here SSL_CERT_FILE names the test's CA), directly or inside a CONNECT tunnel."""
    authority = trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(tls)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    server = await aiohttp_server(make_emulator_app(), ssl=tls)  # type: ignore[call-arg]
    url = f"https://localhost:{server.port}"
    proxy_url, proxy_log = forward_proxy
    upstream = f"  proxy: {proxy_url}" if through_the_proxy else ""
    trusted = {"SSL_CERT_FILE": str(tmp_path / "ca.pem")}
    async with (
        serve(tmp_path, lambda port: serve_yaml(url, port, upstream=upstream), env=trusted) as sp,
        aiohttp.ClientSession(sp.base) as session,
    ):
        for _ in range(2):  # the second over the kept connection
            async with session.get(ADDRESS) as answer:  # LWA, the Tokens API, getOrderAddress
                assert answer.status == 200
    assert [r.raw_path for r in server.app[STATE_KEY].requests] == [TOKENS, ADDRESS, ADDRESS]
    if through_the_proxy:
        async with asyncio.timeout(20):
            while "CONNECT localhost" not in _read(proxy_log):  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.1)


async def test_an_untrusted_certificate_is_refused_before_anything_is_sent(
    aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("localhost").configure_cert(tls)  # a CA nobody trusts
    server = await aiohttp_server(make_emulator_app(), ssl=tls)  # type: ignore[call-arg]
    lwa = str((await aiohttp_server(make_emulator_app())).make_url("/auth/o2/token"))
    url = f"https://localhost:{server.port}"

    def config(port: int) -> str:
        return serve_yaml(url, port, upstream="  retries: 0").replace(f"{url}/auth/o2/token", lwa)

    async with (
        serve(tmp_path, config) as sp,
        aiohttp.ClientSession(sp.base) as session,
        session.get("/sellers/v1/marketplaceParticipations") as answer,
    ):
        assert answer.status == 502
        assert (
            "could not be reached (ConnectFailed)" in (await answer.json())["errors"][0]["message"]
        )
    assert server.app[STATE_KEY].requests == []
