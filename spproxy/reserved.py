"""spproxy's own endpoints: health, readiness, status, metrics, reload under /_spproxy/, and
an LWA stand-in at /auth/o2/token for SDKs that insist on their own token exchange.

SP-API paths never start with /_spproxy/ (or /auth/), so nothing here can shadow an Amazon
operation, and nothing here is ever forwarded.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl

from aiohttp import hdrs, web

from spproxy import status as status_document
from spproxy.addresses import is_loopback
from spproxy.body import read_body
from spproxy.errors import BadRequest, Forbidden, NotFound
from spproxy.issued import PLACEHOLDER_TTL_S
from spproxy.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from spproxy.proxy import PROXY
from spproxy.target import RESERVED_PREFIX, reserved_not_found

log = logging.getLogger("spproxy")

LWA_PATH = "/auth/o2/token"
# Polled by probes and monitoring: left out of the access log, which they would drown.
PROBES = frozenset({"health", "ready", "status", "metrics"})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    is_ready, body = request.app[PROXY].readiness()
    return web.json_response(body, status=200 if is_ready else 503)


async def status(request: web.Request) -> web.Response:
    return web.json_response(status_document.status(request.app[PROXY]))


async def metrics(request: web.Request) -> web.Response:
    body = request.app[PROXY].metrics_text()
    return web.Response(body=body, headers={hdrs.CONTENT_TYPE: METRICS_CONTENT_TYPE})


async def lwa_placeholder(request: web.Request) -> web.Response:
    """LWA's token endpoint, answered locally with a placeholder that is never forwarded.

    An SDK configured with this as its LWA endpoint gets a token to send back to spproxy, which
    drops it and injects the real one. With clients: configured, the SDK's refresh token (or,
    for the client_credentials grant, its client secret) must be a client key: the placeholder
    then stands for that client. Answers and refusals have LWA's shape (RFC 6749 5.1, 5.2).
    """
    form = await _token_request(request)
    grant = form.get("grant_type")
    if grant not in ("refresh_token", "client_credentials"):
        return _lwa_error(
            400, "unsupported_grant_type", "spproxy answers refresh_token and client_credentials."
        )
    access = request.app[PROXY].clients
    credential = form.get("refresh_token" if grant == "refresh_token" else "client_secret", "")
    client = access.by_key(credential) if access.clients else None
    if access.clients and client is None:
        if grant == "refresh_token":
            return _lwa_error(
                400, "invalid_grant", "The refresh token must be an spproxy client key."
            )
        return _lwa_error(401, "invalid_client", "The client secret must be an spproxy client key.")
    answer = {
        "access_token": access.issued.placeholder(client),
        "token_type": "bearer",
        "expires_in": PLACEHOLDER_TTL_S,
    }
    if grant == "refresh_token":
        answer["refresh_token"] = credential
    else:
        answer["scope"] = form.get("scope", "")
    return web.json_response(answer)


async def _token_request(request: web.Request) -> dict[str, str]:
    config = request.app[PROXY].config
    body = await read_body(request, config.upstream.max_body_bytes, config.listen.body_timeout_s)
    if request.content_type == "application/json":
        try:
            fields = json.loads(body)
        except ValueError:
            fields = None
        return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _lwa_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


async def reload(request: web.Request) -> web.Response:
    """POST /_spproxy/reload, from this machine only: re-read the config, as SIGHUP does."""
    if not is_loopback(request.remote):
        raise Forbidden(
            "Reload is accepted from loopback only.", "Send SIGHUP, or POST from the host."
        )
    problems = request.app[PROXY].reload()
    if problems:
        raise BadRequest(
            "The new configuration was refused; the running one stays.", " | ".join(problems)
        )
    return web.json_response(
        {"status": "reloaded", "accounts": list(request.app[PROXY].config.accounts)}
    )


async def not_an_endpoint(request: web.Request) -> web.Response:
    raise not_found(request)


def not_found(request: web.Request) -> NotFound:
    return reserved_not_found(request.method, request.raw_path.partition("?")[0])


def is_probe(request: web.Request) -> bool:
    return request.match_info.route.name in PROBES


def add_routes(app: web.Application) -> None:
    app.router.add_get(RESERVED_PREFIX + "health", health, name="health")
    app.router.add_get(RESERVED_PREFIX + "ready", ready, name="ready")
    app.router.add_get(RESERVED_PREFIX + "status", status, name="status")
    app.router.add_get(RESERVED_PREFIX + "metrics", metrics, name="metrics")
    app.router.add_post(RESERVED_PREFIX + "reload", reload)
    app.router.add_post(LWA_PATH, lwa_placeholder)
    app.router.add_route("*", RESERVED_PREFIX + "{name:.*}", not_an_endpoint)
