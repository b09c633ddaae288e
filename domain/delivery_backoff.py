"""When a failed webhook delivery is tried again, and when it is given up.

Exponential: 30 s, 1 min, 2 min … doubling up to 6 h between tries, each delay drawn with
jitter in [delay/2, delay] so endpoints that failed together do not come back together. A
delivery whose next try would fall more than `GIVE_UP_AFTER` after the event was written is
given up (marked failed, listed for operators).

    >>> from random import Random
    >>> [int(delay(n, rand=Random(0)).total_seconds()) for n in (1, 2, 3)]
    [27, 55, 110]
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

#: The first retry's delay, before jitter.
FIRST_DELAY = timedelta(seconds=30)
#: No two tries further apart than this, before jitter.
MAX_DELAY = timedelta(hours=6)
#: The retry window, counted from when the event was written.
GIVE_UP_AFTER = timedelta(days=3)


class Random(Protocol):
    def uniform(self, a: float, b: float) -> float: ...


def delay(failures: int, *, rand: Random) -> timedelta:
    """The wait after the `failures`-th failed try (1 for the first)."""
    if failures < 1:
        raise ValueError("failures counts from 1")
    base = min(FIRST_DELAY * (2 ** min(failures - 1, 30)), MAX_DELAY)
    seconds = base.total_seconds()
    return timedelta(seconds=rand.uniform(seconds / 2, seconds))


def next_attempt_at(*, failures: int, now: datetime, written_at: datetime,
                    rand: Random) -> datetime | None:
    """When to try again after `failures` failed tries; None: give up."""
    at = now + delay(failures, rand=rand)
    return None if at > written_at + GIVE_UP_AFTER else at
