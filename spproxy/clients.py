"""Need-to-know access for local clients: who is calling, and what they may do.

Once spproxy holds a seller's keys, every process that can reach its port can act for that
seller. Amazon's Data Protection Policy asks for need-to-know access to PII. With a `clients:`
section, every SP-API request must say who it is, and stays within that client's grants:

    x-spproxy-key: KEY         -> the client with that key (compared in constant time)
    x-amz-access-token: TOKEN  -> the client spproxy handed that token to (`issued`): an LWA
                                  placeholder from /auth/o2/token (an SDK's exchange, the key as
                                  its refresh token; signed, so any replica verifies it) or an
                                  RDT it minted through spproxy (remembered, and shared through
                                  Redis with `state:`); only while the client keeps the key it
                                  had then (a rotated key revokes them)
    neither, or a wrong one    -> 401

    accounts: [...]            -> other accounts: 403
    operations: [globs]        -> other operations: 403 (matched on the operation name)
    pii: false                 -> Orders getOrders/getOrder/getOrderItems without PII (the LWA
                                  token), report documents of ordinary types; every other
                                  restricted operation, a restricted report type, and the Tokens
                                  API (it mints PII-releasing tokens): 403
    data_elements: [...]       -> narrows the PII Orders operations release, and what a Tokens
                                  API body may ask for

Without `clients:` spproxy is open to whoever reaches the port (bind it to loopback).

Only a token that would identify the caller (no x-spproxy-key) and that this process does not
know can cost a Redis round trip; a key or a placeholder never does.

SDKs that mint an RDT themselves and send it back in x-amz-access-token waste a Tokens API call:
spproxy replaces every client-sent token with its own credential. Such requests are counted
(`client_rdts_replaced`), with or without `clients:`.
"""

from __future__ import annotations

import fnmatch
import hmac
import itertools
import json
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDictProxy

from spproxy.config import DATA_ELEMENTS, Account, Client
from spproxy.errors import BadRequest, Forbidden, Unauthenticated
from spproxy.headers import (
    ACCESS_TOKEN_HEADER,
    DELEGATED_RDT_HEADER,
    KEY_HEADER,
    REPORT_TYPE_HEADER,
)
from spproxy.issued import Issued, IssuedTokens
from spproxy.operations import Operation, OperationTable
from spproxy.reports import Observer, ReportTypes
from spproxy.target import Target, normalise_path

if TYPE_CHECKING:
    from spproxy.sharedstate import SharedState


class ClientAccess:
    def __init__(
        self,
        clients: Mapping[str, Client],
        table: OperationTable,
        report_types: ReportTypes,
        *,
        issued_limit: int = 100_000,
        state: SharedState | None = None,
    ) -> None:
        self.clients = clients
        self._table = table
        self._report_types = report_types
        self.issued = IssuedTokens(state, rdt_limit=issued_limit)
        self.client_rdts_replaced = 0  # requests that brought an RDT of their own: wasted mints

    def reconfigure(self, clients: Mapping[str, Client]) -> None:
        self.clients = clients

    async def identify(self, headers: CIMultiDictProxy[str]) -> Client | None:
        """The calling client; None when no clients are configured. 401 if it cannot say."""
        token = headers.get(ACCESS_TOKEN_HEADER)
        key = headers.get(KEY_HEADER)
        # Redis only for a token that would identify the caller; the key says who anyway.
        issued = await self.issued.recall(token, shared=key is None) if token else None
        if issued is not None and issued.rdt:
            self.client_rdts_replaced += 1
        if not self.clients:
            return None
        client = self.by_key(key) if key is not None else self._holder(issued)
        if client is None:
            raise Unauthenticated(
                f"A valid {KEY_HEADER} header is required."
                if key is None
                else f"The {KEY_HEADER} header names no client.",
                "Ask the operator of this spproxy for a client key (the clients: section). An "
                "x-amz-access-token counts only if spproxy issued it to a client whose key "
                "is unchanged.",
            )
        return client

    def _holder(self, issued: Issued | None) -> Client | None:
        """The client a token was issued to, if its key is still the one it had then."""
        if issued is None or issued.client is None:
            return None
        client = self.clients.get(issued.client)
        if client is None or not hmac.compare_digest(
            self.issued.fingerprint(client.key), issued.fingerprint
        ):
            return None  # the key it was issued under was rotated or removed
        return client

    def by_key(self, key: str) -> Client | None:
        """The client with this key. Every key is compared, in constant time each."""
        # aiohttp decodes header bytes as UTF-8 with surrogateescape: encode them back the same way
        offered = key.encode("utf-8", "surrogateescape")
        found = None
        for client in self.clients.values():
            if hmac.compare_digest(client.key.reveal().encode(), offered):
                found = client
        return found

    def observer(self, operation: Operation | None, client: Client | None) -> Observer | None:
        """For the Tokens API: remember the RDT the client minted, so it identifies the client."""
        if operation is None or not operation.mints_rdt:
            return None
        return partial(self._minted, client)

    async def _minted(self, client: Client | None, body: bytes) -> None:
        try:
            token = json.loads(body).get("restrictedDataToken")
        except (ValueError, AttributeError):
            return
        if isinstance(token, str):
            await self.issued.remember(token, client)

    async def authorize(
        self,
        client: Client | None,
        account: Account,
        operation: Operation | None,
        target: Target,
        headers: CIMultiDictProxy[str],
        body: bytes,
    ) -> None:
        """403 naming what the client may not do."""
        if client is None:
            return
        if client.granted is not None and account.name not in client.granted:
            raise Forbidden(f"Client '{client.name}' may not act for account '{account.name}'.")
        name = operation.name if operation else "unknown"
        if not _may_call(client, name):
            raise Forbidden(f"Client '{client.name}' may not call {name}.")
        if operation is None:
            return
        if operation.mints_rdt:
            self._authorize_mint(client, body)
            return
        restriction = operation.restriction
        if restriction is None:
            return
        if client.pii:
            _authorize_elements(client, restriction.implies, name)
            return
        if not restriction.lwa_without_pii:
            raise Forbidden(f"Client '{client.name}' may not receive PII ({name} returns it).")
        if DELEGATED_RDT_HEADER in headers:
            raise Forbidden(f"Client '{client.name}' may not receive PII (it sent an RDT).")
        if not restriction.generic_path:  # a report document: its type decides
            document_id = target.path.rsplit("/", 1)[-1]
            hint = headers.get(REPORT_TYPE_HEADER)
            if await self._report_types.recall(document_id, hint):  # or another replica's
                raise Forbidden(
                    f"Client '{client.name}' may not receive PII (report document "
                    f"{document_id} is of a restricted report type)."
                )

    def _authorize_mint(self, client: Client, body: bytes) -> None:
        """The Tokens API: PII for every resource the body names, so each must be granted."""
        if not client.pii:
            raise Forbidden(
                f"Client '{client.name}' may not receive PII (createRestrictedDataToken mints "
                "tokens that release it)."
            )
        for method, path, elements in _requested_resources(body):
            operation = self._table.classify(method, path)
            restriction = operation.restriction if operation else None
            if operation is None or restriction is None or not _may_call(client, operation.name):
                raise Forbidden(
                    f"Client '{client.name}' may not mint a Restricted Data Token for "
                    f"{method} {path} (not a restricted operation it may call)."
                )
            _authorize_elements(client, elements | restriction.implies, operation.name)

    def data_elements(self, client: Client | None) -> frozenset[str] | None:
        """The PII a client may receive; None: whatever the account and request allow."""
        if client is None:
            return None
        if not client.pii:
            return frozenset()
        if client.data_elements is None:
            return None
        return frozenset(client.data_elements) & frozenset(DATA_ELEMENTS)

    def snapshot(self, page: int) -> dict[str, Any]:
        """For /_spproxy/status: counts, and the grants of the first `page` clients (no key)."""
        return {
            "issued_tokens": len(self.issued),
            "client_rdts_replaced": self.client_rdts_replaced,
            "clients": {
                client.name: {
                    "accounts": list(client.accounts) if client.accounts is not None else "all",
                    "operations": list(client.operations),
                    "pii": client.pii,
                    "data_elements": list(client.data_elements)
                    if client.data_elements is not None
                    else "the account's",
                }
                for client in itertools.islice(self.clients.values(), page)
            },
        }


def _may_call(client: Client, operation: str) -> bool:
    return any(fnmatch.fnmatchcase(operation, glob) for glob in client.operations)


def _authorize_elements(client: Client, elements: frozenset[str], operation: str) -> None:
    if client.data_elements is not None and not elements <= set(client.data_elements):
        raise Forbidden(
            f"Client '{client.name}' may not receive {', '.join(sorted(elements))} "
            f"({operation} returns it)."
        )


def _requested_resources(body: bytes) -> list[tuple[str, str, frozenset[str]]]:
    """(method, path, dataElements) of each restrictedResources entry of a Tokens API body."""
    requested = []
    try:
        for resource in json.loads(body)["restrictedResources"]:
            method, path = resource["method"], resource["path"]
            elements = resource.get("dataElements") or []
            if not (isinstance(method, str) and isinstance(path, str) and path.startswith("/")):
                raise TypeError
            if not isinstance(elements, list) or not all(isinstance(e, str) for e in elements):
                raise TypeError
            # the path Amazon will match, as spproxy would send it: no dot segments
            requested.append((method.upper(), normalise_path(path), frozenset(elements)))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BadRequest(
            "The createRestrictedDataToken body must be JSON with a restrictedResources list "
            "of {method, path, dataElements}.",
            "See the Tokens API reference.",
        ) from None
    if not requested:
        raise BadRequest("The createRestrictedDataToken body names no restrictedResources.")
    return requested
