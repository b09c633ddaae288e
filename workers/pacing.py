"""Pacing a batch's provider calls by the providers' shared rate limits (Redis windows).

Every provider call waits for a slot of its provider's window, shared by all workers. Asking
Redis once per call cost a round trip per call; a batch knows how many calls it will make, so
it takes slots a few at a time (`take`: at most `chunk`, never more than the calls it has left,
never more than the limit) and hands them to its calls. A slot is counted in one second of the
window and is used only within that second: one left over when the second ends is dropped,
never spent later, so the provider never sees more than the limit in any second. A batch
whose slots went unused (a slow provider: fewer calls a second than it took) takes half as
many next time, down to one, so the slots it counts and drops do not keep other batches
out; when it has used all it took and wants more within the same second, it takes twice as
many. When the window has no room for several, the batch asks for one, and waits as before
when it has none.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Protocol

from domain.accounts import MethodType

#: How long a call waits before asking again when its provider's window is full.
RATE_LIMIT_DELAY_SECONDS = 0.25


class Slots(Protocol):
    """A provider's shared window (adapters.rate_limit_backend.WindowSlots)."""

    limit: int

    def take(self, amount: int) -> int | None: ...


@dataclass
class _Held:
    left: int  # calls of this method the batch has not paced yet
    take: int  # slots to take next time (halved when some went unused, doubled back)
    spare: int = 0  # slots taken and not handed out yet
    second: int | None = None  # the second they are counted in


class BatchPacer:
    """Slots for one batch's calls; `pacer(method)` is the context a call runs in. Safe for
    the batch's pool threads."""

    def __init__(self, slots: Mapping[MethodType, Slots], *, calls: Iterable[MethodType],
                 chunk: int, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._slots = slots
        self._chunk = max(1, chunk)
        self._clock, self._sleep = clock, sleep
        self._held = {method: _Held(left=count, take=self._chunk)
                      for method, count in Counter(calls).items()}
        self._lock = threading.Lock()
        #: Round trips to the shared windows (what taking several at once saves).
        self.asked = 0

    def __call__(self, method: MethodType) -> AbstractContextManager[object]:
        if method not in self._slots:
            return nullcontext()  # no limit for this method (wire instructions)
        return self._paced(method)

    @contextmanager
    def _paced(self, method: MethodType) -> Iterator[None]:
        while not self._one(method):
            self._sleep(RATE_LIMIT_DELAY_SECONDS)
        yield

    def _one(self, method: MethodType) -> bool:
        slots = self._slots[method]
        with self._lock:  # the batch's other calls wait here, then use what this one took
            held = self._held.setdefault(method, _Held(left=0, take=self._chunk))
            second = int(self._clock())
            if held.spare and held.second == second:
                held.spare -= 1
                held.left -= 1
                return True
            if held.spare:
                # Some went unused when their second ended (a slow provider: the batch makes
                # fewer calls a second than it took), so they kept other batches out: fewer.
                held.spare, held.take = 0, max(1, held.take // 2)
            elif held.second == second:  # all it took this second used, and more wanted
                held.take = min(self._chunk, held.take * 2)
            want = max(1, min(held.take, held.left, slots.limit))
            for amount in dict.fromkeys((want, 1)):  # several, else one
                self.asked += 1
                counted_in = slots.take(amount)
                if counted_in is not None:
                    held.spare, held.second = amount - 1, counted_in
                    held.left -= 1
                    return True
            return False


def batch_pacing(slots: Mapping[MethodType, Slots], *, chunk: int,
                 ) -> Callable[[Iterable[MethodType]], BatchPacer]:
    """What the collect and poll batches are given: a pacer per batch, from its calls."""

    def for_batch(calls: Iterable[MethodType]) -> BatchPacer:
        return BatchPacer(slots, calls=calls, chunk=chunk)

    return for_batch
