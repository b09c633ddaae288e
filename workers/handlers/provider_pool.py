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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")

#: How far past its window a batch may go on threads the others leave idle.
BORROW_FACTOR = 2
#: A batch waiting for its calls looks again at least this often, even if no call of the
#: process ended meanwhile (a safety net: every end already wakes it).
_RECHECK_SECONDS = 0.5


class ProviderPool:
    """`threads` provider-call threads and how many of them are busy, shared by the
    process's batches (`run`)."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="provider")
        self._busy = 0
        #: Notified whenever a call ends: the batches waiting may submit (or collect) now.
        self._changed = threading.Condition()

    @property
    def busy(self) -> int:
        """Calls submitted and not yet ended (running, or queued for a thread)."""
        return self._busy

    def _submit(self, call: Callable[[_T], _R], item: _T) -> Future[_R]:
        # Under self._changed.
        self._busy += 1
        future = self._executor.submit(call, item)
        future.add_done_callback(self._ended)
        return future

    def _ended(self, _future: Future[Any]) -> None:
        with self._changed:
            self._busy -= 1
            self._changed.notify_all()

    def run(self, call: Callable[[_T], _R], items: Sequence[_T], *, window: int) -> list[_R]:
        """`call` on each item: `window` at once, up to BORROW_FACTOR times that while the
        pool has idle threads; the results in item order. A call that raises raises here,
        once the calls in flight have ended (no new one starts after it)."""
        window = max(1, window)
        results: dict[int, _R] = {}
        waiting = list(enumerate(items))
        waiting.reverse()  # popped from the end, in item order
        in_flight: dict[Future[_R], int] = {}
        failure: BaseException | None = None
        with self._changed:
            while True:
                while waiting and failure is None and (
                        len(in_flight) < window
                        or (len(in_flight) < window * BORROW_FACTOR
                            and self._busy < self.threads)):
                    index, item = waiting.pop()
                    in_flight[self._submit(call, item)] = index
                for future in [f for f in in_flight if f.done()]:
                    index = in_flight.pop(future)
                    error = future.exception()
                    if error is not None:
                        failure = failure or error
                    else:
                        results[index] = future.result()
                if not in_flight and (failure is not None or not waiting):
                    break
                if not any(future.done() for future in in_flight):
                    self._changed.wait(_RECHECK_SECONDS)
        if failure is not None:
            raise failure
        return [results[index] for index in range(len(items))]


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
