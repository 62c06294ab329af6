"""spproxy's own endpoints under /_spproxy/: health, readiness, status, reload.

SP-API paths never start with /_spproxy/, so nothing here can shadow an Amazon operation, and
nothing under it is ever forwarded.
"""

from __future__ import annotations

import ipaddress
import logging

from aiohttp import web

from spproxy.config import ConfigError
from spproxy.errors import BadRequest, Forbidden, NotFound
from spproxy.proxy import LOADER, PROXY

log = logging.getLogger("spproxy")

RESERVED_PREFIX = "/_spproxy/"


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    failures = request.app[PROXY].tokens.failures
    if failures:
        return web.json_response({"status": "not ready", "accounts": failures}, status=503)
    return web.json_response({"status": "ready"})


async def status(request: web.Request) -> web.Response:
    return web.json_response(request.app[PROXY].status())


async def reload(request: web.Request) -> web.Response:
    """POST /_spproxy/reload, from this machine only: re-read the config, as SIGHUP does."""
    if not _is_loopback(request.remote):
        raise Forbidden(
            "Reload is accepted from loopback only.", "Send SIGHUP, or POST from the host."
        )
    problems = reload_config(request.app)
    if problems:
        raise BadRequest(
            "The new configuration was refused; the running one stays.", " | ".join(problems)
        )
    return web.json_response(
        {"status": "reloaded", "accounts": list(request.app[PROXY].config.accounts)}
    )


def reload_config(app: web.Application) -> list[str]:
    """Re-read the config and secret files and apply them; the problems if it was refused."""
    loader = app[LOADER]
    if loader is None:
        problem = "this spproxy has no config file or environment to re-read (the demo)"
        log.warning("reload refused: %s", problem)
        return [problem]
    try:
        config = loader()
    except ConfigError as error:
        for problem in error.problems:
            log.error("reload refused, the running config stays: %s", problem)
        return error.problems
    app[PROXY].reconfigure(config)
    log.info("reloaded the config from %s; accounts: %s", config.source, ", ".join(config.accounts))
    return []


async def not_an_endpoint(request: web.Request) -> web.Response:
    raise not_found(request)


def not_found(request: web.Request) -> NotFound:
    return NotFound(
        f"{request.method} {request.path} is not an spproxy endpoint.",
        f"{RESERVED_PREFIX} paths are spproxy's own and never forwarded; see the README.",
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get(RESERVED_PREFIX + "health", health)
    app.router.add_get(RESERVED_PREFIX + "ready", ready)
    app.router.add_get(RESERVED_PREFIX + "status", status)
    app.router.add_post(RESERVED_PREFIX + "reload", reload)
    app.router.add_route("*", RESERVED_PREFIX + "{name:.*}", not_an_endpoint)


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False
