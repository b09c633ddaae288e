"""Account changes that move money: a new payment method retries every open balance at once."""

from __future__ import annotations

import logging

from domain.accounts import PaymentMethod, Standing
from domain.errors import AttemptAlreadyActive, UnknownAccount
from domain.invoices import InvoiceStatus
from domain.payments import IN_FLIGHT_STATUSES
from domain.ports import UnitOfWork
from domain.records import AuditEntry
from workers.handlers.apply import AfterCommit, cancel_active
from workers.handlers.collection import collect_attempt, new_attempt
from workers.handlers.deps import Deps

log = logging.getLogger("paycollect.accounts")


def change_payment_method(deps: Deps, *, account_id: str, method: PaymentMethod,
                          actor: str = "customer") -> None:
    """Store the account's new method; a worker then retries its open balances, oldest first."""
    with deps.uow_factory() as uow:
        store_payment_method(uow, deps, account_id=account_id, method=method, actor=actor)
        uow.commit()
    deps.dispatch.retry_open_balances(account_id)


def store_payment_method(uow: UnitOfWork, deps: Deps, *, account_id: str,
                         method: PaymentMethod, actor: str) -> None:
    """The write half of `change_payment_method`, in the caller's transaction; the caller
    commits, then dispatches `retry_open_balances` (a setup completion claims its setup in
    the same transaction)."""
    account = uow.accounts.get(account_id=account_id)
    if account is None:
        raise UnknownAccount(account_id)
    uow.accounts.update_payment_method(account_id=account_id, method=method)
    uow.audit.add(entry=AuditEntry(at=deps.clock.now(), actor=actor,
                                   action="payment_method.updated", target=account_id,
                                   details={"type": method.type.value}))


def retry_open_balances(deps: Deps, *, account_id: str, reason: str) -> list[str]:
    """Collect every open invoice of the account now, one after the other, oldest first.

    Sequential on purpose: the customer's oldest debt is settled first, and one card is never
    hit by several charges at the same instant.
    """
    now = deps.clock.now()
    created: list[str] = []
    after = AfterCommit()
    with deps.uow_factory() as uow:
        account = uow.accounts.get(account_id=account_id)
        if account is None:
            raise UnknownAccount(account_id)
        for invoice in uow.invoices.list_open_for_account(account_id=account_id):
            if not invoice.amount_due.is_positive():
                continue
            active = uow.attempts.active_for_invoice(invoice_id=invoice.id)
            if active is not None and active.status in IN_FLIGHT_STATUSES:
                continue  # money may already be moving for it
            if active is not None:
                cancel_active(uow, deps, invoice_id=invoice.id, reason=reason, after=after)
            number = len(uow.attempts.list_for_invoice(invoice_id=invoice.id)) + 1
            attempt = new_attempt(invoice=invoice, account=account, number=number, now=now,
                                  retry_schedule=deps.retry_policy.schedule_days, reason=reason)
            try:
                uow.attempts.add(attempt=attempt)
            except AttemptAlreadyActive:
                continue
            created.append(attempt.id)
        uow.commit()
    after.send(deps)
    for attempt_id in created:
        status = collect_attempt(deps, attempt_id=attempt_id)
        log.info("open balance retried: %s", status, extra={"attempt_id": attempt_id})
    _reinstate_if_settled(deps, account_id=account_id)
    return created


def _reinstate_if_settled(deps: Deps, *, account_id: str) -> None:
    with deps.uow_factory() as uow:
        account = uow.accounts.get(account_id=account_id)
        assert account is not None
        owing = [inv for inv in uow.invoices.list_open_for_account(account_id=account_id)
                 if inv.status is InvoiceStatus.OPEN and inv.amount_due.is_positive()]
        if not owing and account.standing is not Standing.ACTIVE:
            uow.accounts.update_standing(account_id=account_id, standing=Standing.ACTIVE)
            uow.commit()


__all__ = ["change_payment_method", "retry_open_balances", "store_payment_method"]
