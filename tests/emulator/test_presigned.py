"""Documents behind presigned URLs, as S3 serves and refuses them."""

from __future__ import annotations

import gzip

from aiohttp import ClientResponse
from pytest_aiohttp import AiohttpClient
from yarl import URL

from spproxy.emulator import EmulatorConfig, make_emulator_app
from spproxy.emulator.presigned import DocumentStore
from tests.emulator.conftest import Client, FakeClock, seller, state_of


async def bucket(aiohttp_client: AiohttpClient, clock: FakeClock) -> Client:
    return await aiohttp_client(make_emulator_app(EmulatorConfig(clock=clock)))


def store(client: Client) -> DocumentStore:
    return state_of(client).documents


def relative(url: str) -> str:
    return str(URL(url).relative()) if URL(url).is_absolute() else url


async def s3_code(response: ClientResponse, status: int) -> str:
    assert response.status == status
    assert response.content_type == "application/xml"
    text = await response.text()
    return text.split("<Code>")[1].split("</Code>")[0]


async def test_a_presigned_url_serves_the_stored_bytes(aiohttp_client: AiohttpClient) -> None:
    amazon = await bucket(aiohttp_client, FakeClock())
    store(amazon).put("plain", b"a\tb\n", "text/plain", gzipped=False)
    store(amazon).put("packed", b"a\tb\n" * 100, "text/plain", gzipped=True)
    origin = str(amazon.make_url(""))
    url = store(amazon).presign(origin, "GET", "plain")
    assert "X-Amz-Expires=300" in url and "X-Amz-Signature=" in url
    response = await amazon.get(relative(url))
    assert response.status == 200
    assert await response.read() == b"a\tb\n"
    response = await amazon.get(relative(store(amazon).presign(origin, "GET", "packed")))
    assert "Content-Encoding" not in response.headers
    assert gzip.decompress(await response.read()) == b"a\tb\n" * 100


async def test_an_expired_url_is_refused(aiohttp_client: AiohttpClient) -> None:
    clock = FakeClock()
    amazon = await bucket(aiohttp_client, clock)
    store(amazon).put("doc", b"x", "text/plain", gzipped=False)
    url = relative(store(amazon).presign("", "GET", "doc"))
    clock.advance(300)
    assert (await amazon.get(url)).status == 200
    clock.advance(1)
    response = await amazon.get(url)
    assert await s3_code(response, 403) == "AccessDenied"
    assert "Request has expired" in await response.text()


async def test_an_altered_url_is_refused(aiohttp_client: AiohttpClient) -> None:
    amazon = await bucket(aiohttp_client, FakeClock())
    for name in ("doc", "other"):
        store(amazon).put(name, b"x", "text/plain", gzipped=False)
    url = relative(store(amazon).presign("", "GET", "doc"))
    for altered in (
        url.replace("/doc?", "/other?"),
        url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000"),
        url[:-1] + ("0" if url[-1] != "0" else "1"),
    ):
        assert await s3_code(await amazon.get(altered), 403) == "SignatureDoesNotMatch"
    # Presigned for GET: no upload with it.
    assert await s3_code(await amazon.put(url, data=b"y"), 403) == "SignatureDoesNotMatch"


async def test_an_sp_api_token_on_a_presigned_url_is_refused(
    aiohttp_client: AiohttpClient,
) -> None:
    amazon = await bucket(aiohttp_client, FakeClock())
    store(amazon).put("doc", b"x", "text/plain", gzipped=False)
    url = relative(store(amazon).presign("", "GET", "doc"))
    response = await amazon.get(url, headers=seller(amazon))
    assert await s3_code(response, 403) == "AccessDenied"
    assert "<HeadersNotSigned>x-amz-access-token</HeadersNotSigned>" in await response.text()
    response = await amazon.get(url, headers={"Authorization": "Bearer Atza|anything"})
    assert await s3_code(response, 400) == "InvalidArgument"
    assert "Only one auth mechanism allowed" in await response.text()


async def test_an_upload_is_stored_within_the_size_limit(aiohttp_client: AiohttpClient) -> None:
    amazon = await bucket(aiohttp_client, FakeClock())
    store(amazon).put("feed", b"", "text/xml", gzipped=False)
    store(amazon).max_upload_bytes = 10
    url = relative(store(amazon).presign("", "PUT", "feed"))
    response = await amazon.put(url, data=b"x" * 11)
    assert await s3_code(response, 400) == "EntityTooLarge"
    assert not store(amazon).documents["feed"].uploaded
    assert (await amazon.put(url, data=b"<feed/>")).status == 200
    assert store(amazon).documents["feed"].content == b"<feed/>"
    missing = relative(store(amazon).presign("", "GET", "missing"))
    assert await s3_code(await amazon.get(missing), 404) == "NoSuchKey"
