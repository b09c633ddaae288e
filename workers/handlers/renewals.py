"""Renewals: issue every invoice that is due, with balance forward, in one transaction each.

Idempotent by construction: an invoice is keyed by (subscription, kind, period start) and the
database refuses a second one, so re-running a renewal (two schedulers, a redelivered message,
a catch-up after downtime) changes nothing that is already issued.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.accounts import Account, MethodType
from domain.balance_forward import OpenBalance, apply_carry, bring_forward
from domain.billing import InvoiceDraft, build_invoices
from domain.clock import Clock
from domain.errors import DuplicateInvoice, UnknownSubscription
from domain.event_payloads import invoice_object
from domain.invoices import Invoice, InvoiceStatus
from domain.ledger import issued_entry
from domain.money import Money
from domain.numbering import invoice_number
from domain.outcomes import CancelRequested
from domain.outgoing_events import EventType
from domain.payments import AttemptStatus, apply_outcome
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.rate_cards import RateCard, card_from_plan
from domain.renewal_batch import renewed_to
from domain.renewals import billing_dates
from domain.retry_policy import RetryPolicy
from domain.seats import SeatChange
from domain.subscriptions import Subscription
from domain.usage import cutoff, minute_lines
from domain.wire_reference import make_rf_reference
from workers.handlers.events import emit

log = logging.getLogger("paycollect.renewals")

#: Invoice numbers read PC-2026-000042.
NUMBER_PREFIX = "PC"


@dataclass(frozen=True)
class RenewalSettings:
    wire_due_days: int = 30


def run_due_renewals(*, uow_factory: UnitOfWorkFactory, as_of: date, clock: Clock,
                     settings: RenewalSettings, batch_size: int | None = None) -> list[str]:
    """Issue the invoices of every subscription due on or before `as_of`, in batches
    (`workers.handlers.renewal_batches`).

    Returns the ids of the invoices issued (to be routed for collection). A subscription
    whose renewal fails does not stop the others: its error is raised once they are done.
    """
    # Imported here: the batches fall back on `renew_subscription`, below.
    from workers.handlers.renewal_batches import DEFAULT_BATCH_SIZE, renew_all_due

    issued, failed = renew_all_due(uow_factory=uow_factory, as_of=as_of, clock=clock,
                                   settings=settings,
                                   batch_size=batch_size or DEFAULT_BATCH_SIZE)
    if failed:
        raise next(iter(failed.values()))
    return issued


def run_due_renewals_one_by_one(*, uow_factory: UnitOfWorkFactory, as_of: date, clock: Clock,
                                settings: RenewalSettings, batch_size: int = 200) -> list[str]:
    """The single-renewal path: one transaction per subscription (`renew_subscription`).

    Kept for the benchmark (before / after in one run) and the tests that compare both.
    """
    issued: list[str] = []
    seen: set[str] = set()
    while True:
        with uow_factory() as uow:
            due = [s.id for s in uow.subscriptions.due(as_of=as_of, limit=batch_size)
                   if s.id not in seen]
        if not due:
            return issued
        for subscription_id in due:
            seen.add(subscription_id)
            issued.extend(renew_subscription(uow_factory=uow_factory, clock=clock, as_of=as_of,
                                             subscription_id=subscription_id,
                                             settings=settings))


def renew_subscription(*, uow_factory: UnitOfWorkFactory, subscription_id: str, as_of: date,
                       clock: Clock, settings: RenewalSettings) -> list[str]:
    """Issue the subscription's invoices dated up to `as_of` (catching up missed anchors)."""
    with uow_factory() as uow:
        subscription = uow.subscriptions.get(subscription_id=subscription_id)
        if subscription is None:
            raise UnknownSubscription(subscription_id)
        if not uow.subscriptions.claim_renewal(subscription_id=subscription_id,
                                               now=clock.now(),
                                               until=clock.now() + timedelta(minutes=5)):
            return []  # another scheduler holds it; it will do the work
        account = uow.accounts.get(account_id=subscription.account_id)
        assert account is not None, "a subscription always has its account"
        changes = uow.seat_changes.list_for(subscription_id=subscription_id, end=as_of)
        card = (uow.rate_cards.get(subscription_id=subscription_id)
                or card_from_plan(subscription.plan))
        until = subscription.renews_until(as_of)
        days = billing_dates(terms=subscription.terms, after=subscription.billed_through,
                             until=until)
        issued = []
        for day in days:
            issued += _issue_day(uow, account=account, subscription=subscription,
                                 changes=changes, card=card, day=day, settings=settings,
                                 now=clock.now())
        billed_through, next_renewal_on = renewed_to(subscription, days=days, until=until)
        uow.subscriptions.set_next_renewal(
            subscription_id=subscription_id, billed_through=billed_through,
            next_renewal_on=next_renewal_on, expected_next=subscription.next_renewal_on)
        uow.commit()
    for invoice_id in issued:
        log.info("invoice issued", extra={"invoice_id": invoice_id,
                                          "subscription_id": subscription_id})
    return issued


def _issue_day(uow: UnitOfWork, *, account: Account, subscription: Subscription,
               changes: Sequence[SeatChange], card: RateCard, day: date,
               settings: RenewalSettings, now: datetime) -> list[str]:
    """The invoices dated `day`; the one that bills minutes takes every call not billed yet
    that started before `day` (summed in SQL, then stamped with the invoice, in this
    transaction: the subscription's claim keeps new calls from committing in between)."""
    before = cutoff(day)
    usage = uow.call_records.minutes_for(subscription_ids=[subscription.id], before=before)
    minutes = minute_lines(card=card, usage=usage.get(subscription.id, []))
    issued = []
    for draft in build_invoices(terms=subscription.terms, changes=changes, minutes=minutes,
                                issued_on=day):
        invoice_id = _issue(uow, account=account, subscription_id=subscription.id,
                            draft=draft, settings=settings, now=now)
        if invoice_id is None:
            continue
        issued.append(invoice_id)
        if draft.bills_minutes:
            uow.call_records.mark_billed(invoices={subscription.id: invoice_id}, before=before)
    return issued


def _issue(uow: UnitOfWork, *, account: Account, subscription_id: str, draft: InvoiceDraft,
           settings: RenewalSettings, now: datetime) -> str | None:
    if uow.invoices.find_for_period(subscription_id=subscription_id, kind=draft.kind,
                                    period_start=draft.period.start) is not None:
        return None  # already issued: re-running a renewal changes nothing
    invoice_id = str(uuid.uuid4())
    # Invoices issued the same day (an anniversary's usage and annual invoices) are collected
    # side by side; only what was owed before the day is brought forward.
    earlier = [inv for inv in uow.invoices.list_open_for_account(account_id=account.id,
                                                                 for_update=True)
               if inv.issued_on < draft.issued_on]
    in_flight = uow.attempts.in_flight_amounts(invoice_ids=[inv.id for inv in earlier])
    zero = Money.zero(draft.currency)
    forward = bring_forward([OpenBalance(inv.id, inv.amount_due, in_flight.get(inv.id, zero))
                             for inv in earlier], draft.currency)
    sequence = uow.invoices.next_sequence(issuer=NUMBER_PREFIX, year=draft.issued_on.year)
    number = invoice_number(prefix=NUMBER_PREFIX, year=draft.issued_on.year, sequence=sequence)
    method = account.payment_method.type
    wire = method is MethodType.WIRE
    invoice = Invoice(
        id=invoice_id, number=number, account_id=account.id, subscription_id=subscription_id,
        kind=draft.kind, period=draft.period, issued_on=draft.issued_on,
        due_on=draft.issued_on + timedelta(days=settings.wire_due_days if wire else 0),
        currency=draft.currency, payment_method=method.value, lines=draft.lines,
        previous_amount_due=forward.previous_amount_due, status=InvoiceStatus.OPEN,
        amount_paid=zero, amount_carried=zero,
        payment_reference=make_rf_reference(number.replace("-", "")),
    )
    try:
        uow.invoices.add_with_lines(invoice=invoice)
    except DuplicateInvoice:
        return None
    by_id = {inv.id: inv for inv in earlier}
    closed = []
    closed_invoices = []
    for carry in forward.carries:
        after = apply_carry(by_id[carry.invoice_id], carry, new_invoice_id=invoice_id)
        uow.invoices.update_settlement(invoice=after)
        if after.status is not InvoiceStatus.OPEN:
            closed.append(after.id)
            closed_invoices.append(after)
    if closed:
        # Their pending retries and wire instructions stop: the money is now asked for on the
        # new invoice (a transfer quoting the old reference is still matched to it).
        reason = f"carried forward to {number}"
        uow.attempts.cancel_scheduled(invoice_ids=closed, now=now, reason=reason)
        for closed_id in closed:
            _cancel_wire_instructions(uow, invoice_id=closed_id, now=now, reason=reason)
    uow.ledger.add(entry=issued_entry(invoice), dedupe_key=f"issue:{invoice_id}")
    _emit_issued(uow, invoice=invoice, closed=closed_invoices, now=now)
    return invoice_id


def _emit_issued(uow: UnitOfWork, *, invoice: Invoice, closed: list[Invoice],
                 now: datetime) -> None:
    """invoice.issued, then invoice.carried_forward for each earlier invoice it closed."""
    emit(uow, account_id=invoice.account_id, type=EventType.INVOICE_ISSUED,
         data=invoice_object(invoice), occurred_at=now)
    for earlier in closed:
        emit(uow, account_id=earlier.account_id, type=EventType.INVOICE_CARRIED_FORWARD,
             data=invoice_object(earlier), occurred_at=now)



def _cancel_wire_instructions(uow: UnitOfWork, *, invoice_id: str, now: datetime,
                              reason: str) -> None:
    active = uow.attempts.active_for_invoice(invoice_id=invoice_id)
    if active is None or active.status is not AttemptStatus.AWAITING_TRANSFER:
        return
    decision = apply_outcome(attempt=active, outcome=CancelRequested(reason),
                             invoice_due=Money.zero(active.amount.currency),
                             policy=RetryPolicy(), now=now, attempts_so_far=())
    if decision.attempt is not None:
        uow.attempts.update(attempt=decision.attempt, expected_status=active.status)
