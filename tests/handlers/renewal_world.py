"""A world that exercises every rule a renewal follows, for comparing the batched and the
single-renewal paths: set up the same way on any unit of work, then read back whole.

Set up on 15 February with the single path (so both paths start from the same state):
- acc_card: its February invoice was declined with a retry scheduled (closed on carry,
  retry cancelled); 2 users added on 10 March (prorata) and minutes used in March. A second
  subscription, started on 20 February, is first renewed in April (20 February and
  20 March caught up, before the first subscription's: it is earlier due).
- acc_partial: a card payment in flight for half its February invoice (carried in part,
  stays open).
- acc_debit: its February debit is pending at the bank (in flight: not brought forward).
- acc_wire: awaiting its transfer (closed on carry, wire instructions cancelled).
- acc_annual: an annual plan anchored on the 31st (January 31 → the month's last day), a
  user added on 5 March (prorated to the end of the annual term), minutes.
- acc_restricted: an account in the overdue sequence (restricted) with an unpaid invoice.
- acc_late: a subscription started on 20 February, never renewed: caught up in April for
  20 February and 20 March (the second brings the first forward), with minutes.
Compared: the renewals due on 1 April.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from domain.accounts import Standing
from domain.billing import SubscriptionTerms
from domain.clock import ManualClock, at_utc
from domain.invoices import Invoice, InvoiceKind
from domain.payments import AttemptStatus
from domain.plans import Interval, UnitKind
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.seats import SeatChange
from domain.subscriptions import Subscription
from domain.usage import CallRecord, Direction
from tests.builders import a_plan, an_attempt, eur
from tests.handlers.world import card_account, debit_account, wire_account
from workers.handlers.renewals import RenewalSettings, run_due_renewals_one_by_one
from workers.handlers.usage import store_calls

SETUP_ON, COMPARED_ON = date(2026, 2, 15), date(2026, 4, 1)
SUBSCRIPTIONS = {  # id: (account, started on, interval)
    "sub_card_1": ("acc_card", date(2026, 2, 1), Interval.MONTHLY),
    "sub_partial": ("acc_partial", date(2026, 2, 1), Interval.MONTHLY),
    "sub_debit": ("acc_debit", date(2026, 2, 1), Interval.MONTHLY),
    "sub_wire": ("acc_wire", date(2026, 2, 1), Interval.MONTHLY),
    "sub_annual": ("acc_annual", date(2026, 1, 31), Interval.ANNUAL),
    "sub_restricted": ("acc_restricted", date(2026, 2, 1), Interval.MONTHLY),
}
#: Subscribed after the set-up's renewals: first renewed on the compared day.
LATER = [("sub_card_2", "acc_card", date(2026, 2, 20)),
         ("sub_late", "acc_late", date(2026, 2, 20))]
#: (subscription, status, share of the February invoice's amount due in the attempt)
ATTEMPTS = [("sub_card_1", AttemptStatus.FAILED, 1), ("sub_card_1", AttemptStatus.SCHEDULED, 1),
            ("sub_partial", AttemptStatus.PROCESSING, 2), ("sub_debit", AttemptStatus.PENDING, 1),
            ("sub_wire", AttemptStatus.AWAITING_TRANSFER, 1)]


def build(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> None:
    """Set the world up (see the module docstring); the clock ends on the compared day."""
    clock.set(at_utc(2026, 2, 15, 9))
    accounts = {"acc_card": card_account(), "acc_partial": card_account("acc_partial"),
                "acc_debit": debit_account(),
                "acc_wire": wire_account(), "acc_annual": card_account("acc_annual"),
                "acc_restricted": replace(card_account("acc_restricted"),
                                          standing=Standing.RESTRICTED),
                "acc_late": card_account("acc_late")}
    with uow_factory() as uow:
        for account in accounts.values():
            uow.accounts.add(account=account)
        for sub_id, (account_id, started_on, interval) in SUBSCRIPTIONS.items():
            _subscribe(uow, sub_id, account_id, started_on, interval)
        uow.commit()
    run_due_renewals_one_by_one(uow_factory=uow_factory, as_of=SETUP_ON, clock=clock,
                                settings=RenewalSettings())
    with uow_factory() as uow:
        for n, (sub_id, status, share) in enumerate(ATTEMPTS):
            february = _first_invoice(uow, sub_id)
            uow.attempts.add(attempt=an_attempt(
                id=f"att_{n}", invoice_id=february.id, account_id=february.account_id,
                method=accounts[february.account_id].payment_method.type, number=n + 1,
                amount=eur(february.amount_due.minor // share), status=status,
                scheduled_for=at_utc(2026, 4, 20, 9) if status is AttemptStatus.SCHEDULED
                else None))
        for sub_id, account_id, started_on in LATER:
            _subscribe(uow, sub_id, account_id, started_on, Interval.MONTHLY)
        for sub_id, on, users in (("sub_card_1", date(2026, 3, 10), 2),
                                  ("sub_annual", date(2026, 3, 5), 1)):
            uow.seat_changes.add(subscription_id=sub_id,
                                 change=SeatChange(UnitKind.USERS, users, on))
        calls = [CallRecord(f"call_{sub_id}", sub_id, "+33100000000", Direction.OUTBOUND,
                            "+33612345678", datetime.combine(on, datetime.min.time(), UTC),
                            minutes * 60)
                 for sub_id, on, minutes in (("sub_card_1", date(2026, 3, 12), 130),
                                             ("sub_annual", date(2026, 3, 2), 75),
                                             ("sub_late", date(2026, 3, 3), 40))]
        store_calls(uow, records=list(enumerate(calls)), now=clock.now())
        uow.commit()
    clock.set(at_utc(2026, 4, 1, 9))


def _subscribe(uow: UnitOfWork, sub_id: str, account_id: str, started_on: date,
               interval: Interval) -> None:
    terms = SubscriptionTerms(plan=a_plan(interval=interval), started_on=started_on, users=3,
                              numbers=1)
    uow.subscriptions.add(subscription=Subscription.start(id=sub_id, account_id=account_id,
                                                          terms=terms))


def _first_invoice(uow: UnitOfWork, sub_id: str) -> Invoice:
    started_on = SUBSCRIPTIONS[sub_id][1]
    kind = InvoiceKind.ANNUAL if SUBSCRIPTIONS[sub_id][2] is Interval.ANNUAL \
        else InvoiceKind.MONTHLY
    found = uow.invoices.find_for_period(subscription_id=sub_id, kind=kind,
                                         period_start=started_on)
    assert found is not None, sub_id
    return found


def read_back(uow_factory: UnitOfWorkFactory) -> dict[str, Any]:
    """Everything a renewal writes, with invoice ids replaced by numbers (ids are random)."""
    with uow_factory() as uow:
        invoices = uow.invoices.list()
        number = {inv.id: inv.number for inv in invoices}
        account_ids = sorted({inv.account_id for inv in invoices})
        return {
            "invoices": [replace(inv, id=inv.number, carried_to=number.get(inv.carried_to or ""))
                         for inv in invoices],
            "attempts": sorted((number[a.invoice_id], a.id, a.status, a.reason)
                               for inv in invoices
                               for a in uow.attempts.list_for_invoice(invoice_id=inv.id)),
            "ledger": [(e.account_id, e.kind, e.amount, e.on, number.get(e.invoice_id or ""))
                       for account_id in account_ids
                       for e in uow.ledger.list_for_account(account_id=account_id)],
            "subscriptions": sorted((s.id, s.billed_through, s.next_renewal_on)
                                    for account_id in account_ids
                                    for s in uow.subscriptions.list_for_account(
                                        account_id=account_id)),
        }
