"""A customer cancels: now (ends today, with a final invoice) or at the end of the term.

At the end of the term, the subscription keeps its service and its renewals until then: its
`ends_on` is set to the term's end (the next monthly anchor, or the next anniversary of an
annual plan), the due query stops renewing it from that day, and the scheduler's endings
pass (`end_due_subscriptions`, run before the renewals) ends it that day through
workers/handlers/ending.py: a final invoice with the last period's prorata and minutes
instead of a renewal, and nothing after.
"""

from __future__ import annotations

import enum
import logging
from datetime import date

from domain.errors import UnknownSubscription
from domain.final_invoice import term_end
from domain.records import AuditEntry
from domain.subscriptions import Subscription, SubscriptionStatus
from workers.handlers.deps import Deps
from workers.handlers.ending import EndResult, end_subscription

log = logging.getLogger("paycollect.ending")

#: `end_reason` when the customer (or the business on their behalf) cancels.
CANCELED = "canceled"


class CancelAt(enum.StrEnum):
    PERIOD_END = "period_end"
    NOW = "now"


class AlreadyEnded(Exception):
    """The subscription has ended: there is nothing left to cancel."""

    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"subscription {subscription_id} has already ended")
        self.subscription_id = subscription_id


def cancel_subscription(deps: Deps, *, subscription_id: str, at: CancelAt,
                        reason: str | None = None, actor: str = "api") -> Subscription:
    """Cancel now or at the end of the term; returns the subscription as it now stands.

    Canceling again at the end of the term changes nothing; canceling now a subscription
    that was ending at the end of its term ends it today.
    Raises: UnknownSubscription, AlreadyEnded, CannotEndThere (now, on its first day).
    """
    today = deps.clock.today()
    why = reason or CANCELED
    with deps.uow_factory() as uow:
        subscription = uow.subscriptions.get(subscription_id=subscription_id)
        if subscription is None:
            raise UnknownSubscription(subscription_id)
        if subscription.status is not SubscriptionStatus.ACTIVE:
            raise AlreadyEnded(subscription_id)
        if at is CancelAt.PERIOD_END and subscription.ends_on is None:
            ends_on = term_end(terms=subscription.terms, today=today)
            if uow.subscriptions.schedule_end(subscription_id=subscription_id, ends_on=ends_on,
                                              reason=why):
                uow.audit.add(entry=AuditEntry(
                    at=deps.clock.now(), actor=actor, action="subscription.cancel_scheduled",
                    target=subscription_id, reason=why,
                    details={"ends_on": ends_on.isoformat()}))
                uow.commit()
    if at is CancelAt.NOW:
        result = end_subscription(deps, subscription_id=subscription_id, ends_on=today,
                                  reason=why, actor=actor)
        if not result.ended_now:
            raise AlreadyEnded(subscription_id)
    with deps.uow_factory() as uow:
        current = uow.subscriptions.get(subscription_id=subscription_id)
    assert current is not None
    return current


def end_due_subscriptions(deps: Deps, *, as_of: date, batch_size: int = 200) -> list[EndResult]:
    """End every subscription whose end day (set by a cancellation at the end of the term)
    is on or before `as_of`. Idempotent; one broken subscription does not stop the others."""
    ended: list[EndResult] = []
    failed: set[str] = set()
    while True:
        with deps.uow_factory() as uow:
            due = [s for s in uow.subscriptions.ending_due(as_of=as_of,
                                                           limit=batch_size + len(failed))
                   if s.id not in failed]
        if not due:
            return ended
        for subscription in due:
            assert subscription.ends_on is not None
            try:
                ended.append(end_subscription(
                    deps, subscription_id=subscription.id, ends_on=subscription.ends_on,
                    reason=subscription.end_reason or CANCELED, actor="scheduler"))
            except Exception:
                log.exception("ending failed", extra={"subscription_id": subscription.id})
                failed.add(subscription.id)
