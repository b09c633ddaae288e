"""The process's threads for provider calls, shared by every batch.

A pool per batch started new threads for each batch, and the Stripe SDK keeps its HTTP
session per thread: every batch opened new connections to the provider (and paid for new
sessions and threads). One pool per process keeps its threads, their sessions and their
connections. A batch still has at most `window` of its calls in flight at once, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")

_pools: dict[int, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def shared_pool(threads: int) -> ThreadPoolExecutor:
    """The process's pool of `threads` provider-call threads (made on first use)."""
    with _lock:
        pool = _pools.get(threads)
        if pool is None:
            pool = _pools[threads] = ThreadPoolExecutor(max_workers=threads,
                                                        thread_name_prefix="provider")
        return pool


def run_windowed(pool: ThreadPoolExecutor, call: Callable[[_T], _R], items: Sequence[_T], *,
                 window: int) -> list[_R]:
    """`call` on each item on `pool`, at most `window` at once; the results in item order.
    A call that raises raises here, once the calls in flight have ended."""
    results: dict[int, _R] = {}
    waiting = iter(enumerate(items))
    in_flight: dict[Future[_R], int] = {}
    failure: BaseException | None = None

    def submit_next() -> None:
        for index, item in waiting:
            in_flight[pool.submit(call, item)] = index
            return

    for _ in range(max(1, window)):
        submit_next()
    while in_flight:
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            index = in_flight.pop(future)
            error = future.exception()
            if error is not None:
                failure = failure or error
                continue
            results[index] = future.result()
            if failure is None:
                submit_next()
    if failure is not None:
        raise failure
    return [results[index] for index in range(len(items))]


__all__ = ["run_windowed", "shared_pool"]
