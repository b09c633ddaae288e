"""dramatiq's Redis rate-limiter backend, with its window check done in one atomic script.

`RedisBackend.incr_and_sum` (what `WindowRateLimiter` calls on every acquire) runs
WATCH / GET / MGET / MULTI / SET / EXEC and starts over whenever another worker touched the
window meanwhile: four round trips at best, and under a renewal burst, with every worker thread
charging at once, most of them retried. The same check as one Lua script is one round trip
and never conflicts. Semantics are unchanged: admit `amount` if the current bucket plus
`amount` stays within `maximum` and so does the sum over the window's buckets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dramatiq.rate_limits import WindowRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

_INCR_AND_SUM = """
local amount, maximum, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local value = tonumber(redis.call('GET', KEYS[1]) or '0') + amount
if value > maximum then return 0 end
local total = amount
for i = 2, #KEYS do total = total + tonumber(redis.call('GET', KEYS[i]) or '0') end
if total > maximum then return 0 end
redis.call('SET', KEYS[1], value, 'PX', ttl)
return 1
"""


class AtomicRedisBackend(RedisBackend):  # type: ignore[misc]  # dramatiq is untyped
    """`RedisBackend` whose `incr_and_sum` is a single server-side script."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._incr_and_sum = self.client.register_script(_INCR_AND_SUM)

    def incr_and_sum(self, key: str, keys: Callable[[], list[str]], amount: int,
                     maximum: int, ttl: int) -> bool:
        return bool(self._incr_and_sum(keys=[key, *keys()], args=[amount, maximum, ttl]))


class WindowSlots(WindowRateLimiter):
    """dramatiq's window limiter (`acquire()` as before) that can also admit several
    operations at once: one round trip for a batch's next calls instead of one per call."""

    def __init__(self, backend: Any, key: str, *, limit: int, window: int = 1) -> None:
        super().__init__(backend, key, limit=limit, window=window)  # type: ignore[no-untyped-call]

    def take(self, amount: int) -> int | None:
        """Admit `amount` operations now, all or none. Returns the second (epoch) they are
        counted in, or None when the window has no room for them. Counted in that second,
        they must also happen in it: the window is only kept if they are not used later."""
        if not 1 <= amount <= self.limit:
            raise ValueError(f"take between 1 and the limit ({self.limit}), not {amount}")
        second = int(time.time())
        keys = [f"{self.key}@{second - i}" for i in range(self.window)]
        admitted = self.backend.incr_and_sum(keys[0], lambda: keys, amount,
                                             maximum=self.limit, ttl=self.window_millis)
        return second if admitted else None
