"""SP-API's error answer: `{"errors":[{"code","message","details"}]}` as application/json.

Operation handlers and the request pipeline raise `SpapiError`; the pipeline turns it into the
answer in one place, so every refusal of the emulated SP-API has Amazon's shape.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web


class SpapiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: str = "",
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        error = {"code": self.code, "message": self.message, "details": self.details}
        return web.json_response({"errors": [error]}, status=self.status, headers=self.headers)


def invalid_input(message: str, details: str = "") -> SpapiError:
    return SpapiError(400, "InvalidInput", message, details)


def not_found(message: str, details: str = "") -> SpapiError:
    return SpapiError(404, "NotFound", message, details)
