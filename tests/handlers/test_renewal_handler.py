"""Renewals on SQLite and PostgreSQL: idempotent, dated on the anchor day, balance forward in
the same transaction as the new invoice. The ledger matches the open invoices after each step.

Every monthly invoice here charges 95.00 (tests/handlers/world.py: 3 x 30.00 + 1 x 5.00).
"""

from __future__ import annotations

import threading
from datetime import date
from typing import cast

import pytest

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock, at_utc
from domain.invoices import InvoiceStatus, Period
from domain.ledger import EntryKind
from domain.outcomes import Declined, DeclineKind
from domain.payments import AttemptStatus
from domain.ports import UnitOfWorkFactory
from domain.retry_policy import RetryPolicy
from tests.builders import eur
from tests.handlers.doubles import (
    FailingLedgerUnitOfWork,
    ScriptedCardGateway,
    ScriptedDirectDebitGateway,
    make_doubles,
)
from tests.handlers.world import (
    MONTHLY,
    assert_ledger_balances,
    attempts_of,
    card_account,
    debit_account,
    invoice,
    invoices_of,
    ledger_of,
    renew,
    subscribe,
)
from workers.handlers.collection import collect_attempt, reconcile_attempt, route_invoice
from workers.handlers.renewals import RenewalSettings, renew_subscription, run_due_renewals

MARCH_1, APRIL_1, MAY_1 = date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)


def test_running_renewals_twice_for_the_same_day_changes_nothing(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a subscription renewed on its first day
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    first = renew(uow_factory, clock)
    invoices_before = invoices_of(uow_factory, "acc_card")
    ledger_before = ledger_of(uow_factory, "acc_card")

    # When the scheduler runs again for the same day, and a redelivered message renews the
    # subscription directly once the first run's lease has expired
    again = renew(uow_factory, clock)
    clock.advance(minutes=10)
    direct = renew_subscription(uow_factory=uow_factory, subscription_id=subscription_id,
                                as_of=MARCH_1, clock=clock, settings=RenewalSettings())

    # Then nothing new is issued: same invoices, same ledger
    assert len(first) == 1
    assert again == []
    assert direct == []
    assert invoices_of(uow_factory, "acc_card") == invoices_before
    assert ledger_of(uow_factory, "acc_card") == ledger_before
    assert assert_ledger_balances(uow_factory, "acc_card") == MONTHLY


def test_an_ending_subscription_renewed_one_by_one_stops_where_the_batches_stop(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given two subscriptions started on 1 March, both canceled to end on 1 April (the final
    # invoice, the endings pass's, is dated that day), neither renewed since
    for account in (card_account(), debit_account()):
        subscribe(uow_factory, account=account, started_on=MARCH_1)
    with uow_factory() as uow:
        for subscription_id in ("sub_acc_card", "sub_acc_debit"):
            assert uow.subscriptions.schedule_end(subscription_id=subscription_id,
                                                  ends_on=APRIL_1, reason="canceled")
        uow.commit()
    # When a renewal as of 1 May reaches one through the single path (a failed batch's
    # fallback) and the other through a batch
    one = renew_subscription(uow_factory=uow_factory, subscription_id="sub_acc_card",
                             as_of=MAY_1, clock=clock, settings=RenewalSettings())
    batched = [i for i in renew(uow_factory, clock, as_of=MAY_1)
               if invoice(uow_factory, i).account_id == "acc_debit"]
    # Then both issued only the March invoice: nothing dated on or after the end
    assert [invoice(uow_factory, i).period.start for i in one] == [MARCH_1]
    assert [invoice(uow_factory, i).period.start for i in batched] == [MARCH_1]
    with uow_factory() as uow:
        single = uow.subscriptions.get(subscription_id="sub_acc_card")
        batch = uow.subscriptions.get(subscription_id="sub_acc_debit")
    assert single is not None
    assert batch is not None
    assert (single.billed_through, single.next_renewal_on) == \
        (batch.billed_through, batch.next_renewal_on) == (MARCH_1, APRIL_1)


def test_two_schedulers_renewing_the_same_day_at_once_issue_one_invoice(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a subscription due today and two schedulers started at the same instant
    subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    start = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        start.wait()
        try:
            results.append(renew(uow_factory, clock))
        except BaseException as error:  # surfaced below, not swallowed by the thread
            errors.append(error)

    # When both run the renewals
    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then exactly one invoice and one ledger debit exist
    assert errors == []
    assert sorted(len(issued) for issued in results) == [0, 1]
    assert len(invoices_of(uow_factory, "acc_card")) == 1
    assert [e.kind for e in ledger_of(uow_factory, "acc_card")] == [EntryKind.INVOICE_ISSUED]


def test_a_renewal_missed_for_three_days_is_dated_on_its_anchor_day(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a subscription anchored on the 1st, renewed on 1 March
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    renew(uow_factory, clock)

    # When the scheduler was down from 1 to 3 April and runs again on 4 April
    clock.set(at_utc(2026, 4, 4, 9))
    issued = renew(uow_factory, clock)

    # Then April's invoice is dated 1 April, for [1 April, 1 May), debited on 1 April
    assert len(issued) == 1
    april = invoice(uow_factory, issued[0])
    assert april.issued_on == APRIL_1
    assert april.period == Period(APRIL_1, MAY_1)
    debit = [e for e in ledger_of(uow_factory, "acc_card") if e.invoice_id == april.id]
    assert [(e.kind, e.on, e.amount) for e in debit] == [(EntryKind.INVOICE_ISSUED, APRIL_1,
                                                         MONTHLY)]
    # and the subscription is next due on its anchor again, not three days later
    with uow_factory() as uow:
        subscription = uow.subscriptions.get(subscription_id=subscription_id)
    assert subscription is not None
    assert (subscription.billed_through, subscription.next_renewal_on) == (APRIL_1, MAY_1)
    # The unpaid March invoice was brought forward: 95.00 + 95.00 owed, all on April's
    assert april.previous == MONTHLY
    assert assert_ledger_balances(uow_factory, "acc_card") == MONTHLY + MONTHLY


def test_an_unpaid_invoice_is_carried_forward_and_its_scheduled_retry_cancelled(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given March's invoice whose card was soft-declined, with a retry set for 15 April
    doubles = make_doubles(uow_factory=uow_factory, clock=clock, policy=RetryPolicy((45,)),
                           card=ScriptedCardGateway(
                               Declined(DeclineKind.SOFT, "insufficient_funds")))
    subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    [march_id] = renew(uow_factory, clock)
    first = route_invoice(doubles.deps, invoice_id=march_id)
    assert first is not None
    assert collect_attempt(doubles.deps, attempt_id=first) is AttemptStatus.FAILED
    retry = attempts_of(uow_factory, march_id)[-1]
    assert (retry.status, retry.scheduled_for) == (AttemptStatus.SCHEDULED,
                                                   at_utc(2026, 4, 15, 9))
    assert assert_ledger_balances(uow_factory, "acc_card") == MONTHLY

    # When April's invoice is issued
    clock.set(at_utc(2026, 4, 1, 9))
    [april_id] = renew(uow_factory, clock)

    # Then March's 95.00 is April's previous amount due: 95.00 + 95.00 = 190.00
    april, march = invoice(uow_factory, april_id), invoice(uow_factory, march_id)
    assert april.previous == MONTHLY
    assert april.total == april.amount_due == eur(19000)
    # and March is closed as carried forward onto April, owing nothing itself
    assert (march.status, march.carried_to) == (InvoiceStatus.CARRIED_FORWARD, april_id)
    assert (march.carried, march.amount_due) == (MONTHLY, eur(0))
    # and its retry is cancelled, naming the invoice it went to
    cancelled = attempts_of(uow_factory, march_id)[-1]
    assert cancelled.id == retry.id
    assert cancelled.status is AttemptStatus.CANCELED
    assert april.number in cancelled.reason
    # and the ledger still holds exactly what is owed (only charges are debited)
    assert [e.amount for e in ledger_of(uow_factory, "acc_card")] == [MONTHLY, MONTHLY]
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(19000)


def test_balance_forward_is_written_in_the_same_transaction_as_the_new_invoice(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given March's invoice, unpaid, with a soft-declined attempt and a retry waiting
    doubles = make_doubles(uow_factory=uow_factory, clock=clock, policy=RetryPolicy((45,)),
                           card=ScriptedCardGateway(
                               Declined(DeclineKind.SOFT, "insufficient_funds")))
    subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    [march_id] = renew(uow_factory, clock)
    first = route_invoice(doubles.deps, invoice_id=march_id)
    assert first is not None
    collect_attempt(doubles.deps, attempt_id=first)
    before = (invoices_of(uow_factory, "acc_card"), attempts_of(uow_factory, march_id),
              ledger_of(uow_factory, "acc_card"))

    # When April's renewal fails on its last write (the ledger debit)
    clock.set(at_utc(2026, 4, 1, 9))
    with pytest.raises(RuntimeError, match="ledger unavailable"):
        run_due_renewals(uow_factory=cast(UnitOfWorkFactory,
                                          lambda: FailingLedgerUnitOfWork(uow_factory())),
                         as_of=APRIL_1, clock=clock, settings=RenewalSettings())

    # Then nothing of it was kept: no April invoice, March still open with its retry waiting
    after = (invoices_of(uow_factory, "acc_card"), attempts_of(uow_factory, march_id),
             ledger_of(uow_factory, "acc_card"))
    assert after == before
    assert invoice(uow_factory, march_id).status is InvoiceStatus.OPEN
    assert attempts_of(uow_factory, march_id)[-1].status is AttemptStatus.SCHEDULED
    # and the next run (after the lease) issues April with March carried, all at once
    clock.advance(minutes=10)
    [april_id] = renew(uow_factory, clock)
    assert invoice(uow_factory, march_id).carried_to == april_id
    assert attempts_of(uow_factory, march_id)[-1].status is AttemptStatus.CANCELED
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(19000)


def test_an_in_flight_direct_debit_is_not_brought_forward_until_it_fails(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given March's invoice paid by a SEPA direct debit still pending at the bank
    debits = ScriptedDirectDebitGateway()
    doubles = make_doubles(uow_factory=uow_factory, clock=clock, direct_debit=debits)
    subscribe(uow_factory, account=debit_account(), started_on=MARCH_1)
    [march_id] = renew(uow_factory, clock)
    march_debit = route_invoice(doubles.deps, invoice_id=march_id)
    assert march_debit is not None
    assert collect_attempt(doubles.deps, attempt_id=march_debit) is AttemptStatus.PENDING
    assert assert_ledger_balances(uow_factory, "acc_debit") == MONTHLY

    # When April's invoice is issued
    clock.set(at_utc(2026, 4, 1, 9))
    [april_id] = renew(uow_factory, clock)

    # Then nothing is brought forward: the debit covers March, which stays open
    april, march = invoice(uow_factory, april_id), invoice(uow_factory, march_id)
    assert april.previous == eur(0)
    assert april.amount_due == MONTHLY
    assert (march.status, march.amount_due, march.carried) == (InvoiceStatus.OPEN, MONTHLY,
                                                                eur(0))
    assert assert_ledger_balances(uow_factory, "acc_debit") == eur(19000)

    # When April's debit is submitted too, and March's debit then fails at the bank
    april_debit = route_invoice(doubles.deps, invoice_id=april_id)
    assert april_debit is not None
    collect_attempt(doubles.deps, attempt_id=april_debit)
    debits.script_statuses(Declined(DeclineKind.SOFT, "insufficient_funds"))
    assert reconcile_attempt(doubles.deps, attempt_id=march_debit) is AttemptStatus.FAILED

    # Then March still owes its 95.00, on March
    assert invoice(uow_factory, march_id).amount_due == MONTHLY
    assert assert_ledger_balances(uow_factory, "acc_debit") == eur(19000)

    # When May's invoice is issued
    clock.set(at_utc(2026, 5, 1, 9))
    [may_id] = renew(uow_factory, clock)

    # Then May brings March's failed 95.00 forward, but not April's, still in flight:
    # May = 95.00 charges + 95.00 previous = 190.00; April still open for its 95.00
    may, march = invoice(uow_factory, may_id), invoice(uow_factory, march_id)
    assert may.previous == MONTHLY
    assert may.amount_due == eur(19000)
    assert (march.status, march.carried_to) == (InvoiceStatus.CARRIED_FORWARD, may_id)
    assert invoice(uow_factory, april_id).status is InvoiceStatus.OPEN
    assert all(a.status is not AttemptStatus.SCHEDULED for a in attempts_of(uow_factory, march_id))
    assert assert_ledger_balances(uow_factory, "acc_debit") == eur(28500)


def test_a_renewal_missed_for_two_whole_periods_issues_both_each_on_its_anchor_day(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a subscription renewed on 1 March, and no scheduler from then until 2 May
    subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    [march_id] = renew(uow_factory, clock)
    clock.set(at_utc(2026, 5, 2, 9))

    # When the scheduler catches up
    issued = renew(uow_factory, clock)

    # Then April and May are issued on their own days, oldest first, each carrying what
    # was owed before it: April 95.00 + 95.00, May 95.00 + 190.00
    april, may = (invoice(uow_factory, invoice_id) for invoice_id in issued)
    assert (april.issued_on, may.issued_on) == (APRIL_1, MAY_1)
    assert (april.previous, may.previous) == (MONTHLY, eur(19000))
    assert invoice(uow_factory, march_id).carried_to == april.id
    assert april.carried_to == may.id
    assert [e.on for e in ledger_of(uow_factory, "acc_card")] == [MARCH_1, APRIL_1, MAY_1]
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(28500)
