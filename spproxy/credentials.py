"""Which access token a request carries: LWA, grantless, a Restricted Data Token, or the client's.

    ordinary operation                 -> the seller's LWA token
    grantless operation                -> a client_credentials token with the operation's scope
    restricted operation               -> an RDT for the generic path (one serves every id), with
                                          the account's data elements, narrowed per request by
                                          x-spproxy-data-elements (`none`: the LWA token, no PII)
    getReportDocument                  -> an RDT for the document's own path if its report type
                                          is restricted; the LWA token if not; if unknown, the
                                          LWA token first and an RDT after Amazon's 403
    x-spproxy-rdt: TOKEN (delegatee)   -> that RDT, used as given
    restricted, sandbox account        -> the seller's LWA token where an RDT would be minted
                                          (`sandbox-lwa`; see below)

Sandbox accounts (`sandbox: true`) mint no RDTs: Amazon's static sandbox answers the Tokens API
only the two request bodies its model publishes (`x-amzn-api-sandbox`), and "Could not match input
arguments" to any other (selling-partner-api-models issue 434), so every mint would fail and every
restricted call with it. The sandbox matches requests, not token kinds ("pattern matching to
return a specified response when the specified parameters are present", SP-API Developer Guide,
"Selling Partner API Sandbox"), so the account's LWA token gets the restricted operations'
examples; `x-spproxy-credential: sandbox-lwa` says that this is what went out.

A refused mint is a 502, or, with the account's `restricted_fallback: lwa`, the LWA token (Amazon
then answers without PII, or refuses).

After Amazon's answer, `after_refusal` says whether one more try is worth it: a 403 for a report
document of unknown type (mint for it), or a 401/403 saying the token expired or was revoked
(drop it, fetch a fresh one). The caller sends once more, at most.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from multidict import CIMultiDictProxy

from spproxy.config import DATA_ELEMENTS, Account
from spproxy.errors import BadRequest, RdtRefused
from spproxy.headers import DATA_ELEMENTS_HEADER, DELEGATED_RDT_HEADER, REPORT_TYPE_HEADER
from spproxy.lwa import LwaTokens
from spproxy.operations import Kind, Operation
from spproxy.rdt import RestrictedDataTokens
from spproxy.reports import ReportTypes
from spproxy.target import Target
from spproxy.tokensapi import Resource
from spproxy.wire import UpstreamAnswer

log = logging.getLogger("spproxy.credentials")

SANDBOX_LWA = "sandbox-lwa"  # the LWA token, sent to a sandbox in place of an RDT


@dataclass(frozen=True, slots=True)
class Credential:
    token: str
    kind: str  # lwa | grantless | rdt-cached | rdt-minted | delegated | sandbox-lwa
    retry_with_rdt: Resource | None = None  # an RDT to try if Amazon refuses this with 403
    resource: Resource | None = None  # what an RDT was minted for
    scope: str | None = None  # what a grantless token was exchanged for

    @property
    def token_kind(self) -> str:
        """What the access log calls it: lwa, grantless, rdt, delegated or sandbox-lwa."""
        return "rdt" if self.kind.startswith("rdt") else self.kind


class Credentials:
    def __init__(
        self, lwa: LwaTokens, rdts: RestrictedDataTokens, report_types: ReportTypes
    ) -> None:
        self._lwa = lwa
        self._rdts = rdts
        self.report_types = report_types

    def cached(self, account: Account, operation: Operation | None) -> Credential | None:
        """The seller's fresh LWA token for an ordinary operation (most requests), with no
        coroutine; None: `choose` decides."""
        if operation is not None and operation.kind is not Kind.ORDINARY:
            return None
        token = self._lwa.fresh_seller_token(account)
        return None if token is None else Credential(token, "lwa")

    async def choose(
        self,
        account: Account,
        operation: Operation | None,
        target: Target,
        headers: CIMultiDictProxy[str],
        allowed: frozenset[str] | None = None,
    ) -> Credential:
        """`allowed`: the data elements the calling client may receive (None: no such limit)."""
        if operation is None or operation.kind is Kind.ORDINARY:
            return await self._seller(account)
        if operation.kind is Kind.GRANTLESS:
            assert operation.scope is not None
            return await self._grantless(operation.scope)
        delegated = headers.get(DELEGATED_RDT_HEADER)
        if delegated:
            return Credential(delegated, "delegated")
        resource = self._resource(account, operation, target, headers, allowed)
        if resource is None:
            return await self._seller(account)
        if operation.restriction is not None and not operation.restriction.generic_path:
            document_id = target.path.rsplit("/", 1)[-1]
            hint = headers.get(REPORT_TYPE_HEADER)
            restricted = await self.report_types.recall(document_id, hint)
            if restricted is None and not account.sandbox:  # not known yet: Amazon's 403 will tell
                return replace(await self._seller(account), retry_with_rdt=resource)
            if not restricted:
                return await self._seller(account)
        if account.sandbox:
            return await self._seller(account, SANDBOX_LWA)
        return await self.restricted(account, resource)

    async def restricted(self, account: Account, resource: Resource) -> Credential:
        """An RDT for the resource, or the LWA fallback the account allows."""
        try:
            token, minted = await self._rdts.token(account, resource)
        except RdtRefused as refusal:
            if account.restricted_fallback != "lwa":
                raise
            log.warning(
                "account '%s': %s Using the LWA token (restricted_fallback: lwa): no PII.",
                account.name,
                refusal.message,
            )
            return await self._seller(account)
        return Credential(token, "rdt-minted" if minted else "rdt-cached", resource=resource)

    async def after_refusal(
        self, account: Account, credential: Credential, answer: UpstreamAnswer
    ) -> Credential | None:
        """Another credential worth one more try after Amazon's answer, or None."""
        if answer.response.status == 403 and credential.retry_with_rdt is not None:
            document_id = credential.retry_with_rdt.path.rsplit("/", 1)[-1]
            await self.report_types.mark_restricted(document_id)
            return await self.restricted(account, credential.retry_with_rdt)
        if not answer.token_rejected:
            return None
        log.info(
            "account '%s': Amazon rejected the %s token; fetching a fresh one",
            account.name,
            credential.token_kind,
        )
        if credential.resource is not None:
            await self._rdts.invalidate(account, credential.token)
            return await self.restricted(account, credential.resource)
        if credential.scope is not None:
            await self._lwa.invalidate_grantless_token(credential.scope, credential.token)
            return Credential(
                await self._lwa.grantless_token(credential.scope),
                "grantless",
                scope=credential.scope,
            )
        if credential.kind in ("lwa", SANDBOX_LWA):
            await self._lwa.invalidate_seller_token(account, credential.token)
            return await self._seller(account, credential.kind)
        return None  # a delegated RDT: only its delegator can renew it

    async def _seller(self, account: Account, kind: str = "lwa") -> Credential:
        return Credential(await self._lwa.seller_token(account), kind)

    async def _grantless(self, scope: str) -> Credential:
        return Credential(await self._lwa.grantless_token(scope), "grantless", scope=scope)

    def _resource(
        self,
        account: Account,
        operation: Operation,
        target: Target,
        headers: CIMultiDictProxy[str],
        allowed: frozenset[str] | None,
    ) -> Resource | None:
        """The restricted resource to mint for, or None when no PII is asked for or allowed."""
        restriction = operation.restriction
        assert restriction is not None
        wanted = _requested_data_elements(headers.get(DATA_ELEMENTS_HEADER))
        if (wanted is not None and not wanted) or (allowed is not None and not allowed):
            return None  # x-spproxy-data-elements: none, or a client that may receive no PII
        path = operation.path if restriction.generic_path else target.path
        if not restriction.data_elements:
            return Resource(operation.method, path)
        elements = set(account.data_elements) & restriction.data_elements
        for narrowing in (wanted, allowed):
            if narrowing is not None:
                elements &= narrowing
        if not elements:
            return None  # nothing the operation may release: Amazon answers without PII
        return Resource(operation.method, path, tuple(sorted(elements)))


def _requested_data_elements(header: str | None) -> set[str] | None:
    """The data elements a request narrows to; None when it does not say."""
    if header is None:
        return None
    names = {name.strip() for name in header.split(",") if name.strip()}
    if names == {"none"}:
        return set()
    unknown = names - set(DATA_ELEMENTS)
    if unknown or not names:
        raise BadRequest(
            f"{DATA_ELEMENTS_HEADER} names unknown data elements: {', '.join(sorted(unknown))}.",
            f"Use 'none' or a comma-separated list of {', '.join(DATA_ELEMENTS)}.",
        )
    return names
