"""A running spproxy, from the command line: `spproxy report` and `spproxy feed` call it over HTTP
as any client would (its key, its account), so its grants, credentials and pacing apply.

Where: --proxy URL, else http://$SPPROXY_HOST:$SPPROXY_PORT (127.0.0.1 and 8000 unset, as
`spproxy serve` listens; a wildcard host is reached on loopback); with --config, a spproxy of
the command's own (jobproxy). The client key: --key, else
$SPPROXY_KEY (sent as x-spproxy-key); the account: --account (x-spproxy-account).

Every failure is a `Failed`: one line, with the SP-API error's code and message when the proxy
or Amazon answered one. A document goes to its file through a temporary file in the same folder,
renamed once complete: a refused or truncated download leaves nothing behind.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, Any

import aiohttp

KEY_VARIABLE = "SPPROXY_KEY"
EVERY_ADDRESS = frozenset({"0.0.0.0", "::"})  # noqa: S104 (compared with, never bound)
CHUNK = 64 * 1024
# The proxy may hold a call for a rate-limit slot (upstream.queue_timeout_s) before Amazon answers.
TIMEOUT = aiohttp.ClientTimeout(sock_connect=10, sock_read=300)


class Failed(Exception):
    """What went wrong, in one line for the user (exit status 1)."""


def add_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--marketplace",
        metavar="ID",
        action="append",
        required=True,
        help="a marketplace id (e.g. ATVPDKIKX0DER); may be given again",
    )
    parser.add_argument("--account", metavar="NAME", help="the account (x-spproxy-account)")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the document here (default: standard output)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--proxy",
        metavar="URL",
        help="the running spproxy (default http://$SPPROXY_HOST:$SPPROXY_PORT, 127.0.0.1:8000)",
    )
    where.add_argument(
        "--config",
        metavar="PATH",
        help="no running spproxy: serve this config in-process, on loopback, for the job",
    )
    parser.add_argument(
        "--key",
        help=f"client key, if clients are configured (prefer "
        f"${KEY_VARIABLE}: a flag shows in the process list)",
    )


def proxy_base(flag: str | None, env: Mapping[str, str]) -> str:
    if flag:
        return flag.rstrip("/")
    host = env.get("SPPROXY_HOST") or "127.0.0.1"
    host = "127.0.0.1" if host in EVERY_ADDRESS else host  # listening everywhere: loopback
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{env.get('SPPROXY_PORT') or '8000'}"


class ProxyClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base: str,
        args: argparse.Namespace,
        env: Mapping[str, str],
    ) -> None:
        self.session, self.base = session, base
        self.headers: dict[str, str] = {}
        if key := args.key or env.get(KEY_VARIABLE):
            self.headers["x-spproxy-key"] = key
        if args.account:
            self.headers["x-spproxy-account"] = args.account

    async def call(
        self, what: str, method: str, path: str, body: Any = None, **options: Any
    ) -> dict[str, Any]:
        """An operation through the proxy: its JSON answer ({} if none), or Failed."""
        async with self._request(what, method, path, json=body, **options) as answer:
            text = await answer.read()
            if answer.status >= 300:
                raise failure(what, answer.status, text)
        try:
            found = json.loads(text) if text.strip() else {}
        except ValueError:
            found = None
        if not isinstance(found, dict):
            raise Failed(f"{what}: the answer is not a JSON object")
        return found

    async def upload(
        self, what: str, path: str, content: IO[bytes], size: int, content_type: str
    ) -> dict[str, Any]:
        """`content` as the body, `size` bytes, streamed."""
        headers = {"Content-Type": content_type, "Content-Length": str(size)}
        return await self.call(what, "POST", path, data=content, headers=headers)

    async def download(self, what: str, path: str, sink: IO[bytes]) -> None:
        """A document streamed into `sink`; Failed if refused or cut short."""
        async with self._request(what, "GET", path) as answer:
            if answer.status != 200:
                raise failure(what, answer.status, await answer.read())
            try:
                async for chunk in answer.content.iter_chunked(CHUNK):
                    sink.write(chunk)
            except aiohttp.ClientPayloadError:
                message = f"{what}: the document arrived truncated (the transfer broke off)"
                raise Failed(message) from None

    @asynccontextmanager
    async def _request(
        self, what: str, method: str, path: str, **options: Any
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        headers = {**self.headers, **options.pop("headers", {})}
        url = self.base + path
        try:
            async with self.session.request(
                method, url, headers=headers, timeout=TIMEOUT, **options
            ) as answer:
                yield answer
        except aiohttp.ClientConnectionError as exc:
            raise Failed(f"{what}: cannot reach spproxy at {self.base} ({_why(exc)})") from None
        except TimeoutError:
            raise Failed(f"{what}: spproxy at {self.base} did not answer in time") from None


def _why(exc: aiohttp.ClientConnectionError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def failure(what: str, status: int, body: bytes) -> Failed:
    """`what: STATUS CODE: message (details)`, from SP-API's error shape when the body has it."""
    try:
        errors = json.loads(body).get("errors")
        first = errors[0] if isinstance(errors, list) and errors else {}
    except (ValueError, AttributeError):
        first = {}
    if not isinstance(first, dict) or not first.get("message"):
        return Failed(f"{what}: spproxy answered {status}")
    details = f" ({first['details']})" if first.get("details") else ""
    return Failed(f"{what}: {status} {first.get('code', '')}: {first['message']}{details}")


@contextmanager
def output(path: str | None, stdout: IO[bytes]) -> Iterator[IO[bytes]]:
    """Where a document goes: standard output, or `path` once it is whole (a temporary file in
    the same folder, renamed over it), and nothing at all if writing it fails or is cut short."""
    if path is None or path == "-":
        yield stdout
        stdout.flush()
        return
    target = Path(path)
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=target.resolve().parent, prefix=f".{target.name}.", suffix=".part"
        )
    except OSError as exc:
        raise Failed(f"{path}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(descriptor, "wb") as sink:
            yield sink
        os.replace(temporary, target)
    except BaseException:  # Ctrl-C too: no partial file
        Path(temporary).unlink(missing_ok=True)
        raise


def written_to(path: str | None) -> str:
    """ " written to FILE" for the closing line, when the document went to a file."""
    return f" written to {path}" if path and path != "-" else ""
