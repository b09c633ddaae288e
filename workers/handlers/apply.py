"""Apply a Decision from the single transition function, inside one unit of work.

Every path that learns something about a payment (the synchronous provider response, a
webhook, the sweeper's reconciliation, an operator) ends here, so effects are applied one way.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, overload

from domain.accounts import Account, Standing
from domain.errors import AttemptAlreadyActive, UnknownAttempt
from domain.event_payloads import invoice_object, payment_method_required, payment_object
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
from domain.outgoing_events import EventType
from domain.payments import AttemptStatus, Decision, Event, PaymentAttempt, apply_outcome
from domain.ports import LockedAttempt, UnitOfWork
from domain.records import Notification
from workers.handlers.deps import Deps
from workers.handlers.events import emit
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
        if self.notifications:
            # A drain sends every committed message of the outbox: one ask covers all of
            # this transaction's (a batch's 50 receipts asked Redis 50 times).
            deps.dispatch.send_notification(self.notifications[0])
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


#: Statuses a batch's outcome reaches on the way to being paid: logged at DEBUG inside a
#: batch, which logs one INFO line counting them (a line per invoice at thousands a second
#: cost more than recording its outcome). Anything else stays a line of its own at INFO.
_ROUTINE = frozenset({AttemptStatus.SUCCEEDED, AttemptStatus.PENDING,
                      AttemptStatus.AWAITING_TRANSFER})


def apply_event(uow: UnitOfWork, deps: Deps, *, attempt_id: str, event: Event,
                after: AfterCommit, locked: LockedAttempt | None = None,
                in_batch: bool = False) -> Decision:
    """Decide and apply `event` within the caller's unit of work (the caller commits).

    `locked`: the attempt as the caller locked it in this unit of work (a batch locks all
    of its attempts in one statement); otherwise it is locked and read here. `in_batch`:
    the caller logs a summary of its batch, so a routine outcome is logged at DEBUG."""
    # Invoice, then attempt: the lock order of renewals and of the collection claim, so two
    # of them on one invoice wait for each other instead of deadlocking.
    if locked is None or locked.attempt.id != attempt_id:
        locked = uow.invoices.lock_for_attempt(attempt_id=attempt_id)
    if locked is None:
        raise UnknownAttempt(attempt_id)
    invoice, attempt = locked.invoice, locked.attempt
    now = deps.clock.now()
    decision = apply_outcome(
        attempt=attempt, outcome=event, invoice_due=invoice.amount_due,
        policy=deps.retry_policy, now=now,
        attempts_so_far=_AttemptTimes(uow, attempt, since=now - timedelta(days=30)))
    routine = in_batch and (decision.ignored or decision.status in _ROUTINE)
    log.log(logging.DEBUG if routine else logging.INFO,
            "payment event %s: %s", type(event).__name__, decision.note,
            extra={"attempt_id": attempt.id, "invoice_id": attempt.invoice_id,
                   "status": decision.status})
    if decision.ignored:
        return decision
    if decision.attempt is not None:
        if not uow.attempts.update(attempt=decision.attempt, expected_status=attempt.status,
                                   locked=True):
            raise RuntimeError(f"attempt {attempt.id} moved under a row lock")
        before = attempt.status
        attempt = decision.attempt
        _emit_payment_outcome(uow, before=before, attempt=attempt, invoice=invoice,
                              effects=decision.effects, now=now)
    account = _Account(locked.account)
    for effect in decision.effects:
        invoice = _apply_effect(uow, deps, effect, attempt=attempt, invoice=invoice, now=now,
                                after=after, account=account)
    return decision


def _apply_effect(uow: UnitOfWork, deps: Deps, effect: object, *, attempt: PaymentAttempt,
                  invoice: Invoice, now: datetime, after: AfterCommit,
                  account: _Account) -> Invoice:
    today = now.date()
    match effect:
        case CreditLedger(amount=amount, kind=kind, memo=memo):
            key = f"settle:{attempt.id}" if kind is EntryKind.PAYMENT_SETTLED else None
            uow.ledger.append(entry=entry(kind, account_id=attempt.account_id, amount=amount,
                                          on=today, invoice_id=invoice.id,
                                          attempt_id=attempt.id, memo=memo), dedupe_key=key)
        case DebitLedger(kind=kind, amount=amount, memo=memo):
            uow.ledger.append(entry=entry(kind, account_id=attempt.account_id, amount=amount,
                                          on=today, invoice_id=invoice.id,
                                          attempt_id=attempt.id, memo=memo))
        case AdjustInvoicePaid(delta=delta):
            before = invoice.status
            invoice = replace(invoice, amount_paid=invoice.paid + delta)
            invoice = replace(invoice, status=invoice_status_after_payment(invoice))
            uow.invoices.update_settlement(invoice=invoice)
            if invoice.status is InvoiceStatus.PAID and before is not InvoiceStatus.PAID:
                emit(uow, account_id=invoice.account_id, type=EventType.INVOICE_PAID,
                     data=invoice_object(invoice), occurred_at=now)
            if invoice.status is not before:
                _reinstate_if_paid(uow, account.get(), now=now)
        case ScheduleRetry():
            _schedule_retry(uow, effect, attempt=attempt, invoice=invoice, now=now)
        case CancelScheduledRetries(reason=reason):
            cancel_active(uow, deps, invoice_id=invoice.id, reason=reason, after=after)
        case FlagMethodUnusable(reason=reason):
            method = account.get().payment_method
            if method.type.value == attempt.method.value:
                unusable = replace(method, usable=False,
                                   details={**method.details, "unusable_reason": reason})
                emit(uow, account_id=attempt.account_id,
                     type=EventType.PAYMENT_METHOD_REQUIRED, occurred_at=now,
                     data=payment_method_required(account_id=attempt.account_id,
                                                  method=unusable, reason=reason))
                uow.accounts.update_payment_method(account_id=attempt.account_id,
                                                   method=unusable)
                account.changed(payment_method=unusable)
        case NotifyCustomer(kind=kind):
            notify(uow, deps, kind=kind.value, account=account.get(), invoice=invoice,
                   attempt=attempt, after=after)
        case ReconcileWithProvider():
            after.reconcile.append(attempt.id)
        case RetryInAttempt():
            # Gateways retry transient faults themselves and answer Unknown when they give up;
            # reaching here means one did not. Treat it as unknown: reconcile, never re-charge.
            after.reconcile.append(attempt.id)
        case _:
            raise TypeError(f"unknown effect {effect!r}")
    return invoice


#: Attempt statuses reported as `payment.failed` (a customer action is a failure to pay too).
_FAILED = frozenset({AttemptStatus.FAILED, AttemptStatus.REQUIRES_ACTION})


def _emit_payment_outcome(uow: UnitOfWork, *, before: AttemptStatus, attempt: PaymentAttempt,
                          invoice: Invoice, effects: Sequence[object], now: datetime) -> None:
    """payment.succeeded / payment.failed when the attempt reaches that status (once: the
    transition function ignores a repeated outcome)."""
    if attempt.status is before:
        return
    if attempt.status is AttemptStatus.SUCCEEDED:
        emit(uow, account_id=attempt.account_id, type=EventType.PAYMENT_SUCCEEDED,
             data=payment_object(attempt, invoice=invoice), occurred_at=now)
    elif attempt.status in _FAILED:
        retry = next((e.at for e in effects if isinstance(e, ScheduleRetry)), None)
        if invoice.status is not InvoiceStatus.OPEN or not invoice.amount_due.is_positive():
            retry = None  # _schedule_retry will not schedule it
        emit(uow, account_id=attempt.account_id, type=EventType.PAYMENT_FAILED,
             data=payment_object(attempt, invoice=invoice, next_retry_at=retry),
             occurred_at=now)


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
           attempt: PaymentAttempt | None, after: AfterCommit, about: str | None = None) -> None:
    """Queue a customer message in the outbox, once per (kind, attempt or invoice, or
    `about` when given: what the message is about, e.g. a mandate)."""
    subject, text, html = deps.composer.compose(kind=kind, account=account, invoice=invoice,
                                                attempt=attempt)
    target = about or (attempt.id if attempt else (invoice.id if invoice else account.id))
    notification = Notification(
        id=str(uuid.uuid4()), account_id=account.id, kind=kind, dedupe_key=f"{kind}:{target}",
        to_address=account.email or f"billing+{account.id}@customers.invalid",
        subject=subject, body_text=text, body_html=html, created_at=deps.clock.now())

    def inserted(new: bool) -> None:
        if new:  # told before the commit; the message goes after it
            after.notifications.append(notification.id)

    uow.outbox.add_later(notification=notification, inserted=inserted)


def _reinstate_if_paid(uow: UnitOfWork, account: Account, *, now: datetime) -> None:
    # Paying the balance reinstates the account at once, not at the next dunning pass.
    if account.standing is not Standing.ACTIVE:
        refresh_standing(uow, account_id=account.id, now=now, actor="payment")


class _AttemptTimes(Sequence[datetime]):
    """When each attempt on the account's method was made in the last 30 days, read only if
    the transition function asks (it does for failures, never for a settlement)."""

    def __init__(self, uow: UnitOfWork, attempt: PaymentAttempt, *, since: datetime) -> None:
        self._uow, self._attempt, self._since = uow, attempt, since
        self._times: list[datetime] | None = None

    def _all(self) -> list[datetime]:
        if self._times is None:
            self._times = self._uow.attempts.created_times(
                account_id=self._attempt.account_id, method=self._attempt.method,
                since=self._since)
        return self._times

    @overload
    def __getitem__(self, index: int) -> datetime: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[datetime]: ...
    def __getitem__(self, index: int | slice) -> datetime | Sequence[datetime]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())


class _Account:
    """The attempt's account while one event's effects are applied: read with the locks,
    kept up to date with what the effects change."""

    def __init__(self, account: Account) -> None:
        self._account = account

    def get(self) -> Account:
        return self._account

    def changed(self, **changes: Any) -> None:
        self._account = replace(self._account, **changes)


__all__ = ["AfterCommit", "apply_event", "cancel_active", "notify", "record_event"]
