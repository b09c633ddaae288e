"""Ending subscriptions against real databases (SQLite and PostgreSQL): the scheduler's
endings pass after downtime, two endings racing, and a renewal that read the subscription
before it ended."""

from __future__ import annotations

import threading
from datetime import date

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock, at_utc
from domain.invoices import InvoiceKind
from tests.handlers.doubles import make_doubles
from tests.handlers.world import card_account, invoices_of, renew, subscribe
from workers.handlers.cancellation import CancelAt, cancel_subscription
from workers.handlers.ending import EndResult, end_subscription
from workers.operations.actions import run_renewals
from workers.scheduler import SchedulerSettings, tick

MARCH_1, MARCH_21, APRIL_1 = date(2026, 3, 1), date(2026, 3, 21), date(2026, 4, 1)


def test_a_tick_after_downtime_ends_a_canceling_subscription_on_its_day_and_renews_nothing(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a subscription canceled at the end of its first term (ends 04-01)
    doubles = make_doubles(uow_factory=uow_factory, clock=clock)
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    tick(doubles.deps, settings=SchedulerSettings())
    cancel_subscription(doubles.deps, subscription_id=subscription_id, at=CancelAt.PERIOD_END)
    # When the scheduler, down from 03-31, ticks again on 05-03
    clock.set(at_utc(2026, 5, 3, 9))
    tick(doubles.deps, settings=SchedulerSettings())
    # Then the final invoice is dated on the end day, and neither April nor May is renewed
    assert [(inv.kind, inv.issued_on) for inv in invoices_of(uow_factory, "acc_card")] == [
        (InvoiceKind.MONTHLY, MARCH_1), (InvoiceKind.FINAL, APRIL_1)]


def test_two_endings_at_once_issue_one_final_invoice(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a subscription and two workers ending it at the same instant (the API's cancel
    # and the legal notice, say)
    doubles = make_doubles(uow_factory=uow_factory, clock=clock)
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    renew(uow_factory, clock)
    clock.set(at_utc(2026, 3, 21, 9))
    start = threading.Barrier(2)
    results: list[EndResult] = []
    errors: list[BaseException] = []

    def worker(reason: str) -> None:
        start.wait()
        try:
            results.append(end_subscription(doubles.deps, subscription_id=subscription_id,
                                            ends_on=MARCH_21, reason=reason))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(why,)) for why in ("canceled",
                                                                       "terminated")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then one of them ended it, the other found it ended; one final invoice exists
    assert errors == []
    assert sorted(r.ended_now for r in results) == [False, True]
    finals = [inv for inv in invoices_of(uow_factory, "acc_card")
              if inv.kind is InvoiceKind.FINAL]
    assert len(finals) == 1
    assert {r.final_invoice_id for r in results} == {finals[0].id}


def test_a_renewal_cannot_claim_a_subscription_that_has_ended(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a subscription ended on 03-21
    doubles = make_doubles(uow_factory=uow_factory, clock=clock)
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    renew(uow_factory, clock)
    clock.set(at_utc(2026, 3, 21, 9))
    end_subscription(doubles.deps, subscription_id=subscription_id, ends_on=MARCH_21,
                     reason="canceled")
    # When a renewal that read it before tries to lease it
    with uow_factory() as uow:
        claimed = uow.subscriptions.claim_renewal(subscription_id=subscription_id,
                                                  now=clock.now(), until=clock.now())
        due = uow.subscriptions.due(as_of=date(2027, 1, 1), limit=10)
    # Then it cannot, and it is never due again
    assert (claimed, due) == (False, [])


def test_an_operators_renewals_run_ends_a_canceling_subscription_before_renewing(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a subscription canceled at the end of its first term (ends 04-01), March billed
    doubles = make_doubles(uow_factory=uow_factory, clock=clock)
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    renew(uow_factory, clock)
    cancel_subscription(doubles.deps, subscription_id=subscription_id, at=CancelAt.PERIOD_END)
    # When an operator runs the renewals as of 05-01 (`paycollect renewals run --as-of`)
    result = run_renewals(doubles.deps, as_of=date(2026, 5, 1), actor="carol")
    # Then the final invoice of 04-01 is the one invoice issued; no April or May renewal
    assert result == {"as_of": "2026-05-01", "issued": 1}
    assert [(inv.kind, inv.issued_on) for inv in invoices_of(uow_factory, "acc_card")] == [
        (InvoiceKind.MONTHLY, MARCH_1), (InvoiceKind.FINAL, APRIL_1)]
