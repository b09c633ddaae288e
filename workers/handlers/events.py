"""Emit an outgoing event inside the caller's unit of work: the one function every change
that the business must hear about calls (payments, standing, invoices, subscriptions).

    emit(uow, account_id=invoice.account_id, type=EventType.INVOICE_ISSUED,
         data=invoice_object(invoice), occurred_at=now)

The event, its per-account sequence number and one delivery per subscribed endpoint are
written in the caller's transaction: committed with the change, or not at all. After the
commit the unit of work asks for a delivery drain (`on_events_committed`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.outgoing_events import EventType, OutgoingEvent, WebhookEndpoint, new_event_id
from domain.ports import UnitOfWork


def emit(uow: UnitOfWork, *, account_id: str, type: EventType | str, data: dict[str, Any],
         occurred_at: datetime) -> OutgoingEvent:
    """Write one event (and its deliveries) in `uow`; the caller commits."""
    event_type = EventType(type).value
    sequence = uow.events.next_sequence(account_id=account_id)
    event = OutgoingEvent(id=new_event_id(), account_id=account_id, sequence=sequence,
                          type=event_type, created_at=occurred_at, data=data)
    endpoints = [e for e in uow.webhook_endpoints.enabled() if e.wants(event_type)]
    uow.events.add(event=event, endpoint_ids=[e.id for e in endpoints],
                   ring=_any_awake(endpoints, occurred_at))
    return event


def emit_many(uow: UnitOfWork, *, events: Sequence[tuple[str, EventType, dict[str, Any]]],
              occurred_at: datetime) -> list[OutgoingEvent]:
    """`emit` for many (account id, type, data), in order, in a fixed number of statements
    (one for every account's numbers, one for the events, one for the deliveries): what a
    batch of renewals emits."""
    counts = Counter(account_id for account_id, _, _ in events)
    following = uow.events.take_sequences(counts=counts)
    endpoints = uow.webhook_endpoints.enabled()
    written = []
    ring = False
    for account_id, type, data in events:
        event_type = EventType(type).value
        event = OutgoingEvent(id=new_event_id(), account_id=account_id,
                              sequence=following[account_id], type=event_type,
                              created_at=occurred_at, data=data)
        following[account_id] += 1
        wanting = [e for e in endpoints if e.wants(event_type)]
        ring = ring or _any_awake(wanting, occurred_at)
        written.append((event, [e.id for e in wanting]))
    uow.events.add_many(events=written, ring=ring)
    return [event for event, _ in written]


def _any_awake(endpoints: Sequence[WebhookEndpoint], at: datetime) -> bool:
    # Deliveries to paused endpoints wait for the pause to end: the scheduler's pass asks
    # for that drain, so the commit need not ring (a dead endpoint would be rung for
    # after every payment).
    return any(not endpoint.paused_at(at) for endpoint in endpoints)


__all__ = ["emit", "emit_many"]
