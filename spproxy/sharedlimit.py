"""Pacing across replicas: one bucket per (account, operation) in Redis, for every replica.

A usage plan belongs to the application and the selling partner, not to a process, so N
replicas of spproxy must stay within one plan together. Each reservation is one round trip: an
EVALSHA of `SCRIPT` (registered once; redis-py loads it again if Redis has lost it) on the
bucket's hash `bucket:ACCOUNT:OPERATION` in the app's namespace.

The script is GCRA, the generic cell rate algorithm, with reservations. A bucket is one time,
`tat`, the theoretical arrival time: when the bucket would be full again if no call came. A plan
of `rate` per second and `burst` spaces calls `interval` = 1/rate apart and lets a call go up to
`burst` intervals ahead of `tat`. A call moves `tat` to max(tat, now) + interval and goes at
`tat - burst * interval`: at once if that has passed, else that many seconds later. So a call
knows its slot in one round trip, and calls keep the order in which Redis ran their scripts.
Time is Redis's own (`TIME`): the replicas' clocks do not matter. A call whose slot lies more
than `longest_wait_s` away is refused and reserves nothing. The hash expires when the bucket is
full again (nothing is lost: an absent bucket is a full one), or `keep_learned_s` after its last
call if its rate was learned.

The bucket's rate is stored with it: the plan of the replica that made it, until a replica
learns one from Amazon's `x-amzn-RateLimit-Limit` (`learn`); from then on it is every replica's
rate, whatever plan a replica passes (each reservation answers the rate in effect). Only a
learned rate changes a stored one, so replicas whose plans differ (a reload in progress) do not
toggle it. A learned rate spreads the calls the bucket still owes at the new rate (`tat` is
scaled), as the local bucket does, with one exception: when the rate rises, the slots already
given out keep their times (no replica plans them again), so new calls go after the last of them,
one new interval on; a sequence that kept to the slower rate keeps to the faster one, so Amazon's
bucket then has at least what this one computes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spproxy.operations import QualifiedName

if TYPE_CHECKING:
    import redis.asyncio

    from spproxy.sharedstate import SharedState

SCRIPT = """
-- KEYS[1]: the bucket's hash. ARGV: mode, rate (per second), burst, longest wait (s), how long a
-- learned rate outlives an idle bucket (ms). Returns {granted 1 or 0, wait (us), rate in effect}.
local mode = ARGV[1]
local rate, burst, longest = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local keep_ms = tonumber(ARGV[5])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'learned')
local tat = math.max(tonumber(state[1]) or now, now)
local current = tonumber(state[2]) or rate
if current ~= current or current <= 0 or current == math.huge then current = rate end  -- garbage
local learned = state[3] == '1'
if mode == 'learn' then
  -- The calls still owed, spread at the new rate; when it is faster, after the slots given out.
  local spread = now + (tat - now) * current / rate
  if rate > current then
    spread = math.max(spread, tat - burst / current + burst / rate)
  end
  tat, current, learned = spread, rate, true
end
local interval = 1 / current
local wait = 0
if mode == 'reserve' then
  wait = math.max(0, tat + interval - burst * interval - now)
  if wait > longest then  -- refused: nothing stored
    return {0, math.ceil(wait * 1000000), string.format('%.17g', current)}
  end
  tat = tat + interval
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.6f', tat),
  'rate', string.format('%.17g', current), 'learned', learned and '1' or '0')
-- Full again at tat, when an absent bucket is the same; a learned rate is kept longer.
local expiry_ms = math.ceil((tat - now) * 1000)
if learned then expiry_ms = math.max(expiry_ms, keep_ms) end
redis.call('PEXPIRE', KEYS[1], math.max(expiry_ms, 1))
return {1, math.ceil(wait * 1000000), string.format('%.17g', current)}
"""
# The script's modes: take the bucket's next slot; store a rate Amazon stated.
RESERVE, LEARN = "reserve", "learn"
# Amazon changes a seller's plan rarely: a learned rate outlives quiet spells, not idle forever.
KEEP_LEARNED_S = 3600.0
# Packed EVALSHA commands kept for reuse: one per bucket and plan in use, so a few in practice.
COMMANDS_KEPT = 4096


@dataclass(frozen=True, slots=True)
class Slot:
    """A reservation's answer: when the call may go, or the wait it was refused for."""

    granted: bool  # False: beyond the longest wait, nothing reserved
    wait_s: float  # from now (Redis's now) to the slot; 0: go at once
    rate: float  # the bucket's rate in effect: a learned one, else the plan's


class SharedBuckets:
    def __init__(self, state: SharedState, *, keep_learned_s: float = KEEP_LEARNED_S) -> None:
        self._state = state
        self._script = state.client.register_script(SCRIPT)
        # Through the state's pipe where it has one: a reservation runs on every request.
        self._piped = None if state.pipe is None else state.pipe.script(SCRIPT)
        self._commands: dict[tuple[Any, ...], bytes] = {}
        self._keep_learned_ms = round(keep_learned_s * 1000)

    def key(self, account: str, operation: QualifiedName) -> str:
        """The bucket's Redis key (operation names hold no ':', so keys cannot collide)."""
        return self._state.key("bucket", account, str(operation))

    async def reserve(
        self,
        account: str,
        operation: QualifiedName,
        rate: float,
        burst: int,
        longest_wait_s: float,
    ) -> Slot | None:
        """The next slot of the bucket every replica shares; None: Redis is unavailable."""
        return await self._run(account, operation, RESERVE, rate, burst, longest_wait_s)

    async def learn(self, account: str, operation: QualifiedName, rate: float, burst: int) -> bool:
        """Make `rate` the bucket's rate for every replica; False: Redis is unavailable."""
        return await self._run(account, operation, LEARN, rate, burst, 0.0) is not None

    async def _run(
        self,
        account: str,
        operation: QualifiedName,
        mode: str,
        rate: float,
        burst: int,
        longest_wait_s: float,
    ) -> Slot | None:
        reply = await self._state.call(
            self._runner(account, operation, mode, rate, burst, longest_wait_s)
        )
        if reply is None:
            return None
        granted, wait_us, rate_in_effect = reply
        return Slot(granted == 1, wait_us / 1e6, float(rate_in_effect))

    def _runner(
        self, account: str, operation: QualifiedName, *plan: str | float
    ) -> Callable[[redis.asyncio.Redis], Awaitable[Any]]:
        """The script's call for `plan` (mode, rate, burst, longest wait) on the bucket."""
        piped = self._piped
        if piped is None:
            key, args = self.key(account, operation), (*plan, self._keep_learned_ms)
            return lambda client: self._script(keys=[key], args=args, client=client)
        known = (account, operation, *plan)
        command = self._commands.get(known)
        if command is None:
            if len(self._commands) >= COMMANDS_KEPT:
                self._commands.clear()
            command = self._commands[known] = piped.command(
                [self.key(account, operation)], (*plan, self._keep_learned_ms)
            )
        return lambda _: piped(command)
