"""Query parameters as SP-API reads them."""

from __future__ import annotations

from aiohttp import web

from spproxy.emulator.errors import invalid_input


def comma_separated(request: web.Request, name: str) -> list[str]:
    """An array parameter in the models' `csv` collection format (`a,b`); repeats add items."""
    return [item for value in request.query.getall(name, []) for item in value.split(",") if item]


def required_comma_separated(request: web.Request, name: str) -> list[str]:
    items = comma_separated(request, name)
    if not items:
        raise invalid_input(f"Missing required parameter '{name}'.")
    return items
