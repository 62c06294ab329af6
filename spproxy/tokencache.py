"""Tokens kept once per key: LWA access tokens, Restricted Data Tokens and STS credentials alike.

    fresh       more than `refresh_ahead_s` before it expires: the stored value
    renewing    more than `margin_s` before: the stored value, while one fetch renews it in the
                background
    otherwise   wait for the one fetch in flight for the key, however many requests wait
    failing     a fetch that fails with one of `stale_on` while the stored value has not
                expired yet: the stored value (Amazon is down; what we hold still works)

A fetch may serve several keys at once (an RDT minted for a bundle of resources): it is in
flight under each of them, and its result is stored under each it `serves` (an RDT another
replica minted serves the one resource it was asked for). Tasks are kept referenced until done, and
waiters are shielded from each other: one that gives up does not cancel the fetch the others
await. The store is any mapping: a dict, or a bounded cache that drops what expired.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger("spproxy.tokencache")


class Expiring(Protocol):
    @property
    def expires_at(self) -> float: ...  # the clock's time


K = TypeVar("K")
V = TypeVar("V", bound=Expiring)


@dataclass(frozen=True, slots=True)
class _Fetch(Generic[V]):
    task: asyncio.Task[V]
    alone: bool  # fetched for this one key, not for a group


class TokenCache(Generic[K, V]):
    def __init__(
        self,
        *,
        margin_s: float,
        refresh_ahead_s: float,
        clock: Callable[[], float],
        stale_on: tuple[type[Exception], ...] = (),
        what: str = "token",
        store: MutableMapping[K, V] | None = None,
        serves: Callable[[K, V], bool] = lambda _key, _value: True,
    ) -> None:
        self._margin_s = margin_s
        self._refresh_ahead_s = refresh_ahead_s
        self._clock = clock
        self._stale_on = stale_on
        self._what = what
        self.store: MutableMapping[K, V] = store if store is not None else {}
        self._serves = serves
        self._fetching: dict[K, _Fetch[V]] = {}

    def fresh(self, key: K) -> V | None:
        """The stored value while no renewal is due: the hot path, without closures or awaits."""
        stored = self.store.get(key)
        return stored if stored is not None and self.is_fresh(stored) else None

    def is_fresh(self, value: V) -> bool:
        """Whether `value` needs no renewal yet."""
        return value.expires_at - self._refresh_ahead_s > self._clock()

    def renews(self, key: K, value: V) -> bool:
        """Whether `value` (another replica's, say) may replace what is stored under `key`:
        fresh, and newer (the keeper renews before requests would)."""
        held = self.store.get(key)
        return self.is_fresh(value) and (held is None or value.expires_at > held.expires_at)

    async def get(
        self, key: K, *, wait: Callable[[], Awaitable[V]], renew: Callable[[], object]
    ) -> tuple[V, bool]:
        """The value for `key`, and whether this call waited for a fetch. `wait` fetches (or
        joins a fetch) and awaits it; `renew` starts one in the background."""
        stored = self.store.get(key)
        now = self._clock()
        if stored is not None and stored.expires_at - self._refresh_ahead_s > now:
            return stored, False
        if stored is not None and stored.expires_at - self._margin_s > now:
            if key not in self._fetching:
                renew()  # this request goes on with the stored value
            return stored, False
        try:
            return await wait(), True
        except self._stale_on:
            if stored is None or stored.expires_at <= self._clock():
                raise
            log.warning(
                "%s failing: still using one valid until %.0f", self._what, stored.expires_at
            )
            return stored, False

    def fetching(self, key: K, *, alone: bool = False) -> asyncio.Task[V] | None:
        """The fetch in flight for `key` (for it alone, if `alone`), if any."""
        fetch = self._fetching.get(key)
        if fetch is None or (alone and not fetch.alone):
            return None
        return fetch.task

    def start(
        self, keys: Sequence[K], make: Callable[[], Coroutine[Any, Any, V]]
    ) -> asyncio.Task[V]:
        """A fetch for `keys`; its result is stored under each of them."""
        task = asyncio.create_task(make())
        for key in keys:
            self._fetching[key] = _Fetch(task, alone=len(keys) == 1)
        task.add_done_callback(lambda done: self._finished(keys, done))
        return task

    async def fetch(self, key: K, make: Callable[[], Coroutine[Any, Any, V]]) -> V:
        """Join the fetch in flight for `key`, or start one, and await it."""
        task = self.fetching(key) or self.start([key], make)
        # shield: a waiter that gives up must not cancel the fetch the others await
        return await asyncio.shield(task)

    def drop(self, unwanted: Callable[[K, V], bool]) -> None:
        """Forget the stored values `unwanted` names (revoked, of a changed account, ...)."""
        for key in [key for key, value in self.store.items() if unwanted(key, value)]:
            del self.store[key]

    async def aclose(self) -> None:
        """Abandon the fetches in flight (at shutdown, before the session closes)."""
        tasks = {fetch.task for fetch in self._fetching.values()}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, keys: Sequence[K], task: asyncio.Task[V]) -> None:
        for key in keys:
            fetch = self._fetching.get(key)
            if fetch is not None and fetch.task is task:
                del self._fetching[key]
        if not task.cancelled() and task.exception() is None:  # retrieved: no stray warning
            for key in keys:
                if self._serves(key, task.result()):
                    self.store[key] = task.result()
