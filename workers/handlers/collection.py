"""Collection: route a finalised invoice to its payment method, and run one attempt.

The attempt row is written (SCHEDULED) before any provider call, and claimed (SCHEDULED →
PROCESSING, compare-and-set) before the call: a redelivered or duplicated message finds it
already claimed and does nothing, so a charge is never sent twice for one attempt. A crash
after the claim leaves it PROCESSING, which the sweeper reconciles with the provider.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime

from domain.accounts import Account, MethodType
from domain.errors import AttemptAlreadyActive, UnknownAttempt, UnknownInvoice
from domain.invoices import Invoice, InvoiceStatus
from domain.outcomes import CancelRequested, Outcome, ProviderEvent, TransientFailure, Unknown
from domain.payments import ACTIVE_STATUSES, AttemptStatus, PaymentAttempt
from workers.handlers.apply import AfterCommit, apply_event, record_event
from workers.handlers.deps import Deps

log = logging.getLogger("paycollect.collection")


def route_invoice(deps: Deps, *, invoice_id: str, reason: str = "renewal") -> str | None:
    """Create the invoice's first attempt (if it has none active) and send it to its worker.

    Returns the attempt id sent, or None when there is nothing to collect.
    """
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        found = uow.invoices.get_with_account(invoice_id=invoice_id)
        if found is None:
            raise UnknownInvoice(invoice_id)
        invoice, account = found
        # One read gives both the active attempt (if any) and the next attempt's number.
        earlier = uow.attempts.list_for_invoice(invoice_id=invoice_id)
        active = next((a for a in earlier if a.status in ACTIVE_STATUSES), None)
        if active is not None:
            attempt = active
        else:
            if not _collectable(invoice, account):
                return None
            attempt = new_attempt(invoice=invoice, account=account, number=len(earlier) + 1,
                                  now=now, retry_schedule=deps.retry_policy.schedule_days,
                                  reason=reason)
            try:
                uow.attempts.add(attempt=attempt)
            except AttemptAlreadyActive:
                return None  # a concurrent router won; its message carries the attempt
            uow.commit()
    if attempt.status is AttemptStatus.SCHEDULED:
        deps.dispatch.collect(attempt.id, attempt.method.value)
    return attempt.id


def _collectable(invoice: Invoice, account: Account) -> bool:
    return (invoice.status is InvoiceStatus.OPEN and invoice.amount_due.is_positive()
            and account.payment_method.usable)


def new_attempt(*, invoice: Invoice, account: Account, number: int, now: datetime,
                retry_schedule: tuple[int, ...], reason: str) -> PaymentAttempt:
    return PaymentAttempt(
        id=str(uuid.uuid4()), invoice_id=invoice.id, account_id=account.id,
        method=account.payment_method.type, number=number, amount=invoice.amount_due,
        status=AttemptStatus.SCHEDULED, created_at=now, updated_at=now,
        scheduled_for=now, retry_schedule_days=retry_schedule, reason=reason)


def collect_attempt(deps: Deps, *, attempt_id: str) -> AttemptStatus | None:
    """Claim a due SCHEDULED attempt, call its provider outside any transaction, record the
    outcome. Returns the attempt's new status (None: nothing was done)."""
    claimed = _claim(deps, attempt_id=attempt_id)
    if claimed is None:
        return None
    attempt, account, invoice = claimed
    outcome = _call_provider(deps, attempt=attempt, account=account, invoice=invoice)
    if isinstance(outcome, TransientFailure):
        # Gateways retry transient faults inside the attempt; one that still reports one has
        # given up without knowing whether money moved.
        outcome = Unknown(outcome.reason)
    return record_event(deps, attempt_id=attempt.id, event=outcome).status


def _claim(deps: Deps, *, attempt_id: str) -> tuple[PaymentAttempt, Account, Invoice] | None:
    now = deps.clock.now()
    after = AfterCommit()
    with deps.uow_factory() as uow:
        # Lock the invoice, then the attempt: the order a renewal takes them (open invoices,
        # then their scheduled attempts). Locking only the attempt let a renewal read it
        # SCHEDULED, bring the whole amount forward, and fail to cancel it once claimed:
        # the customer was charged for it and asked for it again on the next invoice.
        locked = uow.invoices.lock_for_attempt(attempt_id=attempt_id)
        if locked is None:
            raise UnknownAttempt(attempt_id)
        invoice, attempt, account = locked.invoice, locked.attempt, locked.account
        if attempt.status is not AttemptStatus.SCHEDULED:
            log.info("attempt already %s; nothing to do", attempt.status,
                     extra={"attempt_id": attempt_id})
            return None
        if attempt.scheduled_for is not None and attempt.scheduled_for > now:
            return None  # not due yet: the sweeper sends it when it is
        # Re-check just before charging: the invoice may have been paid, carried forward or
        # the method changed since the attempt was scheduled.
        why = _why_not(invoice, account, attempt)
        if why is not None:
            apply_event(uow, deps, attempt_id=attempt_id, event=CancelRequested(why),
                        after=after)
            uow.commit()
            after.send(deps)
            return None
        claimed = replace(attempt, status=AttemptStatus.PROCESSING, amount=invoice.amount_due,
                          updated_at=now)
        if not uow.attempts.update(attempt=claimed, expected_status=AttemptStatus.SCHEDULED):
            return None
        uow.commit()
    return claimed, account, invoice


def _why_not(invoice: Invoice, account: Account, attempt: PaymentAttempt) -> str | None:
    if invoice.status is not InvoiceStatus.OPEN:
        return f"invoice is {invoice.status}"
    if not invoice.amount_due.is_positive():
        return "nothing due on the invoice"
    if account.payment_method.type is not attempt.method:
        return f"payment method changed to {account.payment_method.type}"
    if not account.payment_method.usable:
        return "payment method unusable; a new one is needed"
    return None


def _call_provider(deps: Deps, *, attempt: PaymentAttempt, account: Account,
                   invoice: Invoice) -> Outcome:
    method = account.payment_method
    log.info("calling provider", extra={"attempt_id": attempt.id, "invoice_id": invoice.id,
                                        "method": attempt.method.value,
                                        "amount_minor": attempt.amount.minor})
    if attempt.method is MethodType.CARD:
        assert method.provider_customer and method.provider_method
        return deps.card.charge(attempt_id=attempt.id, customer=method.provider_customer,
                                payment_method=method.provider_method, amount=attempt.amount,
                                invoice_id=invoice.id, account_id=account.id)
    if attempt.method is MethodType.DIRECT_DEBIT:
        assert method.provider_method
        return deps.direct_debit.collect(attempt_id=attempt.id, mandate_id=method.provider_method,
                                         amount=attempt.amount, invoice_id=invoice.id,
                                         account_id=account.id)
    wire_invoice = replace(invoice, amount_paid=invoice.paid)
    return deps.wire.publish(invoice=wire_invoice, account=account,
                             due_days=deps.wire_due_days)


def reconcile_attempt(deps: Deps, *, attempt_id: str) -> AttemptStatus | None:
    """Ask the provider what happened to an attempt we lost track of (never re-charge)."""
    with deps.uow_factory() as uow:
        attempt = uow.attempts.get(attempt_id=attempt_id)
    if attempt is None:
        raise UnknownAttempt(attempt_id)
    if attempt.status is AttemptStatus.PROCESSING:
        # Stuck mid-call (worker killed): first record that we do not know, then look.
        record_event(deps, attempt_id=attempt_id, event=Unknown("stuck while processing"))
        return None  # recording Unknown enqueues this reconciliation again
    if attempt.status is AttemptStatus.UNKNOWN:
        found = _lookup(deps, attempt)
    elif attempt.status is AttemptStatus.PENDING and attempt.provider_ref:
        found = _poll(deps, attempt)
    else:
        return None
    if isinstance(found, TransientFailure | Unknown):
        return None  # provider unreachable: the sweeper asks again when it was due to
    decision = record_event(deps, attempt_id=attempt_id, event=found)
    if decision.attempt is None:
        # Nothing changed (a debit still pending): look again one poll interval from now.
        with deps.uow_factory() as uow:
            uow.attempts.answered(attempt_id=attempt_id, now=deps.clock.now())
            uow.commit()
    return decision.status


def _lookup(deps: Deps, attempt: PaymentAttempt) -> Outcome | ProviderEvent:
    if attempt.method is MethodType.CARD:
        return deps.card.find_payment(attempt_id=attempt.id)
    if attempt.method is MethodType.DIRECT_DEBIT:
        # The account's mandate narrows the search (GoCardless cannot filter by metadata).
        with deps.uow_factory() as uow:
            account = uow.accounts.get(account_id=attempt.account_id)
        method = account.payment_method if account is not None else None
        mandate = (method.provider_method if method is not None
                   and method.type is MethodType.DIRECT_DEBIT else None)
        return deps.direct_debit.find_payment(attempt_id=attempt.id, mandate_id=mandate)
    # Publishing wire instructions is idempotent per invoice (same stream event id, same
    # Message-ID), so "did it happen?" is answered by doing it again.
    with deps.uow_factory() as uow:
        invoice = uow.invoices.get(invoice_id=attempt.invoice_id)
        account = uow.accounts.get(account_id=attempt.account_id)
    assert invoice is not None and account is not None
    return deps.wire.publish(invoice=invoice, account=account, due_days=deps.wire_due_days)


def _poll(deps: Deps, attempt: PaymentAttempt) -> Outcome | ProviderEvent:
    assert attempt.provider_ref is not None
    if attempt.method is MethodType.DIRECT_DEBIT:
        return deps.direct_debit.payment_status(provider_ref=attempt.provider_ref)
    return deps.card.find_payment(attempt_id=attempt.id)
