"""Emulated STS AssumeRole. STUB: being written."""

from __future__ import annotations

from aiohttp import web


async def assume_role(request: web.Request) -> web.Response:
    raise NotImplementedError
