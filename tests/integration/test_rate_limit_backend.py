"""The provider rate limit on real Redis: dramatiq's WindowRateLimiter over the atomic backend
admits exactly `limit` operations per window, however many workers race for them."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import redis
from dramatiq.rate_limits import WindowRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

from adapters.broker import make_rate_limiters
from adapters.rate_limit_backend import AtomicRedisBackend


def _acquired(limiter: WindowRateLimiter) -> bool:
    with limiter.acquire(raise_on_failure=False) as acquired:
        return bool(acquired)


def _race(limiter: WindowRateLimiter, attempts: int) -> int:
    start = threading.Barrier(16)

    def one(_: int) -> bool:
        if _ < 16:
            start.wait()
        return _acquired(limiter)

    with ThreadPoolExecutor(16) as pool:
        return sum(pool.map(one, range(attempts)))


def test_a_window_admits_exactly_its_limit_under_a_race(redis_url: str) -> None:
    # Given a limit of 50 per 60-second window (wide: the race never spans two windows)
    backend = AtomicRedisBackend(url=redis_url)
    limiter = WindowRateLimiter(backend, f"test:{uuid.uuid4().hex}", limit=50, window=60)
    # When 16 threads race for 200 slots
    admitted = _race(limiter, 200)
    # Then exactly 50 are admitted, no more (atomic) and no fewer (no lost updates)
    assert admitted == 50
    assert not _acquired(limiter)


def test_it_decides_like_dramatiqs_own_redis_backend(redis_url: str) -> None:
    # Given the same sequence of acquisitions through both backends, on separate keys
    ours = WindowRateLimiter(AtomicRedisBackend(url=redis_url), f"test:{uuid.uuid4().hex}",
                             limit=7, window=30)
    theirs = WindowRateLimiter(RedisBackend(url=redis_url), f"test:{uuid.uuid4().hex}",
                               limit=7, window=30)
    # Then each admits the same ones (the first 7) and refuses the rest
    assert [_acquired(ours) for _ in range(10)] == [_acquired(theirs) for _ in range(10)]
    assert [_acquired(ours) for _ in range(2)] == [False, False]


def test_the_workers_limiters_use_the_atomic_backend_with_their_keys_expiring(
        redis_url: str) -> None:
    limits = make_rate_limiters(redis_url=redis_url, card_per_second=3,
                                direct_debit_per_second=2)
    assert isinstance(limits.card.backend, AtomicRedisBackend)
    assert sum(_acquired(limits.direct_debit) for _ in range(5)) <= 2 * 2  # at most 2 windows
    client = redis.Redis.from_url(redis_url)
    keys = client.keys("paycollect:rate:gocardless@*")
    assert keys
    assert all(0 < client.pttl(key) <= 1000 for key in keys)
