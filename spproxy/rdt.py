"""Restricted Data Tokens: one mint serves an account's restricted operations for the hour.

Operations that return buyer PII need an RDT from the Tokens API (createRestrictedDataToken)
instead of the LWA token. An RDT minted for the generic path (`/orders/v0/orders/{orderId}`)
serves every order id until it expires (`expiresIn`, an hour), and one mint may name up to 50
resources (Amazon's Tokens API use-case guide). So we cache per (account, resource), keep one
mint in flight per resource however many requests wait, and bundle into each mint the other
resources the account used recently, so that one Tokens call serves them all for the hour.

In the last `refresh_ahead_s` of an RDT's life the next request mints in the background and is
served the current RDT; while the Tokens API is failing, an RDT that has not expired keeps serving.

A bundle that Amazon refuses (the app lacks the role for one of its resources) is retried with
only the resource the waiting request needs; a resource refused on its own is remembered for a
few minutes and left out of bundles, so one missing role never blocks the account's other
operations, and the 1-per-second Tokens API is not hammered with mints that will fail.

With `shared`, replicas share RDTs and refusals through Redis (`sharedtokens`): a bundle's RDT is
stored under each resource it serves, and one replica mints for a resource while the others
take its RDT from Redis; an RDT taken from Redis serves only the resource it was asked for.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from cachetools import TLRUCache

from spproxy.config import Account
from spproxy.errors import (
    GatewayTimeout,
    Outcome,
    RdtRefused,
    TokenExchangeError,
    TokensApiUnavailable,
    UpstreamUnreachable,
    outcome,
)
from spproxy.sharedfacts import LearnedFacts
from spproxy.sharedtokens import SharedTokens, fingerprint
from spproxy.tokencache import TokenCache
from spproxy.tokensapi import Mint, Rdt, Resource

if TYPE_CHECKING:
    from spproxy.sharedstate import SharedState

log = logging.getLogger("spproxy.rdt")

# Failures that say nothing about the RDT: while they last, one that has not expired serves on.
TRANSIENT = (TokenExchangeError, TokensApiUnavailable, UpstreamUnreachable, GatewayTimeout)
RdtKey = tuple[str, Resource]  # (account name, resource)


def _expiry(_key: RdtKey, rdt: Rdt, _now: float) -> float:
    return rdt.expires_at


def _resource_name(resource: Resource) -> str:
    """A resource in Redis keys: hashed, as report document paths are the clients' to choose."""
    return fingerprint(resource.method, resource.path, *resource.data_elements, hex_digits=32)


def _shared_key(shared: SharedTokens, account: Account, resource: Resource) -> str:
    """An RDT's Redis key: found only by the refresh token and endpoint it was minted with."""
    minted_with = fingerprint(account.refresh_token.reveal(), account.endpoint)
    return shared.state.key("rdt", account.name, minted_with, _resource_name(resource))


class RestrictedDataTokens:
    """The RDTs of every account, each minted once for the hour (see the module's docstring)."""

    def __init__(
        self,
        mint: Mint,
        *,
        bundle_limit: int = 50,
        document_limit: int = 1_000,
        margin_s: float = 60.0,
        refresh_ahead_s: float = 300.0,
        recent_s: float = 3600.0,
        refusal_memory_s: float = 300.0,
        clock: Callable[[], float] = time.time,
        shared: SharedState | None = None,  # Redis shared with other replicas
    ) -> None:
        self._mint = mint
        self._bundle_limit = bundle_limit
        self._recent_s = recent_s
        self._clock = clock
        self._store = _Store(document_limit, clock)
        self._cache: TokenCache[RdtKey, Rdt] = TokenCache(
            margin_s=margin_s,
            refresh_ahead_s=refresh_ahead_s,
            clock=clock,
            stale_on=TRANSIENT,
            what="the Tokens API",
            store=self._store,
            serves=lambda key, rdt: key[1] in rdt.resources,
        )
        self._recent: dict[str, dict[Resource, float]] = {}  # per account: resource -> last use
        self._refused: LearnedFacts[RdtKey, RdtRefused] = LearnedFacts(
            maxsize=4096,
            ttl_s=refusal_memory_s,
            kind="rdt-refused",
            name=lambda key: f"{key[0]}:{_resource_name(key[1])}",
            encode=lambda refusal: f"{refusal.message}\0{refusal.details}".encode(),
            decode=lambda said: RdtRefused(*said.decode(errors="replace").split("\0", 1)),
            shared=shared,
            clock=clock,
        )
        self._shared = None if shared is None else SharedTokens(shared, clock=clock)
        # Mints: ok, refused (by the Tokens API, or by LWA for the call to it), unavailable
        self.outcomes: Counter[Outcome] = Counter()

    @property
    def mints(self) -> int:
        """Successful mints (this process's own, not those of other replicas)."""
        return self.outcomes["ok"]

    async def token(self, account: Account, resource: Resource) -> tuple[str, bool]:
        """(RDT, whether it was minted for this request) for a resource of the account."""
        key = (account.name, resource)
        self._remember_use(account.name, resource)
        fresh = self._cache.fresh(key)
        if fresh is not None:
            return fresh.value, False
        rdt, minted = await self._cache.get(
            key,
            wait=lambda: self._minted_or_refused(account, resource),
            renew=lambda: self._start(account, (resource, *self._companions(account, resource))),
        )
        return rdt.value, minted

    async def invalidate(self, account: Account, token: str) -> None:
        """Amazon says this RDT is no longer valid: forget it for every resource it served."""

        def refused(key: RdtKey, rdt: Rdt) -> bool:
            return key[0] == account.name and rdt.value == token

        if self._shared is not None:  # first: a request meanwhile must not take it from Redis
            held = [key[1] for key, rdt in self._store.items() if refused(key, rdt)]
            keys = [_shared_key(self._shared, account, resource) for resource in held]
            await self._shared.discard(keys, token)
        self._cache.drop(refused)

    def forget(self, account: str) -> None:
        """The account's refresh token changed or the account is gone."""
        self._cache.drop(lambda key, _: key[0] == account)
        self._recent.pop(account, None)

    async def _minted_or_refused(self, account: Account, resource: Resource) -> Rdt:
        key = (account.name, resource)
        refused = await self._refused.recall(key)  # here, or by another replica
        if refused is not None:
            raise refused
        try:
            return await self._minted(account, resource, bundle=True)
        except RdtRefused as refusal:
            if not refusal.bundled:  # refused for this resource itself
                await self._refused.learn([(key, refusal)])
                raise
        # A bundle was refused for someone's resource: a mint of this one alone tells whose.
        try:
            return await self._minted(account, resource, bundle=False)
        except RdtRefused as refusal:
            await self._refused.learn([(key, refusal)])
            raise

    def counts(self) -> Counter[str]:
        """Cached RDTs per account."""
        return Counter(name for name, _ in self._store)

    def snapshot(self, page: int) -> dict[str, Any]:
        """What is cached, for /_spproxy/status: counts, and the first `page` entries."""
        entries = list(itertools.islice(self._store.items(), page))
        return {
            "cached": len(self._store),
            "report_documents": len(self._store.documents),
            "report_documents_limit": self._store.documents.maxsize,
            "mints": self.mints,
            "page": [
                {"account": name, **resource.as_json(), "expires_at": rdt.expires_at}
                for (name, resource), rdt in entries
            ],
        }

    async def aclose(self) -> None:
        await self._cache.aclose()

    async def _minted(self, account: Account, resource: Resource, *, bundle: bool) -> Rdt:
        """Join the mint in flight for the resource (alone only, unless `bundle`), or start one."""
        # A mint that ended while this request awaited (the refusals in Redis) already serves it.
        if (fresh := self._cache.fresh((account.name, resource))) is not None:
            return fresh
        task = self._cache.fetching((account.name, resource), alone=not bundle)
        if task is None:
            companions = self._companions(account, resource) if bundle else []
            task = self._start(account, (resource, *companions))
        # shield: a waiter that gives up must not cancel the mint the others await
        rdt = await asyncio.shield(task)
        if resource in rdt.resources:
            return rdt
        # The RDT of another resource's fetch, taken from Redis: it serves only that resource.
        return await self._minted(account, resource, bundle=False)

    def _start(self, account: Account, resources: tuple[Resource, ...]) -> asyncio.Task[Rdt]:
        keys = [(account.name, resource) for resource in resources]
        return self._cache.start(keys, lambda: self._obtained(account, resources))

    async def _obtained(self, account: Account, resources: tuple[Resource, ...]) -> Rdt:
        """An RDT for `resources[0]` newer than the one held: another replica's from Redis (for
        that resource alone), or minted for them all and shared under each."""
        if self._shared is None:
            return await self._mint_logged(account, resources)
        wanted, shared = resources[0], self._shared
        return await shared.obtain(
            _shared_key(shared, account, wanted),
            lambda: self._mint_logged(account, resources),
            build=lambda value, expires_at: Rdt(value, expires_at, (wanted,)),
            usable=lambda rdt: self._cache.renews((account.name, wanted), rdt),
            served=lambda rdt: [_shared_key(shared, account, r) for r in rdt.resources],
        )

    async def _mint_logged(self, account: Account, resources: tuple[Resource, ...]) -> Rdt:
        try:
            rdt = await self._mint(account, resources)
        except Exception as error:  # a cancellation is not an outcome: Amazon said nothing
            self.outcomes[outcome(error)] += 1
            raise
        self.outcomes["ok"] += 1
        log.debug(
            "RDT minted for account '%s': %s",
            account.name,
            ", ".join(f"{r.method} {r.path} {list(r.data_elements)}" for r in resources),
        )
        return rdt

    def _remember_use(self, account: str, resource: Resource) -> None:
        if "{" not in resource.path:
            return  # a specific path (a report document) is used once: never worth bundling
        recent = self._recent.setdefault(account, {})
        recent.pop(resource, None)
        recent[resource] = self._clock()  # most recent last
        if len(recent) > 4 * self._bundle_limit:
            del recent[next(iter(recent))]

    def _companions(self, account: Account, resource: Resource) -> list[Resource]:
        """Recently used resources to mint along with `resource`, most recent first."""
        oldest = self._clock() - self._recent_s
        taken = {(resource.method, resource.path)}
        companions: list[Resource] = []
        for other, used in reversed(self._recent.get(account.name, {}).items()):
            key = (account.name, other)
            if len(companions) == self._bundle_limit - 1 or used < oldest:
                break
            fetching = self._cache.fetching(key) is not None
            if (other.method, other.path) in taken or fetching or key in self._refused:
                continue
            taken.add((other.method, other.path))
            companions.append(other)
        return companions


class _Store(MutableMapping[RdtKey, Rdt]):
    """Where RDTs are kept. Those for path templates are bounded by the accounts and the
    operation table; those for one report document each are keyed by paths clients choose, so
    at most `document_limit` of them are kept, the least recently used going first. Expired
    RDTs leave both at once."""

    def __init__(self, document_limit: int, clock: Callable[[], float]) -> None:
        self.templates: TLRUCache[RdtKey, Rdt] = TLRUCache(
            maxsize=math.inf, ttu=_expiry, timer=clock
        )
        self.documents: TLRUCache[RdtKey, Rdt] = TLRUCache(
            maxsize=document_limit, ttu=_expiry, timer=clock
        )

    def _of(self, key: RdtKey) -> TLRUCache[RdtKey, Rdt]:
        return self.templates if "{" in key[1].path else self.documents

    def __getitem__(self, key: RdtKey) -> Rdt:
        return self._of(key)[key]

    def __setitem__(self, key: RdtKey, rdt: Rdt) -> None:
        self._of(key)[key] = rdt

    def __delitem__(self, key: RdtKey) -> None:
        del self._of(key)[key]

    def __iter__(self) -> Iterator[RdtKey]:
        return itertools.chain(iter(self.templates), iter(self.documents))

    def __len__(self) -> int:
        return len(self.templates) + len(self.documents)
