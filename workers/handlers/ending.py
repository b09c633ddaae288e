"""End a subscription: its final invoice, and never a renewal again.

One handler for every way a subscription ends: the legal notice terminating its account
(workers/handlers/dunning.py), a cancellation now or at the end of the term
(`POST /v1/subscriptions/{id}/cancel`), and the scheduler's endings pass for the latter.

In one transaction: the subscription moves ACTIVE → CANCELED (compare-and-set: the row lock
makes a second, concurrent ending wait and then find it ended), any renewal dated before the
end day that was not issued yet is issued (catch-up), then the FINAL invoice
(domain/final_invoice.py) through the renewal's own issuing step: the same numbering, the
same balance forward (the earlier open invoices close as carried forward and their scheduled
retries stop; the final invoice is then collected and retried under the retry policy like
any other), the same ledger debit. Ending twice issues one final invoice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from domain.errors import UnknownAccount, UnknownSubscription
from domain.event_payloads import subscription_canceled
from domain.final_invoice import CannotEndThere, build_final_invoice, final_period
from domain.invoices import InvoiceKind
from domain.outgoing_events import EventType
from domain.ports import UnitOfWork
from domain.rate_cards import card_from_plan
from domain.records import AuditEntry
from domain.renewals import billing_dates
from domain.subscriptions import Subscription, SubscriptionStatus
from domain.usage import cutoff, minute_lines
from workers.handlers.deps import Deps
from workers.handlers.events import emit
from workers.handlers.renewals import RenewalSettings
from workers.handlers.renewals import _issue as issue_draft
from workers.handlers.renewals import _issue_day as issue_day

log = logging.getLogger("paycollect.ending")

#: `end_reason` of a subscription ended by its account's termination (the legal notice).
TERMINATED = "terminated"


@dataclass(frozen=True)
class EndResult:
    """What ending did (`subscription.canceled` was emitted in the same unit of work when
    `ended_now`)."""

    subscription_id: str
    ends_on: date
    #: The FINAL invoice, None when the renewal dated the end day had been issued already
    #: (it brought the balance forward that day; there is nothing left to bill).
    final_invoice_id: str | None
    #: Every invoice issued (catch-up renewals, then the final one): route them after commit.
    issued: tuple[str, ...] = ()
    #: False when the subscription had ended before (nothing was done this time).
    ended_now: bool = True

    @property
    def ended_subscription_id(self) -> str | None:
        return self.subscription_id if self.ended_now else None


def end_subscription(deps: Deps, *, subscription_id: str, ends_on: date, reason: str,
                     actor: str = "system") -> EndResult:
    """End the subscription on `ends_on` in its own transaction, then route what it issued.

    Raises: UnknownSubscription; CannotEndThere (on or before its start, or before a day
    already invoiced).
    """
    with deps.uow_factory() as uow:
        result = end_subscription_in(uow, deps, subscription_id=subscription_id,
                                     ends_on=ends_on, reason=reason, actor=actor)
        uow.commit()
    route_issued(deps, result)
    return result


def route_issued(deps: Deps, result: EndResult) -> None:
    if result.issued:
        deps.dispatch.route_many(list(result.issued))


def end_subscription_in(uow: UnitOfWork, deps: Deps, *, subscription_id: str, ends_on: date,
                        reason: str, actor: str) -> EndResult:
    """`end_subscription` inside the caller's unit of work (the caller commits and routes)."""
    subscription = _get(uow, subscription_id)
    if subscription.status is not SubscriptionStatus.ACTIVE:
        return _already_ended(uow, subscription)
    if subscription.billed_through is not None and ends_on < subscription.billed_through:
        raise CannotEndThere(f"subscription {subscription_id} is invoiced through "
                             f"{subscription.billed_through}: it cannot end on {ends_on}")
    final_period(terms=subscription.terms, ends_on=ends_on)  # refuses a day before the start
    if not uow.subscriptions.end(subscription_id=subscription_id, ends_on=ends_on,
                                 reason=reason):
        return _already_ended(uow, _get(uow, subscription_id))
    subscription = _get(uow, subscription_id)  # re-read under the row lock
    account = uow.accounts.get(account_id=subscription.account_id)
    if account is None:
        raise UnknownAccount(subscription.account_id)
    settings = RenewalSettings(wire_due_days=deps.wire_due_days)
    now = deps.clock.now()
    changes = uow.seat_changes.list_for(subscription_id=subscription_id, end=ends_on)
    card = (uow.rate_cards.get(subscription_id=subscription_id)
            or card_from_plan(subscription.plan))
    issued: list[str] = []
    for day in billing_dates(terms=subscription.terms, after=subscription.billed_through,
                             until=ends_on - timedelta(days=1)):
        issued += issue_day(uow, account=account, subscription=subscription, changes=changes,
                            card=card, day=day, settings=settings, now=now)
    already_billed = subscription.billed_through == ends_on
    if not already_billed:
        before = cutoff(ends_on)
        usage = uow.call_records.minutes_for(subscription_ids=[subscription_id], before=before)
        draft = build_final_invoice(
            terms=subscription.terms, changes=changes, ends_on=ends_on,
            minutes=minute_lines(card=card, usage=usage.get(subscription_id, [])))
        final = issue_draft(uow, account=account, subscription_id=subscription_id,
                            draft=draft, settings=settings, now=now)
        if final is not None:
            issued.append(final)
            uow.call_records.mark_billed(invoices={subscription_id: final}, before=before)
    uow.subscriptions.set_next_renewal(subscription_id=subscription_id, billed_through=ends_on,
                                       next_renewal_on=ends_on)
    final_id = None if already_billed else _final_id(uow, subscription, ends_on)
    uow.audit.add(entry=AuditEntry(at=now, actor=actor, action="subscription.ended",
                                   target=subscription_id, reason=reason,
                                   details={"ends_on": ends_on.isoformat(),
                                            "final_invoice": final_id or ""}))
    emit(uow, account_id=subscription.account_id, type=EventType.SUBSCRIPTION_CANCELED,
         occurred_at=now, data=dict(subscription_canceled(
             subscription_id=subscription_id, account_id=subscription.account_id,
             ends_on=ends_on.isoformat(), reason=reason), final_invoice=final_id))
    log.info("subscription ended on %s (%s)", ends_on, reason,
             extra={"subscription_id": subscription_id, "invoice_id": final_id})
    return EndResult(subscription_id=subscription_id, ends_on=ends_on,
                     final_invoice_id=final_id, issued=tuple(issued))


def final_invoice_of(uow: UnitOfWork, subscription: Subscription) -> str | None:
    """The id of an ended subscription's FINAL invoice (None: none, or not ended)."""
    if subscription.ends_on is None or subscription.ends_on <= subscription.started_on:
        return None
    return _final_id(uow, subscription, subscription.ends_on)


def _final_id(uow: UnitOfWork, subscription: Subscription, ends_on: date) -> str | None:
    window = final_period(terms=subscription.terms, ends_on=ends_on)
    found = uow.invoices.find_for_period(subscription_id=subscription.id,
                                         kind=InvoiceKind.FINAL, period_start=window.start)
    return None if found is None else found.id


def _already_ended(uow: UnitOfWork, subscription: Subscription) -> EndResult:
    assert subscription.ends_on is not None, "an ended subscription has its end day"
    return EndResult(subscription_id=subscription.id, ends_on=subscription.ends_on,
                     final_invoice_id=final_invoice_of(uow, subscription), ended_now=False)


def _get(uow: UnitOfWork, subscription_id: str) -> Subscription:
    subscription = uow.subscriptions.get(subscription_id=subscription_id)
    if subscription is None:
        raise UnknownSubscription(subscription_id)
    return subscription
