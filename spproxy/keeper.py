"""Every account's LWA token kept fresh on a timer, not by the next request.

An idle proxy must still hold valid tokens, and a proxy whose LWA exchange failed must recover
by itself: a Kubernetes Service sends no traffic to an unready pod, so a proxy that waited for a
request to retry would never become ready again. So each account is scheduled:

    start        warm-up: accounts in config order, at most `start_rate` starts a second
    success      again `refresh_ahead_s` (plus jitter) before the new token expires
    failure      again after a backoff: `first_retry_s`, doubled per failure up to
                 `max_retry_s`, with jitter so many accounts do not retry in step

and at most `concurrency` exchanges run at once, so start-up with thousands of accounts does not
burst Amazon's LWA. One timer and a heap of due times serve every account; a refresh becomes a
task only when one of those `concurrency` slots is free, so an LWA slower than the schedule (or
down, answering after a timeout) leaves accounts waiting in the heap, not thousands of tasks
waiting for a slot. Requests never wait for the keeper: a request that needs a token nobody holds
yet exchanges for it (joining the keeper's exchange when one is in flight).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable

from spproxy.config import Account
from spproxy.errors import TokenExchangeError
from spproxy.lwa import LwaTokens

log = logging.getLogger("spproxy.keeper")


class TokenKeeper:
    def __init__(
        self,
        tokens: LwaTokens,
        *,
        concurrency: int = 8,
        start_rate: float = 50.0,
        refresh_ahead_s: float = 900.0,
        first_retry_s: float = 1.0,
        max_retry_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._tokens = tokens
        self._concurrency = concurrency
        self._start_rate = start_rate
        self._refresh_ahead_s = refresh_ahead_s
        self._first_retry_s = first_retry_s
        self._max_retry_s = max_retry_s
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._accounts: dict[str, Account] = {}
        self._due: list[tuple[float, int, str]] = []  # (when, order, account name): a heap
        self._failures: dict[str, int] = {}  # account name -> exchanges failed in a row
        self._order = 0
        self._running: set[asyncio.Task[None]] = set()  # references keep the tasks alive
        self._rescheduled = asyncio.Event()  # wakes the timer for an earlier due time
        self._loop_task: asyncio.Task[None] | None = None

    def start(self, accounts: Iterable[Account]) -> None:
        """Schedule every account (warm-up) and start the timer."""
        self.reconfigure(accounts)
        self._loop_task = asyncio.create_task(self._run())

    def reconfigure(self, accounts: Iterable[Account]) -> None:
        """New or changed accounts are exchanged soon; removed ones are dropped when due."""
        now, spread = self._clock(), 0
        fresh = {account.name: account for account in accounts}
        for account in fresh.values():
            if self._accounts.get(account.name) != account:
                self._schedule(account.name, now + spread / self._start_rate)
                spread += 1
        self._accounts = fresh
        self._failures = {name: n for name, n in self._failures.items() if name in fresh}

    async def aclose(self) -> None:
        tasks = {*self._running, *([self._loop_task] if self._loop_task else [])}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def idle(self) -> None:
        """Until no refresh runs and none is due (a test's clock stands still meanwhile)."""
        while self._running or (self._due and self._due[0][0] <= self._clock()):
            await asyncio.gather(*self._running, return_exceptions=True)
            await asyncio.sleep(0)  # the timer starts what is due

    def _schedule(self, name: str, when: float) -> None:
        self._order += 1
        heapq.heappush(self._due, (when, self._order, name))
        self._rescheduled.set()

    async def _run(self) -> None:
        while True:
            now = self._clock()
            free = self._concurrency - len(self._running)
            while free > 0 and self._due and self._due[0][0] <= now:
                _, _, name = heapq.heappop(self._due)
                account = self._accounts.get(name)
                if account is not None:
                    task = asyncio.create_task(self._refresh(account))
                    self._running.add(task)
                    task.add_done_callback(self._finished)
                    free -= 1
            # Sleep until the next due time, or until something new is scheduled or a slot frees.
            self._rescheduled.clear()
            waits: set[asyncio.Future[object]] = {asyncio.ensure_future(self._rescheduled.wait())}
            if self._due and free > 0:
                waits.add(asyncio.ensure_future(self._sleep(max(self._due[0][0] - now, 0.0))))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._rescheduled.set()  # a slot is free: the timer starts what is due

    async def _refresh(self, account: Account) -> None:
        if self._accounts.get(account.name) != account:
            return  # changed or removed since it was due (a reload in between)
        try:
            await self._tokens.refresh(account)
        except TokenExchangeError:  # logged, and shown by /ready, by LwaTokens
            failed = self._failures.get(account.name, 0) + 1
            self._failures[account.name] = failed
            backoff = min(self._max_retry_s, self._first_retry_s * 2 ** (failed - 1))
            self._schedule(account.name, self._clock() + backoff * (0.5 + self._jitter() / 2))
            return
        self._failures.pop(account.name, None)
        expiry = self._tokens.expiry(account) or self._clock()
        ahead = self._refresh_ahead_s * (1 + self._jitter() / 10)
        self._schedule(account.name, max(expiry - ahead, self._clock() + self._first_retry_s))
