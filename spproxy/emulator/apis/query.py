"""Query parameters, page tokens and JSON bodies as SP-API reads them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy, MultiMapping

from spproxy.emulator.errors import invalid_input


def comma_separated(request: web.Request, name: str) -> list[str]:
    """An array parameter in the models' `csv` collection format (`a,b`); repeats add items."""
    return csv_values(request.query, name)


def csv_values(query: MultiMapping[str], name: str) -> list[str]:
    return [item for value in query.getall(name, []) for item in value.split(",") if item]


def required_comma_separated(request: web.Request, name: str) -> list[str]:
    items = comma_separated(request, name)
    if not items:
        raise invalid_input(f"Missing required parameter '{name}'.")
    return items


def date_time(query: MultiMapping[str], name: str, *, required: bool = False) -> datetime | None:
    """An ISO 8601 date-time parameter; one without a zone is UTC, as SP-API reads it."""
    value = query.get(name)
    if value is None:
        if required:
            raise invalid_input(f"Missing required parameter '{name}'.")
        return None
    try:
        return utc(value)
    except ValueError:
        raise invalid_input(f"{name} must be an ISO 8601 date-time.") from None


def utc(iso_8601: str) -> datetime:
    moment = datetime.fromisoformat(iso_8601)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def page_query(request: web.Request) -> tuple[MultiMapping[str], int]:
    """The query a list operation filters by, and where its page starts.

    A `nextToken` (made by `next_token`) carries the first call's query and the offset of the
    next page: as at Amazon, the token alone asks for the next page.
    """
    token = request.query.get("nextToken")
    if token is None:
        return request.query, 0
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
        query = MultiDictProxy(MultiDict((str(k), str(v)) for k, v in state["query"]))
        return query, int(state["offset"])
    except (ValueError, KeyError, TypeError):
        raise invalid_input("Invalid nextToken.") from None


def next_token(query: MultiMapping[str], offset: int) -> str:
    pairs = [(name, value) for name, value in query.items() if name != "nextToken"]
    state = json.dumps({"query": pairs, "offset": offset})
    return base64.urlsafe_b64encode(state.encode()).decode()


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    try:
        body: Any = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise invalid_input("The request body must be a JSON object.")
    return body
