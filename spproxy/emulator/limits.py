"""SP-API usage plans, enforced by the emulated Amazon: a token bucket per caller and operation.

Opt-in (`EmulatorConfig.rate_limits`). The plans come from the package's data file
`spproxy/data/operations.json`, the table generated from Amazon's models (rate in requests per
second, burst), looked up by the operation's method and path template; `EmulatorConfig.usage_plans`
overrides them by operation name (every operation of that name, in whichever API). Operations whose
row states no plan, the few the table lacks (cancelShipmentOld) and the emulator's `/_emulator/*`
helpers have no limit unless overridden. In the static sandbox mode
(`EmulatorConfig.static_sandbox`) every operation of Amazon's has the sandbox's plan instead,
SANDBOX_PLAN (overrides still win).

A bucket is kept per (selling partner of the token, or the application for a grantless token;
operation) and starts full with `burst` tokens; it refills continuously at `rate` tokens per
second, up to `burst`, on the clock `EmulatorConfig.clock` (time.monotonic unless a test injects a
fake). A call that finds less than one token is refused with 429 QuotaExceeded and takes nothing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

from spproxy.emulator.errors import SpapiError
from spproxy.emulator.operations import Operation

QUOTA_EXCEEDED_MESSAGE = "You exceeded your quota for the requested resource."
RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"

# Refills are sums of float products (0.0167 * 60); a token short of 1 by rounding is a token.
_EPSILON = 1e-9


@dataclass(frozen=True)
class UsagePlan:
    rate: float  # tokens per second
    burst: int  # bucket size

    @property
    def header(self) -> str:
        """`x-amzn-RateLimit-Limit` as Amazon writes it, e.g. "0.0167"."""
        return f"{self.rate:g}"


# Amazon's sandbox endpoints meter every call alike, whatever the operation's production plan:
# "Calls to sandbox endpoints are subject to these throttling limits: rate = five requests per
# second; burst = 15" (SP-API Developer Guide, "Selling Partner API Sandbox"). Amazon's usage
# plans as spproxy paces to them live in spproxy/operations.py; this is the emulated Amazon's own
# copy, so that the two can disagree and a test see it.
SANDBOX_PLAN = UsagePlan(5.0, 15)


@functools.cache
def model_usage_plans() -> Mapping[tuple[str, str], UsagePlan]:
    """(method, path template) -> the plan Amazon's model states, for rows that state one."""
    table = resources.files("spproxy").joinpath("data/operations.json").read_text()
    plans: dict[tuple[str, str], UsagePlan] = {}
    for row in json.loads(table)["operations"]:
        if row["rate"] is not None and row["burst"] is not None:
            plans[row["method"], row["path"]] = UsagePlan(float(row["rate"]), int(row["burst"]))
    return plans


def plan_for(
    operation: Operation, overrides: Mapping[str, tuple[float, int]], *, sandbox: bool = False
) -> UsagePlan | None:
    """The operation's usage plan: the override for its name, else the sandbox's (`sandbox`: the
    static sandbox, for Amazon's operations), else the model's, else none."""
    override = overrides.get(operation.name)
    if override is not None:
        rate, burst = override
        return UsagePlan(float(rate), int(burst))
    if sandbox and not operation.emulator_helper:
        return SANDBOX_PLAN
    return model_usage_plans().get((operation.method, operation.path))


def check_overrides(
    overrides: Mapping[str, tuple[float, int]], operations: Iterable[Operation]
) -> None:
    """An override for an operation the emulator does not serve would limit nothing: say so."""
    served = {operation.name for operation in operations}
    unknown = sorted(set(overrides) - served)
    if unknown:
        raise ValueError(
            f"EmulatorConfig.usage_plans names operations the emulator does not serve: "
            f"{', '.join(unknown)}."
        )
    for name, (rate, burst) in overrides.items():
        if rate < 0 or burst < 0:
            raise ValueError(f"EmulatorConfig.usage_plans[{name!r}]: rate and burst must be >= 0.")


def quota_exceeded(plan: UsagePlan | None) -> SpapiError:
    """SP-API's 429, with the plan's rate in `x-amzn-RateLimit-Limit` when there is one."""
    headers = {} if plan is None else {RATE_LIMIT_HEADER: plan.header}
    return SpapiError(429, "QuotaExceeded", QUOTA_EXCEEDED_MESSAGE, headers=headers)


BucketKey = tuple[str, str, str]  # (selling partner or "app:<client id>", method, path template)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by (caller, method, path template), on an injectable clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._buckets: dict[BucketKey, _Bucket] = {}

    def take(self, key: BucketKey, plan: UsagePlan) -> bool:
        """Take one token from the bucket; False (and nothing taken) if it holds less than one."""
        bucket = self._refilled(key, plan)
        if bucket.tokens < 1 - _EPSILON:
            return False
        bucket.tokens = max(0.0, bucket.tokens - 1)
        return True

    def available(self, key: BucketKey, plan: UsagePlan) -> float:
        """The tokens the bucket holds now (a full bucket if it was never used)."""
        return self._refilled(key, plan).tokens

    def _refilled(self, key: BucketKey, plan: UsagePlan) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(plan.burst), now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(plan.burst), bucket.tokens + elapsed * plan.rate)
        bucket.updated = now
        return bucket
