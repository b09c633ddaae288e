"""The process's threads for provider calls, shared by every batch.

A pool per batch started new threads for each batch, and the Stripe SDK keeps its HTTP
session per thread: every batch opened new connections to the provider (and paid for new
sessions and threads). One pool per process keeps its threads, their sessions and their
connections.

A batch has `window` of its calls in flight at once, and borrows threads the other batches
leave idle, up to twice its window: the pool has a window's worth of threads for every
worker thread, and a batch whose call count is not a multiple of its window leaves some of
its share idle in its last round (at 2 calls at once, a batch of 13 charges runs 7 rounds
with one thread idle in the last; a batch of 3 polls, 2 rounds for 3 calls). Borrowing hands
those threads to the batches that have calls waiting; its cap keeps one batch of a slow
provider from taking every thread of the process.

A batch waits on a queue of its own, which the pool's threads feed as its calls end: a call's
end wakes only its batch, plus one batch waiting to borrow (none, mostly). The threads take
calls from one queue and answer on the batch's, with no futures in between. Measured by
bench/pool_wakeups.py (8 batches of 50, 8 calls at once, 64 threads): a
ThreadPoolExecutor whose every call's end woke every waiting batch through one shared
condition cost 350 µs of CPU per call at 200 ms of latency and 83 µs at none; this costs
126 and 9.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")

#: How far past its window a batch may go on threads the others leave idle.
BORROW_FACTOR = 2

#: What a batch's queue receives: (item index, True, result) or (item index, False, the
#: exception raised) when one of its calls ends; None when another batch's call ended while
#: this one waited to borrow a thread.
_Ended = tuple[int, bool, Any] | None
#: A call for the pool's threads: the function, its item, the item's index, the batch's queue.
_Call = tuple[Callable[[Any], Any], Any, int, "queue.SimpleQueue[_Ended]"]


class ProviderPool:
    """`threads` provider-call threads and how many of them are busy, shared by the
    process's batches (`run`). The threads start as the calls first need them."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._started = 0
        self._busy = 0
        self._lock = threading.Lock()
        #: The queues of batches that have calls waiting and room in their borrowing cap,
        #: held back only by a busy pool: the next call's end wakes the first of them.
        self._hungry: list[queue.SimpleQueue[_Ended]] = []

    @property
    def busy(self) -> int:
        """Calls handed to the pool and not yet ended (running, or waiting for a thread)."""
        return self._busy

    def _serve(self) -> None:
        take = self._calls.get
        while True:
            call, item, index, ours = take()
            ended: _Ended
            try:
                ended = (index, True, call(item))
            except BaseException as error:  # the batch raises it, as a future would
                ended = (index, False, error)
            with self._lock:
                self._busy -= 1
                hungry = self._hungry.pop(0) if self._hungry else None
            ours.put(ended)
            if hungry is not None and hungry is not ours:
                hungry.put(None)
            del call, item, ours, ended  # hold nothing of a finished batch while idle

    def run(self, call: Callable[[_T], _R], items: Sequence[_T], *, window: int) -> list[_R]:
        """`call` on each item: `window` at once, up to BORROW_FACTOR times that while the
        pool has idle threads; the results in item order. A call that raises raises here,
        once the calls in flight have ended (no new one starts after it)."""
        window = max(1, window)
        results: dict[int, _R] = {}
        waiting = list(enumerate(items))
        waiting.reverse()  # popped from the end, in item order
        ended: queue.SimpleQueue[_Ended] = queue.SimpleQueue()
        in_flight = 0
        failure: BaseException | None = None
        try:
            while True:
                if failure is None:
                    starting = self._take(waiting, ended, in_flight=in_flight, window=window)
                    for index, item in starting:
                        self._calls.put((call, item, index, ended))
                    in_flight += len(starting)
                if not in_flight:
                    break
                news = [ended.get()]  # blocks until one of this batch's calls ends
                while not ended.empty():
                    news.append(ended.get())
                for one in news:
                    if one is None:
                        continue  # another batch's call ended: look again for idle threads
                    index, ok, value = one
                    in_flight -= 1
                    if ok:
                        results[index] = value
                    else:
                        failure = failure or value
        finally:
            with self._lock:
                if ended in self._hungry:
                    self._hungry.remove(ended)
        if failure is not None:
            raise failure
        return [results[index] for index in range(len(items))]

    def _take(self, waiting: list[tuple[int, _T]], ended: queue.SimpleQueue[_Ended], *,
              in_flight: int, window: int) -> list[tuple[int, _T]]:
        """The items to start now (counted busy), from the end of `waiting`; if more wait
        and only a busy pool holds them back, the batch is noted as hungry."""
        starting: list[tuple[int, _T]] = []
        cap = window * BORROW_FACTOR
        with self._lock:
            while waiting and (in_flight < window
                               or (in_flight < cap and self._busy < self.threads)):
                starting.append(waiting.pop())
                in_flight += 1
                self._busy += 1
            if waiting and in_flight < cap and ended not in self._hungry:
                self._hungry.append(ended)
            needed = min(self._busy, self.threads)
            new_threads = range(self._started, needed)  # empty when enough have started
            self._started = max(self._started, needed)
        for number in new_threads:
            threading.Thread(target=self._serve, name=f"provider_{number}", daemon=True).start()
        return starting


_pools: dict[int, ProviderPool] = {}
_lock = threading.Lock()


def shared_pool(threads: int) -> ProviderPool:
    """The process's pool of `threads` provider-call threads (made on first use)."""
    with _lock:
        pool = _pools.get(threads)
        if pool is None:
            pool = _pools[threads] = ProviderPool(threads)
        return pool


__all__ = ["BORROW_FACTOR", "ProviderPool", "shared_pool"]
