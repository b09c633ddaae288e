"""Signed webhook deliveries, sent from a background thread so API responses never wait.

Signature: Stripe's scheme, `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.payload")>`,
which `stripe.Webhook.construct_event` verifies. Like Stripe, deliveries can arrive twice and
out of order: `duplicate_rate` and `shuffle` make that happen on purpose.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import queue
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class WebhookConfig:
    url: str | None = None
    secret: str | None = None
    #: Probability that an event is delivered a second time.
    duplicate_rate: float = 0.0
    #: Deliver each batch of queued events in a random order.
    shuffle: bool = False
    #: Wait this long before each batch, so more events gather to be shuffled.
    batch_delay_ms: float = 0.0
    max_attempts: int = 3
    retry_delay_seconds: float = 0.2
    timeout_seconds: float = 5.0
    seed: int = 0

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.secret)


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookSender:
    """Queues event payloads and posts them, signed, to the configured URL."""

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._queue: queue.Queue[bytes] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._in_flight = 0
        self.counters = {"delivered": 0, "failed": 0, "duplicated": 0, "attempts": 0}

    def update(self, changes: dict[str, Any]) -> WebhookConfig:
        with self._lock:
            self.config = dataclasses.replace(self.config, **changes)
            if "seed" in changes:
                self._rng = random.Random(self.config.seed)
            return self.config

    def enqueue(self, payload: bytes) -> None:
        if not self.config.enabled:
            return
        with self._lock:
            self._in_flight += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="stripe-sim-webhooks",
                                                daemon=True)
                self._thread.start()
        self._queue.put(payload)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery is done (tests); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return True
            time.sleep(0.01)
        return False

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {**self.counters, "pending": self._in_flight}

    def close(self) -> None:
        self._stop.set()

    def _batch(self) -> list[bytes]:
        first = self._queue.get(timeout=0.1)
        if self.config.batch_delay_ms:
            time.sleep(self.config.batch_delay_ms / 1000)
        batch = [first]
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch

    def _run(self) -> None:
        with httpx.Client() as client:
            while not self._stop.is_set():
                try:
                    batch = self._batch()
                except queue.Empty:
                    continue
                done = len(batch)
                config = self.config
                extra = [p for p in batch if self._rng.random() < config.duplicate_rate]
                batch += extra
                if config.shuffle:
                    self._rng.shuffle(batch)
                for payload in batch:
                    self._deliver(client, config, payload)
                with self._lock:
                    self.counters["duplicated"] += len(extra)
                    self._in_flight -= done

    def _deliver(self, client: httpx.Client, config: WebhookConfig, payload: bytes) -> None:
        assert config.url is not None
        assert config.secret is not None
        for attempt in range(config.max_attempts):
            if attempt:
                time.sleep(config.retry_delay_seconds)
            headers = {"Content-Type": "application/json; charset=utf-8",
                       "Stripe-Signature": sign(payload, config.secret, int(time.time())),
                       "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
            with self._lock:
                self.counters["attempts"] += 1
            try:
                response = client.post(config.url, content=payload, headers=headers,
                                       timeout=config.timeout_seconds)
            except httpx.HTTPError:
                continue
            if 200 <= response.status_code < 300:
                with self._lock:
                    self.counters["delivered"] += 1
                return
        with self._lock:
            self.counters["failed"] += 1
