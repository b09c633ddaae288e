"""Signed webhook delivery, as GoCardless does it, from a background thread.

Each POST carries `{"events": [...], "meta": {"webhook_id": "WB..."}}` and the header
`Webhook-Signature` = hex HMAC-SHA256(secret, raw body): exactly what
`gocardless_pro.webhooks.parse(body, secret, signature)` verifies. Options reproduce what a
receiver must survive: `duplicate_rate` re-sends an event in a later batch, `shuffle` mixes
the order within a batch. Delivery never blocks the API: events are queued and a daemon thread
posts them, retrying a failed POST a few times.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import queue
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

Json = dict[str, Any]


def sign(body: bytes, secret: str) -> str:
    """The `Webhook-Signature` header value for `body`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str
    batch_size: int = 50
    duplicate_rate: float = 0.0
    shuffle: bool = False
    seed: int = 0
    max_attempts: int = 3
    timeout_seconds: float = 5.0
    #: Pause between failed attempts; the receiver may be restarting.
    retry_pause_seconds: float = 0.2


class WebhookSender:
    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.counts: Counter[str] = Counter()
        self._queue: queue.Queue[tuple[Json, bool]] = queue.Queue()
        self._rng = random.Random(config.seed)
        self._ids = itertools.count(1)
        self._idle = threading.Condition()
        self._pending = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gocardless-webhooks",
                                        daemon=True)
        self._thread.start()

    def enqueue(self, event: Json) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put((event, False))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was delivered (or given up on)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(self.config.timeout_seconds + 1)

    def _run(self) -> None:
        with httpx.Client(timeout=self.config.timeout_seconds) as client:
            while not self._stop.is_set():
                try:
                    batch = [self._queue.get(timeout=0.05)]
                except queue.Empty:
                    continue
                while len(batch) < self.config.batch_size:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                self._deliver(client, batch)

    def _deliver(self, client: httpx.Client, batch: list[tuple[Json, bool]]) -> None:
        events = [event for event, _ in batch]
        if self.config.shuffle:
            self._rng.shuffle(events)
        for event, is_copy in batch:
            if not is_copy and self._rng.random() < self.config.duplicate_rate:
                with self._idle:
                    self._pending += 1
                self.counts["duplicates"] += 1
                self._queue.put((event, True))
        body = json.dumps({"events": events, "meta": {"webhook_id": f"WB{next(self._ids):012d}"}},
                          separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Webhook-Signature":
                   sign(body, self.config.secret),
                   "User-Agent": "gocardless-webhook-service/1.1 (simulator)"}
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                response = client.post(self.config.url, content=body, headers=headers)
                if response.status_code < 300:
                    self.counts["batches"] += 1
                    self.counts["events"] += len(events)
                    break
                self.counts["rejected"] += 1
            except httpx.HTTPError:
                self.counts["errors"] += 1
            if attempt < self.config.max_attempts:
                time.sleep(self.config.retry_pause_seconds * attempt)
        else:
            self.counts["given_up_events"] += len(events)
        with self._idle:
            self._pending -= len(batch)
            self._idle.notify_all()
