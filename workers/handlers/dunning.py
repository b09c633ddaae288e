"""Advance the overdue sequence (dunning) of card and direct-debit invoices, once a day or on
every scheduler tick (it is idempotent: a notice already sent is never sent again).

Per overdue invoice: the account's dunning policy is copied onto it the first time it is seen
overdue, then `domain.dunning.next_dunning_step` decides the notice due today. Notices go to
the outbox (dedupe key `<kind>:<invoice id>`) in the same transaction as the record of them,
so each is sent exactly once. The account's standing follows (`workers.handlers.standing`).
The legal notice terminates the account: in the same transaction its live subscriptions end
that day (workers/handlers/ending.py: a final invoice, no renewal after it).
Wire invoices have their own due date and reminders; they are not dunned here.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date

from domain.accounts import Account, MethodType, Standing
from domain.dunning import DunningPolicy, Notice, NoticeKind, next_dunning_step
from domain.errors import UnknownAccount
from domain.invoices import Invoice, InvoiceStatus
from domain.payments import AttemptStatus
from domain.ports import UnitOfWork
from domain.records import Notification
from workers.handlers.apply import AfterCommit
from workers.handlers.deps import Deps
from workers.handlers.dunning_record import DunningRecord, merged, record_for
from workers.handlers.ending import TERMINATED, EndResult, end_subscription_in, route_issued
from workers.handlers.standing import refresh_standing

log = logging.getLogger("paycollect.dunning")

#: Only these are chased by notices; a wire invoice waits for the customer's transfer.
DUNNED_METHODS = frozenset({MethodType.CARD.value, MethodType.DIRECT_DEBIT.value})


@dataclass(frozen=True)
class DunningReport:
    notices: int
    accounts: int


def is_overdue(invoice: Invoice, *, today: date) -> bool:
    """Open, owing, collected automatically, and past its due (= issue) date."""
    return (invoice.status is InvoiceStatus.OPEN and invoice.amount_due.is_positive()
            and invoice.payment_method in DUNNED_METHODS and today > invoice.due_on)


def advance_dunning(deps: Deps, *, today: date, policy: DunningPolicy) -> DunningReport:
    """Advance every account that has an overdue invoice or is not in good standing."""
    with deps.uow_factory() as uow:
        account_ids = {inv.account_id for inv in uow.invoices.list(status=InvoiceStatus.OPEN)
                       if is_overdue(inv, today=today)}
        for standing in (Standing.RESTRICTED, Standing.SUSPENDED, Standing.TERMINATED):
            account_ids.update(a.id for a in uow.accounts.list(standing=standing))
    sent = 0
    for account_id in sorted(account_ids):
        sent += advance_account(deps, account_id=account_id, today=today, policy=policy)
    if sent:
        log.info("dunning: %d notice(s) queued", sent)
    return DunningReport(notices=sent, accounts=len(account_ids))


def advance_account(deps: Deps, *, account_id: str, today: date, policy: DunningPolicy) -> int:
    """One account in one transaction: notices due today, then its standing. Returns notices."""
    after = AfterCommit()
    sent = 0
    terminated = False
    with deps.uow_factory() as uow:
        account = uow.accounts.get(account_id=account_id)
        if account is None:
            raise UnknownAccount(account_id)
        invoices = uow.invoices.list(account_id=account_id)
        lead: DunningRecord | None = None
        # One sequence per account, led by its oldest overdue invoice (the list is oldest
        # first): a customer owing two months gets one third notice, not two.
        for invoice in [inv for inv in invoices if is_overdue(inv, today=today)]:
            record = _record(uow, invoice=invoice, invoices=invoices, policy=policy)
            if lead is not None:
                _follow(uow, invoice=invoice, record=record, lead=lead)
                continue
            for notice in _due_notices(uow, invoice=invoice, record=record, today=today):
                _queue_notice(uow, deps, account=account, invoice=invoice, notice=notice,
                              after=after)
                record = record.with_notice(kind=notice.kind, on=today)
                uow.invoices.set_dunning_policy(invoice_id=invoice.id,
                                                policy=record.to_json())
                sent += 1
                terminated = terminated or notice.kind is NoticeKind.LEGAL_NOTICE
            lead = record
        ended = _end_service(uow, deps, account_id=account_id, today=today) if terminated else []
        refresh_standing(uow, account_id=account_id, now=deps.clock.now())
        uow.commit()
    after.send(deps)
    for result in ended:
        route_issued(deps, result)
    return sent


def _end_service(uow: UnitOfWork, deps: Deps, *, account_id: str,
                 today: date) -> list[EndResult]:
    """The legal notice went out: the account's live subscriptions end today."""
    return [end_subscription_in(uow, deps, subscription_id=subscription.id, ends_on=today,
                                reason=TERMINATED, actor="dunning")
            for subscription in uow.subscriptions.list_for_account(account_id=account_id)
            if subscription.is_live and subscription.started_on < today]


def _record(uow: UnitOfWork, *, invoice: Invoice, invoices: list[Invoice],
            policy: DunningPolicy) -> DunningRecord:
    """The invoice's record; the first time it is seen overdue, copy the policy onto it."""
    stored = uow.invoices.dunning_policy(invoice_id=invoice.id)
    found = DunningRecord.from_json(stored)
    if found is not None:
        return found
    inherited = record_for(uow, invoice=invoice, account_invoices=invoices)
    record = inherited or DunningRecord(policy=policy, overdue_since=invoice.due_on)
    uow.invoices.set_dunning_policy(invoice_id=invoice.id, policy=record.to_json())
    return record


def _follow(uow: UnitOfWork, *, invoice: Invoice, record: DunningRecord,
            lead: DunningRecord) -> None:
    """A younger overdue invoice follows the account's sequence (for standing and for when
    it becomes the oldest one, e.g. after the older one is paid)."""
    synced = merged([record, lead])
    if synced is not None and synced != record:
        uow.invoices.set_dunning_policy(invoice_id=invoice.id, policy=synced.to_json())


def _due_notices(uow: UnitOfWork, *, invoice: Invoice, record: DunningRecord,
                 today: date) -> list[Notice]:
    active = uow.attempts.active_for_invoice(invoice_id=invoice.id)
    # A direct debit can confirm for days after submission: no notice while it may still.
    in_window = (active is not None and active.method is MethodType.DIRECT_DEBIT
                 and active.status in (AttemptStatus.PENDING, AttemptStatus.PROCESSING))
    return next_dunning_step(overdue_since=record.overdue_since, notices_sent=record.notices,
                             today=today, policy=record.policy,
                             direct_debit_in_processing_window=in_window, paid=False)


def _queue_notice(uow: UnitOfWork, deps: Deps, *, account: Account, invoice: Invoice,
                  notice: Notice, after: AfterCommit) -> None:
    subject, text, html = deps.composer.compose(kind=notice.kind.value, account=account,
                                                invoice=invoice, attempt=None,
                                                termination_on=notice.terminates_on)
    notification = Notification(
        id=str(uuid.uuid4()), account_id=account.id, kind=notice.kind.value,
        dedupe_key=f"{notice.kind.value}:{invoice.id}",
        to_address=account.email or f"billing+{account.id}@customers.invalid",
        subject=subject, body_text=text, body_html=html, created_at=deps.clock.now())
    if uow.outbox.add(notification=notification):
        after.notifications.append(notification.id)
        log.info("dunning notice %s", notice.kind.value,
                 extra={"account_id": account.id, "invoice_id": invoice.id,
                        "days_overdue": notice.days_overdue})


__all__ = ["DunningReport", "advance_account", "advance_dunning", "is_overdue"]
