"""Operator actions: re-queue failed payments, record received wires. Every action is audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from domain.accounts import MethodType
from domain.errors import AttemptAlreadyActive, UnknownAttempt
from domain.invoices import InvoiceStatus
from domain.money import Money
from domain.outcomes import CancelRequested, Charged, DeclineKind
from domain.payments import AttemptStatus, PaymentAttempt
from domain.ports import UnitOfWork
from domain.records import AuditEntry, BankTransaction, UnmatchedTransfer
from workers.handlers.apply import AfterCommit, apply_event
from workers.handlers.collection import new_attempt
from workers.handlers.deps import Deps


class RequeueRefused(ValueError):
    """The attempt cannot be re-queued (and why)."""


@dataclass(frozen=True)
class Requeued:
    failed_attempt_id: str
    new_attempt_id: str


def requeue_failed(deps: Deps, *, attempt_id: str, actor: str, reason: str,
                   force: bool = False) -> Requeued:
    """Re-queue a FAILED / REQUIRES_ACTION attempt now, as a new attempt on the same invoice.

    Raises: RequeueRefused for a hard decline without `force` (the method can never work),
    for an invoice that is no longer open or owes nothing, or one that already has an active
    attempt; UnknownAttempt for an unknown id.
    """
    if not reason.strip():
        raise RequeueRefused("a reason is required for the audit log")
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        failed = uow.attempts.get(attempt_id=attempt_id)
        if failed is None:
            raise UnknownAttempt(attempt_id)
        if failed.status not in (AttemptStatus.FAILED, AttemptStatus.REQUIRES_ACTION):
            raise RequeueRefused(f"attempt {attempt_id} is {failed.status}, not failed")
        if failed.failure_class is DeclineKind.HARD and not force:
            raise RequeueRefused(
                f"attempt {attempt_id} was a hard decline ({failed.failure_code}): retrying "
                "the same method cannot succeed; update the payment method or pass --force")
        invoice = uow.invoices.get(invoice_id=failed.invoice_id)
        account = uow.accounts.get(account_id=failed.account_id)
        assert invoice is not None and account is not None
        if invoice.status is not InvoiceStatus.OPEN or not invoice.amount_due.is_positive():
            raise RequeueRefused(f"invoice {invoice.number} is {invoice.status}, nothing to "
                                 "collect on it (a carried-forward amount is on a later invoice)")
        active = uow.attempts.active_for_invoice(invoice_id=invoice.id)
        if active is not None and active.status is not AttemptStatus.SCHEDULED:
            raise RequeueRefused(f"invoice {invoice.number} already has attempt {active.id} "
                                 f"{active.status}")
        after = AfterCommit()
        if active is not None:  # a retry waiting for its day: bring it forward to now
            apply_event(uow, deps, attempt_id=active.id, after=after,
                        event=CancelRequested(f"requeued by {actor}: {reason}"))
        if force and not account.payment_method.usable:
            uow.accounts.update_payment_method(
                account_id=account.id, method=replace(account.payment_method, usable=True))
            account = uow.accounts.get(account_id=account.id)
            assert account is not None
        number = len(uow.attempts.list_for_invoice(invoice_id=invoice.id)) + 1
        attempt = new_attempt(invoice=invoice, account=account, number=number, now=now,
                              retry_schedule=failed.retry_schedule_days
                              or deps.retry_policy.schedule_days,
                              reason=f"requeue: {reason}")
        try:
            uow.attempts.add(attempt=attempt)
        except AttemptAlreadyActive:
            raise RequeueRefused(f"invoice {invoice.number} already has an active attempt") \
                from None
        uow.audit.add(entry=AuditEntry(at=now, actor=actor, action="payment.requeue",
                                       target=attempt_id, reason=reason,
                                       details={"new_attempt": attempt.id, "force": force}))
        uow.commit()
    after.send(deps)
    deps.dispatch.collect(attempt.id, attempt.method.value)
    return Requeued(failed_attempt_id=attempt_id, new_attempt_id=attempt.id)


def requeueable(deps: Deps, *, account_id: str | None = None,
                method: MethodType | None = None) -> list[PaymentAttempt]:
    """The latest failed attempt of every open invoice that has nothing active."""
    with deps.uow_factory() as uow:
        failed = uow.attempts.failed(account_id=account_id, limit=10_000)
        result: dict[str, PaymentAttempt] = {}
        for attempt in failed:
            if method is not None and attempt.method is not method:
                continue
            if attempt.invoice_id in result:
                continue
            invoice = uow.invoices.get(invoice_id=attempt.invoice_id)
            active = uow.attempts.active_for_invoice(invoice_id=attempt.invoice_id)
            if (invoice is not None and invoice.status is InvoiceStatus.OPEN
                    and invoice.amount_due.is_positive()
                    and (active is None or active.status is AttemptStatus.SCHEDULED)):
                result[attempt.invoice_id] = attempt
        return list(result.values())


class UnknownReference(LookupError):
    """A received wire names no invoice; it is kept for review, never lost."""


class AlreadyRecorded(Exception):
    """This bank transaction was recorded before; nothing was written this time."""

    def __init__(self, earlier: BankTransaction) -> None:
        where = (f"on invoice {earlier.invoice_id}" if earlier.invoice_id
                 else "as an unmatched transfer")
        super().__init__(f"bank transaction {earlier.bank_ref} was recorded "
                         f"{earlier.recorded_at:%Y-%m-%d %H:%M} UTC {where}; nothing changed")
        self.earlier = earlier


def receive_wire(deps: Deps, *, reference: str, amount: Money, received_on: date,
                 actor: str, bank_ref: str | None = None) -> str:
    """Record a received bank transfer against the invoice whose reference it carries.

    Exact, partial (the rest stays owed and is carried forward) or over-payment (a credit
    carried forward). Returns the invoice id. Raises UnknownReference after storing the
    transfer as unmatched when no invoice carries `reference`. With `bank_ref` (the bank's
    id for the statement line) the transfer is recorded once: the same `bank_ref` again
    raises AlreadyRecorded and writes nothing.
    """
    normalized = reference.replace(" ", "").upper()
    now = deps.clock.now()
    after = AfterCommit()
    with deps.uow_factory() as uow:
        invoice = uow.invoices.by_reference(reference=normalized)
        if bank_ref is not None:
            _record_once(uow, BankTransaction(
                bank_ref=bank_ref, reference=reference, amount=amount,
                received_on=received_on, invoice_id=invoice.id if invoice else None,
                recorded_at=now))
        if invoice is None:
            uow.unmatched_transfers.add(transfer=UnmatchedTransfer(
                id=str(uuid.uuid4()), reference=reference, amount=amount,
                received_on=received_on, note="no invoice carries this reference"))
            uow.audit.add(entry=AuditEntry(at=now, actor=actor, action="wire.unmatched",
                                           target=reference,
                                           details={"amount_minor": amount.minor,
                                                    "currency": amount.currency,
                                                    "bank_ref": bank_ref}))
            uow.commit()
            raise UnknownReference(f"no invoice has reference {reference!r}; the transfer of "
                                   f"{amount} is kept for review")
        if amount.currency != invoice.currency:
            raise ValueError(f"transfer in {amount.currency} for an invoice in "
                             f"{invoice.currency}")
        attempt = _wire_attempt(uow, deps, invoice_id=invoice.id, after=after)
        ref = f"wire:{bank_ref}" if bank_ref else f"wire:{normalized}:{uuid.uuid4().hex[:8]}"
        apply_event(uow, deps, attempt_id=attempt.id, after=after,
                    event=Charged(provider_ref=ref, amount=amount))
        uow.audit.add(entry=AuditEntry(at=now, actor=actor, action="wire.received",
                                       target=invoice.id,
                                       details={"amount_minor": amount.minor,
                                                "reference": normalized, "bank_ref": bank_ref}))
        uow.commit()
    after.send(deps)
    return invoice.id


def _record_once(uow: UnitOfWork, transaction: BankTransaction) -> None:
    if not uow.bank_transactions.add(transaction=transaction):
        earlier = uow.bank_transactions.get(bank_ref=transaction.bank_ref)
        assert earlier is not None, "bank transactions are never deleted"
        raise AlreadyRecorded(earlier)


def _wire_attempt(uow: UnitOfWork, deps: Deps, *, invoice_id: str,
                  after: AfterCommit) -> PaymentAttempt:
    """The attempt a transfer settles: the one awaiting it, else a new one recording it."""
    active = uow.attempts.active_for_invoice(invoice_id=invoice_id)
    if active is not None and active.status is AttemptStatus.AWAITING_TRANSFER:
        return active
    if active is not None and active.status is AttemptStatus.SCHEDULED:
        apply_event(uow, deps, attempt_id=active.id, after=after,
                    event=CancelRequested("paid by bank transfer"))
        active = None
    invoice = uow.invoices.get(invoice_id=invoice_id)
    assert invoice is not None
    now = deps.clock.now()
    # With another payment in flight (a pending direct debit), the one-active-attempt rule
    # holds: the transfer is recorded on an attempt created closed, which the Charged outcome
    # then moves to SUCCEEDED (money collected outranks every other status).
    status = AttemptStatus.PROCESSING if active is None else AttemptStatus.CANCELED
    attempt = PaymentAttempt(
        id=str(uuid.uuid4()), invoice_id=invoice_id, account_id=invoice.account_id,
        method=MethodType.WIRE,
        number=len(uow.attempts.list_for_invoice(invoice_id=invoice_id)) + 1,
        amount=invoice.amount_due, status=status, created_at=now, updated_at=now,
        reason="wire received")
    uow.attempts.add(attempt=attempt)
    return attempt
