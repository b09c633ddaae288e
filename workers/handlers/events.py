"""Emit an outgoing event inside the caller's unit of work: the one function every change
that the business must hear about calls (payments, standing, invoices, subscriptions).

    emit(uow, account_id=invoice.account_id, type=EventType.INVOICE_ISSUED,
         data=invoice_object(invoice), occurred_at=now)

The event, its per-account sequence number and one delivery per subscribed endpoint are
written in the caller's transaction: committed with the change, or not at all. They are
stored when the unit of work commits (or before anything reads the events), all of the
transaction's events together: a batch of 50 outcomes emitting 100 events stores them in
three statements. After the commit the unit of work asks for a delivery drain
(`on_events_committed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.outgoing_events import EventType, NewEvent, new_event_id
from domain.ports import UnitOfWork


def emit(uow: UnitOfWork, *, account_id: str, type: EventType | str, data: dict[str, Any],
         occurred_at: datetime) -> str:
    """Write one event (and its deliveries) in `uow`; the caller commits. Returns its id."""
    event = NewEvent(id=new_event_id(), account_id=account_id, type=EventType(type).value,
                     created_at=occurred_at, data=data)
    uow.events.write(event=event)
    return event.id


def emit_many(uow: UnitOfWork, *, events: Sequence[tuple[str, EventType, dict[str, Any]]],
              occurred_at: datetime) -> list[str]:
    """`emit` for many (account id, type, data), in order: what a batch of renewals emits."""
    return [emit(uow, account_id=account_id, type=type, data=data, occurred_at=occurred_at)
            for account_id, type, data in events]


__all__ = ["emit", "emit_many"]
