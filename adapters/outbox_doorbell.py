"""At most one outbox drain on its way at a time, however many messages are queued.

Every committed notification rings; only the ring that finds no drain already asked for sends
one. The drain answers (clears the flag) *before* it reads the outbox, so a message committed
after that rings again and gets a drain of its own, and one committed before is read by this
drain: nothing waits for the next message. The flag expires, so a drain message lost with a
killed worker or a flushed Redis holds nothing back for longer than that (and the scheduler's
outbox relay rings for whatever stayed unsent).

    doorbell = doorbell_for(broker)
    if doorbell.ring():
        drain_outbox.send()
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Protocol

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

#: How long a drain asked for keeps others from being asked for if it never answers.
EXPIRES_MS = 2_000
KEY = "paycollect:outbox:drain-asked"


class Doorbell(Protocol):
    def ring(self) -> bool:
        """Ask for a drain; True if the caller must send it (none was on its way)."""
        ...

    def answer(self) -> None:
        """The drain has started: the next ring asks for another one."""
        ...


class RedisDoorbell:
    """Shared by every worker process on one Redis (the distributed mode)."""

    def __init__(self, client: redis.Redis, *, key: str = KEY,
                 expires_ms: int = EXPIRES_MS) -> None:
        self._client, self._key, self._expires_ms = client, key, expires_ms

    def ring(self) -> bool:
        return bool(self._client.set(self._key, b"1", nx=True, px=self._expires_ms))

    def answer(self) -> None:
        self._client.delete(self._key)


class LocalDoorbell:
    """Within one process (the embedded mode, where the broker is in-process too)."""

    def __init__(self, *, expires_ms: int = EXPIRES_MS) -> None:
        self._lock = threading.Lock()
        self._expires = expires_ms / 1000
        self._asked_until = 0.0

    def ring(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now < self._asked_until:
                return False
            self._asked_until = now + self._expires
            return True

    def answer(self) -> None:
        with self._lock:
            self._asked_until = 0.0


#: Keys of the doorbells by drain: the customer outbox's, and the outgoing events'.
KEYS = {"outbox": KEY, "events": "paycollect:events:drain-asked"}

_BY_BROKER: weakref.WeakKeyDictionary[dramatiq.Broker, dict[str, Doorbell]] = \
    weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def doorbell_for(broker: dramatiq.Broker, name: str = "outbox") -> Doorbell:
    """The doorbell of `broker`'s `name` drains (see KEYS): Redis-backed on a Redis broker."""
    with _LOCK:
        bells = _BY_BROKER.setdefault(broker, {})
        bell = bells.get(name)
        if bell is None:
            bell = bells[name] = (RedisDoorbell(broker.client, key=KEYS[name])
                                  if isinstance(broker, RedisBroker) else LocalDoorbell())
        return bell
