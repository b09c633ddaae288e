"""The shared provider pool: a batch's calls at most `window` at once, results in order, a
failure raised once the calls in flight have ended, and the same threads for every batch."""

from __future__ import annotations

import threading
import time

import pytest

from workers.handlers.provider_pool import run_windowed, shared_pool


def test_a_batch_runs_at_most_its_window_at_once_and_keeps_the_item_order() -> None:
    in_flight, peak = 0, 0
    lock = threading.Lock()

    def call(n: int) -> int:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01 * (n % 3))  # finishing out of order
        with lock:
            in_flight -= 1
        return n * n

    results = run_windowed(shared_pool(16), call, list(range(20)), window=4)
    assert results == [n * n for n in range(20)]
    assert peak == 4


def test_a_failing_call_raises_after_the_others_in_flight_and_stops_new_ones() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def call(n: int) -> int:
        with lock:
            started.append(n)
        if n == 1:
            raise ConnectionError("provider down")
        time.sleep(0.02)
        return n

    with pytest.raises(ConnectionError, match="provider down"):
        run_windowed(shared_pool(16), call, list(range(10)), window=2)
    # The two first ones started; at most one more after the failure was seen
    assert sorted(started)[:2] == [0, 1]
    assert len(started) <= 3


def test_every_batch_shares_the_processs_threads() -> None:
    def thread_name(_: int) -> str:
        time.sleep(0.005)
        return threading.current_thread().name

    pool = shared_pool(3)
    first = set(run_windowed(pool, thread_name, list(range(9)), window=3))
    second = set(run_windowed(shared_pool(3), thread_name, list(range(9)), window=3))
    assert shared_pool(3) is pool
    assert len(first | second) <= 3
