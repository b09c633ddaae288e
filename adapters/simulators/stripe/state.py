"""The simulator's in-memory Stripe account: objects, events, idempotency records, counters.

Every method takes the one lock, so the uvicorn loop, dispute timers, the webhook thread and
tests reading stats from their own thread all see consistent state. Handlers never await
while holding it, which is also what makes idempotency atomic: two requests with the same key
are processed one after the other, and the second replays the first.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.simulators.stripe import objects
from adapters.simulators.stripe.objects import Json

#: The envelope version of our events when the client did not send Stripe-Version.
DEFAULT_API_VERSION = "2025-09-30.clover"


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What an event records about the request that caused it."""

    request_id: str | None = None
    idempotency_key: str | None = None
    api_version: str = DEFAULT_API_VERSION


@dataclass(slots=True)
class StoredResponse:
    """An idempotency record: the request's fingerprint and the exact response sent."""

    fingerprint: tuple[Any, ...]
    status: int
    body: bytes


@dataclass(slots=True)
class StoredEvent:
    id: str
    type: str
    created: int
    #: Serialised once, when it happens: the snapshot both webhooks and GET /v1/events serve.
    payload: bytes


@dataclass
class Store:
    seed: int = 0
    clock: Callable[[], float] = time.time
    #: Called (outside no lock guarantees) with each new event; the webhook sender queues it.
    publish: Callable[[StoredEvent], None] = lambda event: None
    #: Called with a charge id when a disputing card succeeds; schedules the dispute.
    on_dispute_pending: Callable[[str], None] = lambda charge_id: None
    lock: threading.RLock = field(default_factory=threading.RLock)
    tables: dict[str, dict[str, Json]] = field(default_factory=lambda: defaultdict(dict))
    events: list[StoredEvent] = field(default_factory=list)
    idempotency: dict[tuple[str, str], StoredResponse] = field(default_factory=dict)
    pending_disputes: list[str] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def new_id(self, prefix: str) -> str:
        # One getrandbits call: ids are made several times per request, keep them cheap.
        with self.lock:
            return f"{prefix}_3Sim{self._rng.getrandbits(80):020x}"


    def now(self) -> int:
        return int(self.clock())

    def table(self, name: str) -> dict[str, Json]:
        return self.tables[name]

    def emit(self, ctx: RequestContext, type: str, obj: Json,
             previous: Json | None = None) -> StoredEvent:
        with self.lock:
            body = objects.event(id=self.new_id("evt"), created=self.now(), type=type, obj=obj,
                                 api_version=ctx.api_version,
                                 request=(ctx.request_id, ctx.idempotency_key), previous=previous)
            stored = StoredEvent(id=body["id"], type=type, created=body["created"],
                                 payload=json.dumps(body).encode())
            self.events.append(stored)
        self.publish(stored)
        return stored

    def count(self, name: str) -> None:
        with self.lock:
            self.counters[name] += 1

    def reset(self) -> None:
        with self.lock:
            self.tables.clear()
            self.events.clear()
            self.idempotency.clear()
            self.pending_disputes.clear()
            self.counters.clear()

    def stats(self) -> Json:
        """Counters for tests and the fault run: see the module docs of app.py for the format."""
        with self.lock:
            intents = list(self.tables["payment_intents"].values())
            by_status = Counter(pi["status"] for pi in intents)
            by_invoice: dict[str, set[str]] = defaultdict(set)
            by_attempt: dict[str, set[str]] = defaultdict(set)
            for pi in intents:
                if pi["status"] == "succeeded":
                    meta = pi["metadata"]
                    by_invoice[meta.get("invoice_id", "")].add(pi["id"])
                    by_attempt[meta.get("attempt_id", "")].add(pi["id"])
            counters = dict(self.counters)
            return {
                "requests": counters.pop("requests", 0),
                "faults": {k[6:]: v for k, v in counters.items() if k.startswith("fault.")},
                "counters": {k: v for k, v in counters.items() if not k.startswith("fault.")},
                "payment_intents": {"total": len(intents), "by_status": dict(by_status)},
                "succeeded_by_invoice": {k: len(v) for k, v in by_invoice.items()},
                "succeeded_by_attempt": {k: len(v) for k, v in by_attempt.items()},
                "duplicate_invoices": sorted(k for k, v in by_invoice.items() if len(v) > 1),
                "charges": len(self.tables["charges"]),
                "refunds": len(self.tables["refunds"]),
                "disputes": len(self.tables["disputes"]),
                "events": len(self.events),
            }
