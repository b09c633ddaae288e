"""Termination on in-memory fakes of our ports: the legal notice ends the subscription that day
with a final invoice; paying everything afterwards reinstates the standing, not the service."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.accounts import Standing
from domain.clock import ManualClock, at_utc
from domain.dunning import DunningPolicy
from domain.invoices import InvoiceKind, InvoiceStatus
from domain.outcomes import Charged
from domain.payments import AttemptStatus
from domain.subscriptions import SubscriptionState
from tests.builders import a_subscription, an_account, an_attempt, an_invoice
from tests.fakes import FakeUnitOfWorkFactory
from tests.handlers.doubles import Doubles, make_doubles
from workers.handlers.apply import record_event
from workers.handlers.dunning import advance_dunning
from workers.handlers.renewals import RenewalSettings, run_due_renewals

LEGAL_NOTICE_DAY = date(2026, 3, 27)  # due 02-28 + 27 days


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at_utc(2026, 2, 28, 6))


@pytest.fixture
def world(clock: ManualClock) -> Doubles:
    # An account whose February invoice (card, due 02-28) nobody pays; renewed through 02-28
    doubles = make_doubles(uow_factory=FakeUnitOfWorkFactory(), clock=clock)
    with doubles.deps.uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.subscriptions.add(subscription=a_subscription(
            billed_through=date(2026, 2, 28), next_renewal_on=date(2026, 3, 31)))
        # numbered outside the renewals' sequence, which starts at PC-2026-000001
        uow.invoices.add_with_lines(invoice=an_invoice(number="PC-2025-000099"))
        uow.commit()
    return doubles


def run_until(world: Doubles, clock: ManualClock, day: date) -> None:
    today = clock.today()
    while today <= day:
        clock.set(at_utc(today.year, today.month, today.day, 6))
        run_due_renewals(uow_factory=world.deps.uow_factory, as_of=today, clock=clock,
                         settings=RenewalSettings())
        advance_dunning(world.deps, today=today, policy=DunningPolicy())
        today += timedelta(days=1)


def test_the_legal_notice_ends_the_subscription_that_day_with_a_final_invoice(
        world: Doubles, clock: ManualClock) -> None:
    # When dunning reaches the legal notice
    run_until(world, clock, LEGAL_NOTICE_DAY)
    with world.deps.uow_factory() as uow:
        subscription = uow.subscriptions.get(subscription_id="sub_1")
        account = uow.accounts.get(account_id="acc_1")
        invoices = uow.invoices.list(account_id="acc_1")
    # Then the account is terminated and its subscription ended that day
    assert account is not None
    assert account.standing is Standing.TERMINATED
    assert subscription is not None
    assert (subscription.state, subscription.ends_on, subscription.end_reason) == (
        SubscriptionState.ENDED, LEGAL_NOTICE_DAY, "terminated")
    # And the final invoice brings the whole unpaid February invoice forward
    february, final = invoices
    assert (final.kind, final.issued_on, final.lines) == (InvoiceKind.FINAL, LEGAL_NOTICE_DAY,
                                                          ())
    assert final.previous == an_invoice().charges
    assert (february.status, february.carried_to) == (InvoiceStatus.CARRIED_FORWARD, final.id)
    # And it is routed for collection (retries then follow the retry policy)
    assert ("route_invoice", (final.id,)) in [(m.kind, m.args) for m in world.dispatch.messages]


def test_paying_everything_after_termination_reinstates_the_standing_but_not_the_service(
        world: Doubles, clock: ManualClock) -> None:
    # Given a terminated account and its final invoice
    run_until(world, clock, LEGAL_NOTICE_DAY)
    with world.deps.uow_factory() as uow:
        final = uow.invoices.list(account_id="acc_1")[-1]
        uow.attempts.add(attempt=an_attempt(id="att_pay", invoice_id=final.id,
                                            amount=final.amount_due,
                                            status=AttemptStatus.PROCESSING))
        uow.commit()
    # When everything owed is paid
    record_event(world.deps, attempt_id="att_pay",
                 event=Charged(provider_ref="pi_1", amount=final.amount_due))
    # Then the standing is reinstated at once
    with world.deps.uow_factory() as uow:
        account = uow.accounts.get(account_id="acc_1")
    assert account is not None
    assert account.standing is Standing.ACTIVE
    # And the subscription stays ended: no renewal, no notice, on the next renewal dates
    run_until(world, clock, date(2026, 5, 31))
    with world.deps.uow_factory() as uow:
        subscription = uow.subscriptions.get(subscription_id="sub_1")
        kinds = [inv.kind for inv in uow.invoices.list(account_id="acc_1")]
        notices = [n.kind for n in uow.outbox.list_all() if n.kind.endswith("_notice")]
    assert subscription is not None
    assert subscription.state is SubscriptionState.ENDED
    assert kinds == [InvoiceKind.MONTHLY, InvoiceKind.FINAL]
    assert notices == ["first_notice", "second_notice", "third_notice", "last_notice",
                       "legal_notice"]
