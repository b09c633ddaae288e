"""The shared provider pool: a batch's calls `window` at once, more on threads the other
batches leave idle (never more than twice its window, never while the pool is busy), results
in order, a failure raised once the calls in flight have ended, the same threads for every
batch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from workers.handlers.provider_pool import (
    BORROW_FACTOR,
    ProviderPool,
    shared_pool,
)

#: Generous: these waits synchronise threads, they time nothing.
WAIT = 5.0


class Gates:
    """Calls that start, say so, and end when their item's gate opens."""

    def __init__(self) -> None:
        self.started: dict[str, threading.Event] = {}
        self.gates: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def _events(self, item: str) -> tuple[threading.Event, threading.Event]:
        with self._lock:
            return (self.started.setdefault(item, threading.Event()),
                    self.gates.setdefault(item, threading.Event()))

    def call(self, item: str) -> str:
        started, gate = self._events(item)
        started.set()
        assert gate.wait(WAIT), f"{item} was never let through"
        return item.upper()

    def wait_started(self, *items: str) -> None:
        for item in items:
            assert self._events(item)[0].wait(WAIT), f"{item} never started"

    def open(self, *items: str) -> None:
        for item in items:
            self._events(item)[1].set()


def in_thread(pool: ProviderPool, call: Callable[[str], str], items: list[str], *,
              window: int) -> tuple[threading.Thread, list[list[str]]]:
    out: list[list[str]] = []
    thread = threading.Thread(target=lambda: out.append(
        pool.run(call, items, window=window)))
    thread.start()
    return thread, out


def test_a_batch_alone_borrows_idle_threads_up_to_twice_its_window_and_keeps_the_order(
        ) -> None:
    in_flight, peak = 0, 0
    lock = threading.Lock()

    def call(n: int) -> int:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01 * (1 + n % 3))  # finishing out of order
        with lock:
            in_flight -= 1
        return n * n

    results = ProviderPool(16).run(call, list(range(20)), window=4)
    assert results == [n * n for n in range(20)]
    assert peak == 4 * BORROW_FACTOR


def test_a_batch_runs_its_last_odd_call_on_a_thread_another_batch_leaves_idle() -> None:
    # Given a pool of 4 threads, one taken by another batch's call
    pool, gates = ProviderPool(4), Gates()
    other, _ = in_thread(pool, gates.call, ["b0"], window=2)
    gates.wait_started("b0")
    # When a batch of 3 calls at 2 at once starts
    batch, out = in_thread(pool, gates.call, ["a0", "a1", "a2"], window=2)
    # Then its third call runs beside its first two, on the idle thread, not a round later
    gates.wait_started("a0", "a1", "a2")
    assert pool.busy == 4
    gates.open("a0", "a1", "a2", "b0")
    batch.join(WAIT)
    other.join(WAIT)
    assert out == [["A0", "A1", "A2"]]


def second_batch_on_a_busy_pool() -> tuple[ProviderPool, Gates, threading.Thread,
                                            threading.Thread, list[list[str]]]:
    """A pool of 2 threads both taken by batch b's calls; batch a, 2 calls at 1 at once,
    started, and one thread freed (b0 ended): a0 runs, a1 waits."""
    pool, gates = ProviderPool(2), Gates()
    other, _ = in_thread(pool, gates.call, ["b0", "b1"], window=2)
    gates.wait_started("b0", "b1")
    batch, out = in_thread(pool, gates.call, ["a0", "a1"], window=1)
    gates.open("b0")
    gates.wait_started("a0")
    return pool, gates, other, batch, out


def test_a_batch_borrows_nothing_while_the_pools_threads_are_busy() -> None:
    # Given a pool of 2 threads both taken by a batch's calls
    # When another batch of 2 at 1 at once starts, and one thread is freed
    pool, gates, other, batch, out = second_batch_on_a_busy_pool()
    # Then it has its window's call in flight and no more: nothing is idle to borrow
    assert pool.busy == 2
    assert not gates.started.get("a1", threading.Event()).is_set()
    gates.open("a0", "b1", "a1")
    batch.join(WAIT)
    other.join(WAIT)
    assert out == [["A0", "A1"]]


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
        ProviderPool(16).run(call, list(range(10)), window=2)
    # The first ones started (the window and what it borrowed); none after the failure
    assert sorted(started)[:2] == [0, 1]
    assert len(started) <= 2 * BORROW_FACTOR


def test_every_batch_shares_the_processs_threads() -> None:
    def thread_name(_: int) -> str:
        time.sleep(0.005)
        return threading.current_thread().name

    pool = shared_pool(3)
    first = set(pool.run(thread_name, list(range(9)), window=3))
    second = set(shared_pool(3).run(thread_name, list(range(9)), window=3))
    assert shared_pool(3) is pool
    assert len(first | second) <= 3


def test_a_batch_waiting_to_borrow_starts_when_another_batchs_call_frees_a_thread() -> None:
    # Given a pool of 2 threads both taken by a batch's calls, and a batch of 2 at 1 at once
    # whose first call got the thread one of them freed and whose second waits to borrow one
    _, gates, other, batch, out = second_batch_on_a_busy_pool()
    # When the other batch's second call ends, freeing a thread
    gates.open("b1")
    # Then the waiting batch's second call starts on it, while its first is still running:
    # the end of another batch's call woke it, not only the end of its own
    gates.wait_started("a1")
    assert not gates.gates["a0"].is_set()
    gates.open("a0", "a1")
    batch.join(WAIT)
    other.join(WAIT)
    assert out == [["A0", "A1"]]
