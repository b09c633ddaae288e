"""Provider webhooks after verification: stored once, then processed by a dispatch dict.

`receive` writes verified events to the inbox (unique by provider and event id: a duplicate
delivery writes nothing). `process_webhook` runs the handler for the event's type; every
payment event goes through `record_event`, the single transition function, so duplicates and
late events change nothing. A handler that cannot apply its event yet (the attempt is not
known, or the event it refers to has not arrived) *parks* it: the row stays unprocessed with a
try counter, a next-try time and a note, and the sweeper re-drives it (`redrive`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from domain.records import WebhookEvent
from workers.handlers import webhooks_gocardless, webhooks_setups, webhooks_stripe
from workers.handlers.deps import Deps
from workers.handlers.webhook_results import Handled, Parked, Result

log = logging.getLogger("paycollect.webhooks")

Handler = Callable[[Deps, WebhookEvent], Result]

#: Event type → handler, per provider. Types not listed are stored and marked processed.
HANDLERS: dict[str, dict[str, Handler]] = {
    "stripe": {**webhooks_stripe.HANDLERS, **webhooks_setups.STRIPE_HANDLERS},
    "gocardless": {**webhooks_gocardless.HANDLERS, **webhooks_setups.GOCARDLESS_HANDLERS},
}

#: A parked event is tried again after 1, 2, 4… minutes, never more than 6 hours apart.
PARK_FIRST_DELAY = timedelta(minutes=1)
PARK_MAX_DELAY = timedelta(hours=6)


def park_delay(attempts: int) -> timedelta:
    delay: timedelta = PARK_FIRST_DELAY * (2 ** min(attempts, 16))
    return min(delay, PARK_MAX_DELAY)


def receive(deps: Deps, *, events: Iterable[WebhookEvent]) -> list[WebhookEvent]:
    """Store verified events in one transaction; returns those not stored before."""
    added: list[WebhookEvent] = []
    with deps.uow_factory() as uow:
        for event in events:
            if uow.webhook_events.add(event=event):
                added.append(event)
        uow.commit()
    return added


def process_webhook(deps: Deps, *, provider: str, event_id: str, force: bool = False) -> str:
    """Process one stored event; returns its status afterwards (processed / parked / unknown).

    `force` processes an already processed event again (operator replay): harmless, since
    every effect is applied at most once.
    """
    with deps.uow_factory() as uow:
        stored = uow.webhook_events.get(provider=provider, event_id=event_id)
    if stored is None:
        log.warning("webhook event %s/%s is not in the inbox", provider, event_id)
        return "unknown"
    if stored.processed_at is not None and not force:
        return "processed"
    result = _run(deps, stored)
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        if isinstance(result, Handled):
            uow.webhook_events.mark_processed(provider=provider, event_id=event_id, at=now,
                                              note=result.note)
        else:
            uow.webhook_events.record_attempt(
                provider=provider, event_id=event_id, note=result.note,
                next_attempt_at=now + park_delay(stored.attempts))
        uow.commit()
    log.info("webhook %s %s: %s", stored.type, event_id, result.note,
             extra={"provider": provider, "event_id": event_id})
    return "processed" if isinstance(result, Handled) else "parked"


def _run(deps: Deps, stored: WebhookEvent) -> Result:
    handler = HANDLERS.get(stored.provider, {}).get(stored.type)
    if handler is None:
        return Handled(f"ignored: no handler for {stored.type}")
    try:
        return handler(deps, stored)
    except Exception as error:  # (kept in the inbox; the sweeper retries it)
        log.exception("webhook %s/%s failed", stored.provider, stored.event_id)
        return Parked(f"error: {type(error).__name__}: {error}")


def redrive(deps: Deps, *, now: datetime, received_before: datetime, limit: int) -> int:
    """Process inbox rows that are due again (parked) or stalled (their message was lost)."""
    with deps.uow_factory() as uow:
        due = uow.webhook_events.due(now=now, received_before=received_before, limit=limit)
    for stored in due:
        process_webhook(deps, provider=stored.provider, event_id=stored.event_id)
    return len(due)


def describe(event: WebhookEvent) -> dict[str, Any]:
    """An inbox row for operators (CLI, JSON)."""
    return {"provider": event.provider, "event_id": event.event_id, "type": event.type,
            "status": event.status, "resource_id": event.resource_id,
            "received_at": event.received_at.isoformat(),
            "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
            "processed_at": event.processed_at.isoformat() if event.processed_at else None,
            "attempts": event.attempts,
            "next_attempt_at": (event.next_attempt_at.isoformat()
                                if event.next_attempt_at else None),
            "note": event.note}


__all__ = ["HANDLERS", "describe", "park_delay", "process_webhook", "receive", "redrive"]
