"""Need-to-know access for local clients: who is calling, and what they may do.

Once spproxy holds a seller's keys, every process that can reach its port can act for that
seller. Amazon's Data Protection Policy asks for need-to-know access to PII. With a `clients:`
section, every SP-API request must say who it is, and stays within that client's grants:

    x-spproxy-key: KEY         -> the client with that key (compared in constant time)
    x-amz-access-token: spproxy-placeholder.… -> the client whose key an SDK exchanged at
                                  spproxy's /auth/o2/token (the key as its refresh token)
    neither, or a wrong one    -> 401

    accounts: [...]            -> other accounts: 403
    operations: [globs]        -> other operations: 403 (matched on the operation name)
    pii: false                 -> Orders getOrders/getOrder/getOrderItems without PII (the LWA
                                  token); every other restricted operation: 403
    data_elements: [...]       -> narrows the PII Orders operations release

Without `clients:` spproxy is open to whoever reaches the port (bind it to loopback).
"""

from __future__ import annotations

import fnmatch
import hmac
import secrets
from collections.abc import Mapping

from cachetools import TTLCache
from multidict import CIMultiDictProxy

from spproxy.config import DATA_ELEMENTS, Account, Client
from spproxy.credentials import DELEGATED_RDT_HEADER
from spproxy.errors import Forbidden, Unauthenticated
from spproxy.operations import Operation

KEY_HEADER = "x-spproxy-key"
PLACEHOLDER_PREFIX = "spproxy-placeholder."
PLACEHOLDER_TTL_S = 3600
# Restricted operations a client without PII may still call: Amazon answers them without PII
# to the LWA token.
PII_FREE_WITH_LWA = frozenset(
    {
        ("GET", "/orders/v0/orders"),
        ("GET", "/orders/v0/orders/{orderId}"),
        ("GET", "/orders/v0/orders/{orderId}/orderItems"),
        ("GET", "/reports/2021-06-30/documents/{reportDocumentId}"),  # ordinary report types
    }
)


class ClientAccess:
    def __init__(self, clients: Mapping[str, Client]) -> None:
        self.clients = clients
        # placeholder token -> client name (None: issued with no clients configured)
        self._placeholders: TTLCache[str, str | None] = TTLCache(
            maxsize=100_000, ttl=PLACEHOLDER_TTL_S + 300
        )

    def identify(self, headers: CIMultiDictProxy[str]) -> Client | None:
        """The calling client; None when no clients are configured. 401 if it cannot say."""
        if not self.clients:
            return None
        key = headers.get(KEY_HEADER)
        if key is not None:
            client = self.by_key(key)
        else:
            name = self._placeholders.get(headers.get("x-amz-access-token", ""))
            client = self.clients.get(name) if name else None
        if client is None:
            raise Unauthenticated(
                f"A valid {KEY_HEADER} header is required."
                if key is None
                else f"The {KEY_HEADER} header names no client.",
                "Ask the operator of this spproxy for a client key (the clients: section).",
            )
        return client

    def by_key(self, key: str) -> Client | None:
        """The client with this key. Every key is compared, in constant time each."""
        found = None
        for client in self.clients.values():
            if hmac.compare_digest(client.key.reveal().encode(), key.encode()):
                found = client
        return found

    def placeholder(self, client: Client | None) -> str:
        """An access token for an SDK that insists on its own LWA exchange: never forwarded."""
        token = PLACEHOLDER_PREFIX + secrets.token_urlsafe(32)
        self._placeholders[token] = client.name if client else None
        return token

    def authorize(
        self,
        client: Client | None,
        account: Account,
        operation: Operation | None,
        headers: CIMultiDictProxy[str],
    ) -> None:
        """403 naming what the client may not do."""
        if client is None:
            return
        if client.accounts is not None and account.name not in client.accounts:
            raise Forbidden(f"Client '{client.name}' may not act for account '{account.name}'.")
        name = operation.name if operation else "unknown"
        if not any(fnmatch.fnmatchcase(name, glob) for glob in client.operations):
            raise Forbidden(f"Client '{client.name}' may not call {name}.")
        if operation is None or operation.restriction is None:
            return
        if client.pii:
            implied = operation.restriction.implies
            if client.data_elements is not None and not implied <= set(client.data_elements):
                raise Forbidden(
                    f"Client '{client.name}' may not receive {', '.join(sorted(implied))} "
                    f"({name} returns it)."
                )
            return
        if (operation.method, operation.path) not in PII_FREE_WITH_LWA:
            raise Forbidden(f"Client '{client.name}' may not receive PII ({name} returns it).")
        if DELEGATED_RDT_HEADER in headers:
            raise Forbidden(f"Client '{client.name}' may not receive PII (it sent an RDT).")

    def data_elements(self, client: Client | None) -> frozenset[str] | None:
        """The PII a client may receive; None: whatever the account and request allow."""
        if client is None:
            return None
        if not client.pii:
            return frozenset()
        if client.data_elements is None:
            return None
        return frozenset(client.data_elements) & frozenset(DATA_ELEMENTS)
