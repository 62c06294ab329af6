"""The Tokens API's createRestrictedDataToken: the call that mints a Restricted Data Token.

It goes out like any seller operation (the account's LWA token, renewed once if Amazon says it
expired; paced by its own usage plan; signed when configured), through the `wire.Sender` it is
given. What it mints and how long an RDT is kept is `rdt`'s business.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from multidict import CIMultiDict, CIMultiDictProxy

from spproxy.config import Account
from spproxy.errors import RdtRefused, TokensApiUnavailable
from spproxy.lwa import LwaTokens, lifetime_s
from spproxy.operations import RDT_MINTING, Operation
from spproxy.target import Target
from spproxy.wire import Sender, UpstreamAnswer, UpstreamRequest

TOKENS_API = Target(RDT_MINTING[1], "")
JSON_HEADERS = CIMultiDictProxy(CIMultiDict({"content-type": "application/json"}))
REFUSAL_HINT = (
    "The app may lack the role a restricted resource needs (Direct-to-Consumer Shipping for "
    "shipping addresses; Tax Invoicing or Tax Remittance for buyer and tax information). Narrow "
    "the request with x-spproxy-data-elements, request the role in Solution Provider Portal, or "
    "set the account's restricted_fallback: lwa to get the data without PII."
)


@dataclass(frozen=True, slots=True)
class Resource:
    """A restricted resource as the Tokens API names it."""

    method: str
    path: str  # a generic template (/orders/v0/orders/{orderId}) or a specific path
    data_elements: tuple[str, ...] = ()  # sorted

    def as_json(self) -> dict[str, object]:
        entry: dict[str, object] = {"method": self.method, "path": self.path}
        if self.data_elements:
            entry["dataElements"] = list(self.data_elements)
        return entry


@dataclass(frozen=True, slots=True)
class Rdt:
    value: str
    expires_at: float  # clock() time
    resources: tuple[Resource, ...]


Mint = Callable[[Account, Sequence[Resource]], Awaitable[Rdt]]


class TokensApi:
    """createRestrictedDataToken, called like any seller operation: LWA token, signing, UA."""

    def __init__(
        self,
        upstream: Sender,  # upstream.Upstream: the call goes out like any seller operation
        lwa: LwaTokens,
        *,
        operation: Operation | None,  # createRestrictedDataToken: paced by its own usage plan
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._upstream = upstream
        self._lwa = lwa
        self._operation = operation
        self._clock = clock

    async def mint(self, account: Account, resources: Sequence[Resource]) -> Rdt:
        body = json.dumps({"restrictedResources": [r.as_json() for r in resources]}).encode()
        started = self._clock()
        answer = await self._send(account, body)
        async with answer.response as response:
            status = response.status
            try:
                payload = json.loads(await response.read())
            except ValueError:
                payload = None
        if status == 200:
            return _rdt(account, payload, started, tuple(resources))
        if status == 429 or status >= 500:
            raise TokensApiUnavailable(
                f"The Tokens API failed for account '{account.name}' (HTTP {status}: "
                f"{_amazon_error(payload)}).",
                "Amazon's Tokens API is busy or failing; retry later.",
            )
        raise RdtRefused(
            f"The Tokens API refused a Restricted Data Token for account '{account.name}' "
            f"(HTTP {status}: {_amazon_error(payload)}).",
            REFUSAL_HINT,
            bundled=len(resources) > 1,
        )

    async def _send(self, account: Account, body: bytes) -> UpstreamAnswer:
        """The call, with the account's LWA token; renewed once if Amazon says it expired."""

        async def renew(refused: str, answer: UpstreamAnswer) -> str | None:
            if not answer.token_rejected:
                return None
            await self._lwa.invalidate_seller_token(account, refused)
            return await self._lwa.seller_token(account)

        request = UpstreamRequest(account, self._operation, "POST", TOKENS_API, JSON_HEADERS, body)
        token = await self._lwa.seller_token(account)
        _, answer = await self._upstream.send_renewing(
            request, token, token=lambda t: t, renew=renew
        )
        return answer


def _rdt(account: Account, payload: object, started: float, resources: tuple[Resource, ...]) -> Rdt:
    """The RDT of a 200 answer, or 502 naming what Amazon's answer lacked."""
    if not isinstance(payload, dict):
        missing = "a JSON object"
    elif (
        not isinstance(payload.get("restrictedDataToken"), str)
        or not payload["restrictedDataToken"]
    ):
        missing = "a restrictedDataToken"
    elif (lifetime := lifetime_s(payload.get("expiresIn"))) is None:
        missing = "a numeric expiresIn"
    else:
        return Rdt(payload["restrictedDataToken"], started + lifetime, resources)
    raise TokensApiUnavailable(
        f"The Tokens API answered 200 for account '{account.name}' without {missing}.",
        "Amazon's Tokens API answered something unexpected; retry later.",
    )


def _amazon_error(payload: object) -> str:
    """Amazon's code and message from an SP-API error body (never the request)."""
    if isinstance(payload, dict) and isinstance(payload.get("errors"), list) and payload["errors"]:
        error = payload["errors"][0]
        if isinstance(error, dict):
            details = f" {error['details']}" if error.get("details") else ""
            return f"{error.get('code', '')}: {error.get('message', '')}{details}".strip()
    return "no error body"
