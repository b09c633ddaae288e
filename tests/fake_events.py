"""In-memory fakes of the outgoing-event ports (`domain.ports_events`), on `FakeState`."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from domain.outgoing_events import (
    DeliveryStatus,
    EndpointStatus,
    EventDelivery,
    NewEvent,
    OutgoingEvent,
    WebhookEndpoint,
    fan_out,
)
from tests.fake_repositories import FakeState


class FakeWebhookEndpointRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, *, endpoint: WebhookEndpoint) -> None:
        self._s.endpoints[endpoint.id] = endpoint

    def get(self, *, endpoint_id: str) -> WebhookEndpoint | None:
        return self._s.endpoints.get(endpoint_id)

    def all(self) -> list[WebhookEndpoint]:
        return sorted(self._s.endpoints.values(), key=lambda e: (e.created_at, e.id))

    def enabled(self) -> list[WebhookEndpoint]:
        return [e for e in self.all() if e.status is EndpointStatus.ENABLED]

    def disable(self, *, endpoint_id: str) -> bool:
        found = self._s.endpoints.get(endpoint_id)
        if found is None:
            return False
        self._s.endpoints[endpoint_id] = replace(found, status=EndpointStatus.DISABLED)
        return True

    def pause(self, *, endpoint_id: str, until: datetime) -> None:
        found = self._s.endpoints[endpoint_id]
        self._s.endpoints[endpoint_id] = replace(found, paused_until=until,
                                                 failures=found.failures + 1)

    def resume(self, *, endpoint_ids: Collection[str]) -> None:
        for endpoint_id in endpoint_ids:
            self._s.endpoints[endpoint_id] = replace(self._s.endpoints[endpoint_id],
                                                     paused_until=None, failures=0)


class FakeEventRepository:
    def __init__(self, state: FakeState) -> None:
        self._s = state
        self.queued = False

    def write(self, *, event: NewEvent) -> None:
        # Stored at once: the fake unit of work keeps or drops its whole state on commit.
        first = self._s.event_sequences.get(event.account_id, 0) + 1
        self._s.event_sequences[event.account_id] = first
        written = fan_out([event], first={event.account_id: first},
                          endpoints=FakeWebhookEndpointRepository(self._s).enabled())
        [(stored, endpoint_ids)] = written.events
        self._s.events[stored.id] = stored
        for endpoint_id in endpoint_ids:
            delivery = EventDelivery(
                id=f"dlv_{uuid.uuid4().hex}", event_id=stored.id, endpoint_id=endpoint_id,
                account_id=stored.account_id, sequence=stored.sequence,
                status=DeliveryStatus.PENDING, created_at=stored.created_at,
                next_attempt_at=stored.created_at)
            self._s.deliveries[delivery.id] = delivery
            self.queued = self.queued or written.ring

    def flush(self) -> None:
        """Nothing waits: `write` stores at once."""

    def get(self, *, event_id: str) -> OutgoingEvent | None:
        return self._s.events.get(event_id)

    def listed(self, *, account_id: str | None = None, failed_only: bool = False,
               limit: int = 100) -> list[OutgoingEvent]:
        failed = {d.event_id for d in self._s.deliveries.values()
                  if d.status is DeliveryStatus.FAILED}
        found = [e for e in self._s.events.values()
                 if (account_id is None or e.account_id == account_id)
                 and (not failed_only or e.id in failed)]
        return sorted(found, key=lambda e: (e.created_at, e.id), reverse=True)[:limit]

    def deliveries(self, *, event_id: str) -> list[EventDelivery]:
        return [d for d in self._s.deliveries.values() if d.event_id == event_id]

    def claim_due(self, *, now: datetime, until: datetime, limit: int) -> list[EventDelivery]:
        raise NotImplementedError("delivery is tested on SQLite and PostgreSQL")

    def has_due(self, *, now: datetime) -> bool:
        awake = {e.id for e in self._s.endpoints.values()
                 if e.status is EndpointStatus.ENABLED and not e.paused_at(now)}
        return any(d.status is DeliveryStatus.PENDING and d.next_attempt_at is not None
                   and d.next_attempt_at <= now and d.endpoint_id in awake
                   for d in self._s.deliveries.values())

    def mark_delivered(self, *, delivery_ids: Collection[str], at: datetime) -> None:
        for delivery_id in delivery_ids:
            self._set(delivery_id, status=DeliveryStatus.DELIVERED, delivered_at=at)

    def record_failure(self, *, delivery_id: str, error: str,
                       next_attempt_at: datetime | None) -> None:
        found = self._s.deliveries[delivery_id]
        self._set(delivery_id, attempts=found.attempts + 1, last_error=error,
                  next_attempt_at=next_attempt_at,
                  status=DeliveryStatus.PENDING if next_attempt_at else DeliveryStatus.FAILED)

    def postpone(self, *, delivery_ids: Collection[str], until: datetime, error: str) -> None:
        for delivery_id in delivery_ids:
            self._set(delivery_id, next_attempt_at=until, last_error=error)

    def give_up(self, *, endpoint_id: str, written_before: datetime) -> int:
        old = [d for d in self._s.deliveries.values() if d.endpoint_id == endpoint_id
               and d.status is DeliveryStatus.PENDING and d.created_at < written_before]
        for delivery in old:
            self._set(delivery.id, status=DeliveryStatus.FAILED, next_attempt_at=None)
        return len(old)

    def release(self, *, delivery_ids: Collection[str]) -> None:
        """Leases are not modelled here."""

    def resend(self, *, event_id: str, now: datetime) -> int:
        found = self.deliveries(event_id=event_id)
        for delivery in found:
            self._set(delivery.id, status=DeliveryStatus.PENDING, attempts=0,
                      next_attempt_at=now, delivered_at=None)
        self.queued = self.queued or bool(found)
        return len(found)

    def _set(self, delivery_id: str, **changes: object) -> None:
        self._s.deliveries[delivery_id] = replace(self._s.deliveries[delivery_id], **changes)  # type: ignore[arg-type]
