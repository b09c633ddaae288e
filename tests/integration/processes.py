"""Racing real OS processes: several spawned at once, released together, each reporting back."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any


def race(target: Callable[..., None], *args: Any, processes: int = 2,
         timeout: float = 120) -> list[Any]:
    """Run `target(*args, start, results)` in `processes` spawned processes released at the
    same instant (`start`, an Event); return what each put on `results` (a Queue), after
    checking every process exited with 0."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    spawned = [context.Process(target=target, args=(*args, start, results))
               for _ in range(processes)]
    for process in spawned:
        process.start()
    start.set()
    reported = [results.get(timeout=timeout) for _ in spawned]
    for process in spawned:
        process.join(timeout=60)
    assert [process.exitcode for process in spawned] == [0] * processes
    return reported
