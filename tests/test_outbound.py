"""What calls go out through: one session as spproxy needs it, shared state and signers only
when configured."""

from __future__ import annotations

import base64
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace

from aiohttp import web
from aiohttp.test_utils import TestServer

from spproxy import outbound
from spproxy.config import Secret, StateConfig, UpstreamConfig
from spproxy.ratelimit import RateLimiter
from tests.harness import proxy_config


async def test_the_session_relays_bytes_and_never_retries_behind_upstreams_back() -> None:
    config = proxy_config("http://127.0.0.1:9")
    session = outbound.session(config)
    try:
        assert session.auto_decompress is False  # Amazon's bytes, Content-Encoding and all
        assert session.trust_env is False  # no environment proxy unless upstream.trust_env
        assert session._retry_connection is False  # upstream.retries is the whole bound
    finally:
        await session.close()
    trusting = replace(config, upstream=UpstreamConfig(trust_env=True))
    session = outbound.session(trusting)
    assert session.trust_env is True
    await session.close()


async def test_signers_and_shared_state_only_when_configured() -> None:
    config = proxy_config("http://127.0.0.1:9")
    session = outbound.session(config)
    try:
        assert outbound.signers(session, config) == {}
        signed = proxy_config("http://127.0.0.1:9", signing=True)
        assert set(outbound.signers(session, signed)) == set(signed.accounts)
        assert outbound.shared_state(config) is None
        key = Secret(base64.b64encode(os.urandom(32)).decode())
        stateful = replace(config, state=StateConfig("redis://127.0.0.1:9/0", key))
        state = outbound.shared_state(stateful)
        assert state is not None and state.namespace  # not connected until its first call
        await state.aclose()
        upstream = outbound.upstream(session, config, RateLimiter(queue_timeout_s=1))
        assert upstream.signers == {}
        await upstream.aclose()
    finally:
        await session.close()


async def test_a_cookie_one_answer_sets_is_never_sent_with_the_next_call(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> None:
    """One session carries every seller's calls: a Set-Cookie in one seller's answer must not
    ride along with another's."""
    seen: list[str | None] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Cookie"))
        response = web.Response(text="{}")
        response.set_cookie("session-id", "seller-a")
        return response

    app = web.Application()
    app.router.add_get("/{path:.*}", answer)
    server = await aiohttp_server(app)
    session = outbound.session(proxy_config("http://127.0.0.1:9"))
    try:
        for _ in range(2):
            # A host name: aiohttp's jar would keep no cookie for an IP address anyway.
            url = server.make_url("/orders/v0/orders").with_host("localhost")
            async with session.get(url) as response:
                assert response.cookies["session-id"].value == "seller-a"
    finally:
        await session.close()
    assert seen == [None, None]
