"""Apply a Decision from the single transition function, inside one unit of work.

Every path that learns something about a payment (the synchronous provider response, a
webhook, the sweeper's reconciliation, an operator) ends here, so effects are applied one way.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from domain.accounts import Account, Standing
from domain.errors import AttemptAlreadyActive, UnknownAttempt
from domain.events import (
    AdjustInvoicePaid,
    CancelScheduledRetries,
    CreditLedger,
    DebitLedger,
    FlagMethodUnusable,
    NotifyCustomer,
    ReconcileWithProvider,
    RetryInAttempt,
    ScheduleRetry,
    invoice_status_after_payment,
)
from domain.invoices import Invoice, InvoiceStatus
from domain.ledger import EntryKind, entry
from domain.outcomes import CancelRequested
from domain.payments import AttemptStatus, Decision, Event, PaymentAttempt, apply_outcome
from domain.ports import UnitOfWork
from domain.records import Notification
from workers.handlers.deps import Deps
from workers.handlers.standing import refresh_standing

log = logging.getLogger("paycollect.payments")


@dataclass
class AfterCommit:
    """Messages to send once the transaction has committed (never before: a message about a
    row that was rolled back would point at nothing)."""

    reconcile: list[str] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)
    collect: list[tuple[str, str]] = field(default_factory=list)

    def send(self, deps: Deps) -> None:
        for attempt_id in self.reconcile:
            deps.dispatch.reconcile(attempt_id)
        for notification_id in self.notifications:
            deps.dispatch.send_notification(notification_id)
        for attempt_id, method in self.collect:
            deps.dispatch.collect(attempt_id, method)


def record_event(deps: Deps, *, attempt_id: str, event: Event) -> Decision:
    """Apply `event` to the attempt in its own transaction, then send follow-up messages."""
    after = AfterCommit()
    with deps.uow_factory() as uow:
        decision = apply_event(uow, deps, attempt_id=attempt_id, event=event, after=after)
        uow.commit()
    after.send(deps)
    return decision


def apply_event(uow: UnitOfWork, deps: Deps, *, attempt_id: str, event: Event,
                after: AfterCommit) -> Decision:
    """Decide and apply `event` within the caller's unit of work (the caller commits)."""
    seen = uow.attempts.get(attempt_id=attempt_id)
    if seen is None:
        raise UnknownAttempt(attempt_id)
    # Invoice, then attempt: the lock order of renewals and of the collection claim, so two
    # of them on one invoice wait for each other instead of deadlocking.
    invoice = uow.invoices.get_for_update(invoice_id=seen.invoice_id)
    assert invoice is not None, "an attempt always has its invoice"
    attempt = uow.attempts.get_for_update(attempt_id=attempt_id)
    assert attempt is not None, "attempts are never deleted"
    now = deps.clock.now()
    decision = apply_outcome(
        attempt=attempt, outcome=event, invoice_due=invoice.amount_due,
        policy=deps.retry_policy, now=now,
        attempts_so_far=uow.attempts.created_times(account_id=attempt.account_id,
                                                   method=attempt.method,
                                                   since=now - timedelta(days=30)))
    log.info("payment event %s: %s", type(event).__name__, decision.note,
             extra={"attempt_id": attempt.id, "invoice_id": attempt.invoice_id,
                    "status": decision.status})
    if decision.ignored:
        return decision
    if decision.attempt is not None:
        if not uow.attempts.update(attempt=decision.attempt, expected_status=attempt.status):
            raise RuntimeError(f"attempt {attempt.id} moved under a row lock")
        attempt = decision.attempt
    for effect in decision.effects:
        invoice = _apply_effect(uow, deps, effect, attempt=attempt, invoice=invoice, now=now,
                                after=after)
    return decision


def _apply_effect(uow: UnitOfWork, deps: Deps, effect: object, *, attempt: PaymentAttempt,
                  invoice: Invoice, now: datetime, after: AfterCommit) -> Invoice:
    today = now.date()
    match effect:
        case CreditLedger(amount=amount, kind=kind, memo=memo):
            key = f"settle:{attempt.id}" if kind is EntryKind.PAYMENT_SETTLED else None
            uow.ledger.add(entry=entry(kind, account_id=attempt.account_id, amount=amount,
                                       on=today, invoice_id=invoice.id, attempt_id=attempt.id,
                                       memo=memo), dedupe_key=key)
        case DebitLedger(kind=kind, amount=amount, memo=memo):
            uow.ledger.add(entry=entry(kind, account_id=attempt.account_id, amount=amount,
                                       on=today, invoice_id=invoice.id, attempt_id=attempt.id,
                                       memo=memo))
        case AdjustInvoicePaid(delta=delta):
            invoice = replace(invoice, amount_paid=invoice.paid + delta)
            status = invoice_status_after_payment(invoice)
            uow.invoices.update_amounts(invoice_id=invoice.id, amount_paid=invoice.amount_paid,
                                        amount_carried=invoice.amount_carried)
            if status is not invoice.status:
                uow.invoices.update_status(invoice_id=invoice.id, status=status,
                                           carried_to=invoice.carried_to)
                invoice = replace(invoice, status=status)
                _reinstate_if_paid(uow, account_id=attempt.account_id, now=now)
        case ScheduleRetry():
            _schedule_retry(uow, effect, attempt=attempt, invoice=invoice, now=now)
        case CancelScheduledRetries(reason=reason):
            cancel_active(uow, deps, invoice_id=invoice.id, reason=reason, after=after)
        case FlagMethodUnusable(reason=reason):
            account = _account(uow, attempt.account_id)
            if account.payment_method.type.value == attempt.method.value:
                uow.accounts.update_payment_method(
                    account_id=account.id,
                    method=replace(account.payment_method, usable=False,
                                   details={**account.payment_method.details,
                                            "unusable_reason": reason}))
        case NotifyCustomer(kind=kind):
            notify(uow, deps, kind=kind.value, account=_account(uow, attempt.account_id),
                   invoice=invoice, attempt=attempt, after=after)
        case ReconcileWithProvider():
            after.reconcile.append(attempt.id)
        case RetryInAttempt():
            # Gateways retry transient faults themselves and answer Unknown when they give up;
            # reaching here means one did not. Treat it as unknown: reconcile, never re-charge.
            after.reconcile.append(attempt.id)
        case _:
            raise TypeError(f"unknown effect {effect!r}")
    return invoice


def _schedule_retry(uow: UnitOfWork, effect: ScheduleRetry, *, attempt: PaymentAttempt,
                    invoice: Invoice, now: datetime) -> None:
    if invoice.status is not InvoiceStatus.OPEN or not invoice.amount_due.is_positive():
        return
    retry = PaymentAttempt(
        id=str(uuid.uuid4()), invoice_id=invoice.id, account_id=attempt.account_id,
        method=attempt.method, number=effect.number, amount=invoice.amount_due,
        status=AttemptStatus.SCHEDULED, created_at=now, updated_at=now,
        scheduled_for=effect.at, retry_schedule_days=effect.schedule_days,
        first_failed_at=effect.first_failed_at, reason="retry")
    try:
        uow.attempts.add(attempt=retry)
    except AttemptAlreadyActive:
        log.info("retry not scheduled: invoice already has an active attempt",
                 extra={"invoice_id": invoice.id})


def cancel_active(uow: UnitOfWork, deps: Deps, *, invoice_id: str, reason: str,
                  after: AfterCommit) -> None:
    """Cancel the invoice's active attempt if nothing is in flight on it (scheduled retry,
    wire instructions); through the transition function like every other change."""
    active = uow.attempts.active_for_invoice(invoice_id=invoice_id)
    if active is not None:
        apply_event(uow, deps, attempt_id=active.id, event=CancelRequested(reason), after=after)


def notify(uow: UnitOfWork, deps: Deps, *, kind: str, account: Account, invoice: Invoice | None,
           attempt: PaymentAttempt | None, after: AfterCommit) -> None:
    """Queue a customer message in the outbox, once per (kind, attempt or invoice)."""
    subject, text, html = deps.composer.compose(kind=kind, account=account, invoice=invoice,
                                                attempt=attempt)
    target = attempt.id if attempt else (invoice.id if invoice else account.id)
    notification = Notification(
        id=str(uuid.uuid4()), account_id=account.id, kind=kind, dedupe_key=f"{kind}:{target}",
        to_address=account.email or f"billing+{account.id}@customers.invalid",
        subject=subject, body_text=text, body_html=html, created_at=deps.clock.now())
    if uow.outbox.add(notification=notification):
        after.notifications.append(notification.id)


def _reinstate_if_paid(uow: UnitOfWork, *, account_id: str, now: datetime) -> None:
    # Paying the balance reinstates the account at once, not at the next dunning pass.
    if _account(uow, account_id).standing is not Standing.ACTIVE:
        refresh_standing(uow, account_id=account_id, now=now, actor="payment")


def _account(uow: UnitOfWork, account_id: str) -> Account:
    account = uow.accounts.get(account_id=account_id)
    assert account is not None, "an attempt always has its account"
    return account


__all__ = ["AfterCommit", "apply_event", "cancel_active", "notify", "record_event"]
