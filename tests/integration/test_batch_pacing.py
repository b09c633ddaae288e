"""Pacing a batch's provider calls on real Redis: slots taken several at a time, each used in
the second it was counted in, and never more calls in a second than the limit."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from adapters.rate_limit_backend import AtomicRedisBackend, WindowSlots
from domain.accounts import MethodType
from workers.pacing import BatchPacer

CARD, DEBIT = MethodType.CARD, MethodType.DIRECT_DEBIT


def _slots(redis_url: str, limit: int) -> WindowSlots:
    return WindowSlots(AtomicRedisBackend(url=redis_url), f"test:pace:{uuid.uuid4().hex}",
                       limit=limit)


def _counted(redis_url: str, slots: WindowSlots) -> int:
    client = redis.Redis.from_url(redis_url)
    return sum(int(client.get(key) or 0) for key in client.keys(f"{slots.key}@*"))


def _early_in_a_second() -> None:
    """Start just after a second begins: what a test does must fit in that second."""
    time.sleep(1 - time.time() % 1 + 0.01)


def test_take_admits_all_or_none_within_the_limit(redis_url: str) -> None:
    slots = _slots(redis_url, limit=10)
    _early_in_a_second()
    second = slots.take(8)
    assert second == int(time.time())
    assert slots.take(8) is None  # 16 > 10: none of them
    assert slots.take(2) == second
    assert slots.take(1) is None
    with slots.acquire(raise_on_failure=False) as acquired:  # dramatiq's own way agrees
        assert not acquired
    assert _counted(redis_url, slots) == 10


@pytest.mark.parametrize("amount", [0, 11])
def test_take_refuses_an_amount_outside_one_to_the_limit(redis_url: str, amount: int) -> None:
    with pytest.raises(ValueError, match="between 1 and the limit"):
        _slots(redis_url, limit=10).take(amount)


def test_a_batch_takes_its_slots_a_chunk_at_a_time_and_no_more_than_it_calls(
        redis_url: str) -> None:
    # Given a batch of 20 card calls and 3 debit polls, taking up to 8 slots at once
    card, debit = _slots(redis_url, limit=100), _slots(redis_url, limit=100)
    pacer = BatchPacer({CARD: card, DEBIT: debit}, calls=[CARD] * 20 + [DEBIT] * 3, chunk=8)
    _early_in_a_second()
    # When each call is paced, one after the other, within one second
    for method in [CARD] * 20 + [DEBIT] * 3 + [MethodType.WIRE]:
        with pacer(method):
            pass
    # Then Redis was asked 3 times for the cards (8, 8, 4) and once for the debits (3), no
    # wire call waited, and exactly the calls made were counted
    assert pacer.asked == 4
    assert (_counted(redis_url, card), _counted(redis_url, debit)) == (20, 3)


def test_a_slot_left_when_its_second_ends_is_not_spent_later(redis_url: str) -> None:
    # Given a pacer whose clock has moved to the next second after its first call
    card = _slots(redis_url, limit=100)
    now = [time.time()]
    pacer = BatchPacer({CARD: card}, calls=[CARD] * 4, chunk=4, clock=lambda: now[0])
    _early_in_a_second()
    now[0] = time.time()
    with pacer(CARD):
        pass  # took 4, used 1
    now[0] += 1
    # When the next call is paced
    with pacer(CARD):
        pass
    # Then the three spare slots, counted in the second before, were dropped: it asked again
    assert pacer.asked == 2


def test_a_batch_whose_slots_go_unused_takes_fewer_and_more_again_when_it_keeps_up(
        redis_url: str) -> None:
    # Given a batch of 12 calls, taking up to 8 slots at once, whose provider is slow: each
    # call ends in a later second than the one before (its clock moves a second per call)
    card = _slots(redis_url, limit=100)
    now = [time.time() + 10]
    pacer = BatchPacer({CARD: card}, calls=[CARD] * 12, chunk=8, clock=lambda: now[0])
    _early_in_a_second()
    for _ in range(6):
        with pacer(CARD):
            now[0] += 1
    # Then it took 8, then 4, 2, 1, 1, 1: the slots it counted and dropped shrank at once
    assert _counted(redis_url, card) == 8 + 4 + 2 + 1 + 1 + 1
    # And when its calls come quickly again (several in one second), it takes more again
    now[0] = float(int(time.time()))  # the real second the slots are counted in
    for _ in range(6):
        with pacer(CARD):
            pass
    assert _counted(redis_url, card) == 17 + 2 + 4  # 2, then 4: every one of them used


def test_when_the_window_has_no_room_for_several_a_call_takes_one(redis_url: str) -> None:
    card = _slots(redis_url, limit=10)
    _early_in_a_second()
    assert card.take(7) is not None  # another worker's calls: 3 slots left this second
    pacer = BatchPacer({CARD: card}, calls=[CARD] * 8, chunk=8)
    with pacer(CARD):
        pass
    # 8 refused, then 1 admitted
    assert pacer.asked == 2
    assert _counted(redis_url, card) == 8


def test_concurrent_batches_never_exceed_the_limit_in_any_second(redis_url: str) -> None:
    # Given a limit of 10 calls a second and 4 batches of 9 calls, 4 threads each
    card = _slots(redis_url, limit=10)
    made: list[float] = []
    lock = threading.Lock()

    def batch(_: int) -> None:
        pacer = BatchPacer({CARD: card}, calls=[CARD] * 9, chunk=4)

        def call(_: int) -> None:
            with pacer(CARD), lock:
                made.append(time.time())

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(call, range(9)))

    # When they all run at once
    with ThreadPoolExecutor(4) as batches:
        list(batches.map(batch, range(4)))
    # Then all 36 calls were made, and no second saw more than 10 of them
    per_second = Counter(int(at) for at in made)
    assert sum(per_second.values()) == 36
    assert max(per_second.values()) <= 10
