"""The outbox doorbell on real Redis and in process: one drain asked for at a time, however
many messages ring, and a drain that never answers holds nothing back past the expiry."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from adapters.outbox_doorbell import Doorbell, LocalDoorbell, RedisDoorbell, doorbell_for


def _bells(redis_url: str, expires_ms: int) -> list[Doorbell]:
    client = redis.Redis.from_url(redis_url)
    return [RedisDoorbell(client, key=f"test:doorbell:{uuid.uuid4().hex}",
                          expires_ms=expires_ms), LocalDoorbell(expires_ms=expires_ms)]


def _rings_at_once(bell: Doorbell, count: int) -> int:
    start = threading.Barrier(8)

    def ring(_: int) -> bool:
        start.wait()
        return bell.ring()

    with ThreadPoolExecutor(8) as pool:
        return sum(pool.map(ring, range(count)))


@pytest.mark.parametrize("kind", ["redis", "local"])
def test_many_rings_ask_for_one_drain_until_it_answers(redis_url: str, kind: str) -> None:
    bell = dict(zip(["redis", "local"], _bells(redis_url, expires_ms=60_000), strict=True))[kind]
    # When eight threads ring at once
    # Then exactly one of them is told to send a drain
    assert _rings_at_once(bell, 8) == 1
    assert bell.ring() is False
    # When the drain answers, the next ring asks for another one
    bell.answer()
    assert bell.ring() is True
    assert bell.ring() is False


@pytest.mark.parametrize("kind", ["redis", "local"])
def test_a_drain_that_never_answers_holds_rings_back_only_until_the_expiry(
        redis_url: str, kind: str) -> None:
    bell = dict(zip(["redis", "local"], _bells(redis_url, expires_ms=200), strict=True))[kind]
    assert bell.ring() is True
    assert bell.ring() is False
    time.sleep(0.3)
    assert bell.ring() is True


def test_each_broker_has_its_doorbell_on_its_own_redis(redis_url: str) -> None:
    redis_broker = RedisBroker(url=redis_url)  # type: ignore[no-untyped-call]
    stub = StubBroker()
    try:
        assert isinstance(doorbell_for(redis_broker), RedisDoorbell)
        assert isinstance(doorbell_for(stub), LocalDoorbell)
        assert doorbell_for(stub) is doorbell_for(stub)
    finally:
        redis_broker.close()
