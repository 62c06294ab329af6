"""What calls go out through, as `Proxy.build` wires it: the session LWA, STS and document
calls share, the shared state (Redis) when configured, and the forwarding layer (its own lean
HTTP/1.1 client, `http1pool`) with its signers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp

from spproxy import signing
from spproxy.config import Config
from spproxy.http1pool import Http1Client
from spproxy.ratelimit import RateLimiter
from spproxy.signing import SigV4Signer
from spproxy.upstream import Upstream, default_user_agent

if TYPE_CHECKING:
    from spproxy.sharedstate import SharedState


def session(config: Config) -> aiohttp.ClientSession:
    """The session LWA, STS and document calls share (SP-API's go through `upstream`)."""
    # No session-wide timeout: each caller (upstream, LWA, STS) passes its own, from the
    # current config.
    session = aiohttp.ClientSession(
        auto_decompress=False,  # relay the bytes Amazon sent, Content-Encoding and all
        connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300),
        # No cookies: none of Amazon's APIs uses them, and a cookie one seller's answer set
        # must not ride along with another seller's calls (a jar also costs every request).
        cookie_jar=aiohttp.DummyCookieJar(),
        # An HTTP(S)_PROXY in the environment must not reroute seller traffic unless the
        # config says so; upstream.proxy carries LWA, Tokens, STS and SP-API calls alike.
        trust_env=config.upstream.trust_env,
        proxy=config.upstream.proxy,
    )
    # aiohttp silently sends an idempotent request again when a reused keep-alive connection
    # turns out closed: unpaced, and on top of upstream.retries (3 retries made 8 attempts).
    # Retries are Upstream's alone. No public switch; aiohttp's own TestClient does the same.
    session._retry_connection = False
    return session


def shared_state(config: Config) -> SharedState | None:
    if config.state is None:
        return None
    from spproxy.sharedstate import connect  # imported only here: redis-py loads only with state:

    return connect(config.state, config.lwa.client_id)


def upstream(session: aiohttp.ClientSession, config: Config, limiter: RateLimiter) -> Upstream:
    """SP-API's calls: through upstream.proxy (or, with trust_env, the environment's), like the
    session's, with the aws: signers (whose STS calls take `session`)."""
    client = Http1Client(proxy=config.upstream.proxy, trust_env=config.upstream.trust_env)
    return Upstream(
        client,
        config=config.upstream,
        user_agent=config.user_agent or default_user_agent(),
        signers=signers(session, config),
        limiter=limiter,
    )


def signers(session: aiohttp.ClientSession, config: Config) -> dict[str, SigV4Signer]:
    return signing.signers(session, config.aws, config.accounts) if config.aws else {}
