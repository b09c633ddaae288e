"""Where an account stands (active, restricted, suspended, terminated), recomputed from the
overdue records of its invoices. Called by the dunning pass and after a payment settles, so
paying the balance reinstates the account at once (not at the next scheduler tick)."""

from __future__ import annotations

from datetime import datetime

from domain.accounts import Standing
from domain.dunning import account_standing, standing_for
from domain.errors import UnknownAccount
from domain.event_payloads import standing_change
from domain.invoices import InvoiceStatus
from domain.outgoing_events import EventType
from domain.ports import UnitOfWork
from domain.records import AuditEntry
from workers.handlers.dunning_record import record_for
from workers.handlers.events import emit

#: Statuses whose invoice no longer holds the debt (it moved to a later invoice, or was voided).
_NOT_HOLDING = frozenset({InvoiceStatus.CARRIED_FORWARD, InvoiceStatus.VOID,
                          InvoiceStatus.DRAFT})


def standing_of(uow: UnitOfWork, *, account_id: str) -> Standing:
    """The worst standing any invoice of the account puts it in (ACTIVE when none)."""
    invoices = uow.invoices.list(account_id=account_id)
    standings = []
    for invoice in invoices:
        if invoice.status in _NOT_HOLDING:
            continue
        record = record_for(uow, invoice=invoice, account_invoices=invoices)
        if record is None:
            continue
        owing = invoice.status is InvoiceStatus.UNCOLLECTIBLE or (
            invoice.status is InvoiceStatus.OPEN and invoice.amount_due.is_positive())
        standings.append(standing_for(notices_sent=record.kinds, paid=not owing,
                                      policy=record.policy))
    return account_standing(invoice_standings=standings)


def refresh_standing(uow: UnitOfWork, *, account_id: str, now: datetime,
                     actor: str = "dunning") -> Standing:
    """Store the account's recomputed standing (audited when it changes); the caller commits."""
    account = uow.accounts.get(account_id=account_id)
    if account is None:
        raise UnknownAccount(account_id)
    standing = standing_of(uow, account_id=account_id)
    change_standing(uow, account_id=account_id, before=account.standing, after=standing,
                    now=now, actor=actor)
    return standing


def change_standing(uow: UnitOfWork, *, account_id: str, before: Standing, after: Standing,
                    now: datetime, actor: str) -> None:
    """Store a new standing: audited, and reported as `account.standing_changed` in the same
    transaction. Nothing happens when it does not change."""
    if after is before:
        return
    # The event first: its per-account counter row is locked before the account row, the
    # order every emitter takes them in (no deadlock with a payment reinstating the account).
    emit(uow, account_id=account_id, type=EventType.ACCOUNT_STANDING_CHANGED, occurred_at=now,
         data=standing_change(account_id=account_id, before=before, after=after,
                              reason=actor))
    uow.accounts.update_standing(account_id=account_id, standing=after)
    uow.audit.add(entry=AuditEntry(at=now, actor=actor, action="account.standing",
                                   target=account_id,
                                   details={"from": before.value, "to": after.value}))
