"""Outgoing events for operators: list (all, an account's, those given up), show with their
deliveries, resend (audited, like the customer outbox's resend)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.outgoing_events import OutgoingEvent
from domain.records import AuditEntry
from workers.handlers.deps import Deps
from workers.operations.errors import BadArgument, NotFoundError, Refused


def _row(event: OutgoingEvent) -> dict[str, Any]:
    return {"id": event.id, "account": event.account_id, "sequence": event.sequence,
            "type": event.type, "created": event.created_at.isoformat()}


def listed(deps: Deps, *, account_id: str | None = None, failed_only: bool = False,
           limit: int = 100) -> list[dict[str, Any]]:
    """Newest first; `failed_only`: events whose delivery to some endpoint was given up."""
    if limit < 1:
        raise BadArgument("--limit must be at least 1")
    with deps.uow_factory() as uow:
        found = uow.events.listed(account_id=account_id, failed_only=failed_only, limit=limit)
    return [_row(event) for event in found]


def show(deps: Deps, *, event_id: str) -> dict[str, Any]:
    """The event as sent (its envelope) and each delivery's state."""
    with deps.uow_factory() as uow:
        event = uow.events.get(event_id=event_id)
        if event is None:
            raise NotFoundError(f"no event {event_id!r}")
        deliveries = uow.events.deliveries(event_id=event_id)
    return {**_row(event), "body": event.envelope(), "deliveries": [
        {"id": d.id, "endpoint": d.endpoint_id, "url": d.url, "status": d.status.value,
         "attempts": d.attempts, "last_error": d.last_error,
         "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
         "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None}
        for d in deliveries]}


def resend(deps: Deps, *, event_ids: Sequence[str], reason: str, actor: str) -> list[str]:
    """Deliver the events again from scratch to their (enabled) endpoints; audited. Raises
    NotFoundError for an unknown id, Refused when no enabled endpoint ever got the event."""
    if not event_ids:
        raise BadArgument("give the ids of the events to send again")
    if not reason.strip():
        raise BadArgument("--reason must not be empty")
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        for event_id in event_ids:
            if uow.events.get(event_id=event_id) is None:
                raise NotFoundError(f"no event {event_id!r}")
        for event_id in event_ids:
            if uow.events.resend(event_id=event_id, now=now) == 0:
                raise Refused(f"event {event_id} has no enabled endpoint to send it to")
            # Asked to try now: a paused endpoint is tried at the next drain, not in hours
            uow.webhook_endpoints.resume(endpoint_ids={
                d.endpoint_id for d in uow.events.deliveries(event_id=event_id)})
            uow.audit.add(entry=AuditEntry(at=now, actor=actor, action="event.resend",
                                           target=event_id, reason=reason))
        uow.commit()
    return list(event_ids)
