"""The dunning handler on in-memory fakes of our ports: notices, standing, reinstatement."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from domain.accounts import MethodType, PaymentMethod, Standing
from domain.clock import ManualClock, at_utc
from domain.dunning import DunningPolicy
from domain.invoices import InvoiceStatus
from domain.outcomes import Charged
from domain.payments import AttemptStatus
from domain.plans import UnitKind
from tests.builders import a_subscription, an_account, an_attempt, an_invoice, eur
from tests.fakes import FakeUnitOfWorkFactory
from tests.handlers.doubles import Doubles, make_doubles
from workers.handlers.apply import record_event
from workers.handlers.dunning import advance_dunning
from workers.handlers.subscriptions import UnitsRefused, add_units

DUE = date(2026, 2, 28)
POLICY = DunningPolicy()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at_utc(2026, 2, 28, 6))


@pytest.fixture
def world(clock: ManualClock) -> Doubles:
    doubles = make_doubles(uow_factory=FakeUnitOfWorkFactory(), clock=clock)
    with doubles.deps.uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.subscriptions.add(subscription=a_subscription())
        uow.invoices.add_with_lines(invoice=an_invoice())  # card, due 2026-02-28
        uow.commit()
    return doubles


def run_until(world: Doubles, clock: ManualClock, day: date,
              policy: DunningPolicy = POLICY) -> None:
    """Advance dunning once a day, like the scheduler, up to `day` included."""
    today = clock.today()
    while today <= day:
        clock.set(at_utc(today.year, today.month, today.day, 6))
        advance_dunning(world.deps, today=today, policy=policy)
        today += timedelta(days=1)


def notices(world: Doubles) -> list[tuple[str, date, str]]:
    with world.deps.uow_factory() as uow:
        return [(n.kind, n.created_at.date(), n.dedupe_key) for n in uow.outbox.list_all()]


def standing(world: Doubles) -> Standing:
    with world.deps.uow_factory() as uow:
        account = uow.accounts.get(account_id="acc_1")
    assert account is not None
    return account.standing


def test_an_unpaid_card_invoice_gets_its_first_notice_three_days_after_its_due_date(
        world: Doubles, clock: ManualClock) -> None:
    # Given a card invoice due on 2026-02-28 that nobody paid
    # When dunning advances every day up to 2026-03-03
    run_until(world, clock, date(2026, 3, 3))
    # Then one first notice went to the outbox on 03-03, keyed by the invoice
    assert notices(world) == [("first_notice", date(2026, 3, 3), "first_notice:inv_1")]
    # And it was dispatched for sending, and the account is restricted
    assert [m.kind for m in world.dispatch.messages] == ["send_notification"]
    assert standing(world) is Standing.RESTRICTED


def test_notices_are_rendered_in_the_accounts_language(world: Doubles,
                                                       clock: ManualClock) -> None:
    # Given a French-speaking account (the builder's default) with an overdue invoice
    # When the first notice goes out
    run_until(world, clock, date(2026, 3, 3))
    # Then it reads French
    with world.deps.uow_factory() as uow:
        [notice] = uow.outbox.list_all()
    assert "PC-2026-000001" in notice.subject
    assert "Bonjour" in notice.body_text


def test_the_whole_sequence_suspends_then_terminates_the_account(
        world: Doubles, clock: ManualClock) -> None:
    # Given an invoice that is never paid
    # When dunning advances for a month
    run_until(world, clock, date(2026, 3, 31))
    # Then the five notices went out on the configured days overdue, in order
    assert [(kind, day) for kind, day, _key in notices(world)] == [
        ("first_notice", DUE + timedelta(days=3)),
        ("second_notice", DUE + timedelta(days=10)),
        ("third_notice", DUE + timedelta(days=17)),
        ("last_notice", DUE + timedelta(days=22)),
        ("legal_notice", DUE + timedelta(days=27)),
    ]
    # And the account ended terminated
    assert standing(world) is Standing.TERMINATED


def test_the_third_notice_announces_termination_ten_days_later(
        world: Doubles, clock: ManualClock) -> None:
    # Given an invoice due on 2026-02-28 that stays unpaid
    # When the third notice goes out (17 days overdue: 2026-03-17)
    run_until(world, clock, date(2026, 3, 17))
    # Then its subject names the day of the legal notice, 10 days later
    with world.deps.uow_factory() as uow:
        third = next(n for n in uow.outbox.list_all() if n.kind == "third_notice")
    assert "27" in third.subject


def test_running_dunning_twice_the_same_day_sends_each_notice_once(
        world: Doubles, clock: ManualClock) -> None:
    # Given the first notice is due today
    run_until(world, clock, date(2026, 3, 3))
    # When dunning runs again the same day (a second tick, a second scheduler)
    advance_dunning(world.deps, today=date(2026, 3, 3), policy=POLICY)
    # Then nothing more was queued
    assert len(notices(world)) == 1


def test_the_policy_is_copied_onto_the_invoice_so_later_changes_do_not_reshuffle_it(
        world: Doubles, clock: ManualClock) -> None:
    # Given the invoice fell overdue under the default policy (first notice at 3 days)
    run_until(world, clock, date(2026, 3, 1))
    with world.deps.uow_factory() as uow:
        copied = uow.invoices.dunning_policy(invoice_id="inv_1")
    assert copied is not None
    assert copied["days_overdue"] == "3,10,17,22,27"
    # When the configuration changes to a first notice at 1 day, and dunning goes on
    run_until(world, clock, date(2026, 3, 3), policy=DunningPolicy(days_overdue=(1, 2, 3, 4, 5)))
    # Then the invoice still follows its own copy: one first notice, on day 3
    assert [(kind, day) for kind, day, _key in notices(world)] == [
        ("first_notice", date(2026, 3, 3))]


def test_no_notice_is_sent_while_a_direct_debit_is_in_its_processing_window(
        world: Doubles, clock: ManualClock) -> None:
    # Given a direct-debit invoice whose debit is still pending at the bank
    with world.deps.uow_factory() as uow:
        uow.invoices.add_with_lines(invoice=an_invoice(
            id="inv_dd", number="PC-2026-000002", payment_reference="RF2",
            payment_method=MethodType.DIRECT_DEBIT.value,
            period=an_invoice().period, subscription_id="sub_2"))
        uow.invoices.update_status(invoice_id="inv_1", status=InvoiceStatus.PAID)
        uow.attempts.add(attempt=an_attempt(id="att_dd", invoice_id="inv_dd",
                                            method=MethodType.DIRECT_DEBIT,
                                            status=AttemptStatus.PENDING))
        uow.commit()
    # When dunning runs past the first notice's day
    run_until(world, clock, date(2026, 3, 6))
    # Then no notice was sent and the account stays active
    assert notices(world) == []
    assert standing(world) is Standing.ACTIVE


def test_wire_invoices_are_not_dunned(world: Doubles, clock: ManualClock) -> None:
    # Given the only open invoice is paid by wire
    with world.deps.uow_factory() as uow:
        uow.invoices.update_status(invoice_id="inv_1", status=InvoiceStatus.PAID)
        uow.invoices.add_with_lines(invoice=an_invoice(
            id="inv_w", number="PC-2026-000003", payment_reference="RF3",
            payment_method=MethodType.WIRE.value, subscription_id="sub_3"))
        uow.commit()
    # When dunning runs for weeks
    run_until(world, clock, date(2026, 3, 20))
    # Then no notice
    assert notices(world) == []


def test_paying_the_balance_reinstates_the_account_at_once(
        world: Doubles, clock: ManualClock) -> None:
    # Given a suspended account (third notice sent) with a card retry in flight
    run_until(world, clock, date(2026, 3, 17))
    assert standing(world) is Standing.SUSPENDED
    with world.deps.uow_factory() as uow:
        invoice = uow.invoices.get(invoice_id="inv_1")
        assert invoice is not None
        uow.attempts.add(attempt=an_attempt(id="att_pay", amount=invoice.amount_due,
                                            status=AttemptStatus.PROCESSING))
        uow.commit()
    # When the payment settles
    record_event(world.deps, attempt_id="att_pay",
                 event=Charged(provider_ref="pi_1", amount=invoice.amount_due))
    # Then the account is active again, before any dunning pass
    assert standing(world) is Standing.ACTIVE
    # And the sequence stopped
    run_until(world, clock, date(2026, 3, 31))
    dunning = [kind for kind, _day, _key in notices(world) if kind.endswith("_notice")]
    assert dunning == ["first_notice", "second_notice", "third_notice"]


def test_a_debt_carried_forward_keeps_its_place_in_the_sequence(
        world: Doubles, clock: ManualClock) -> None:
    # Given the first two notices went out for the invoice of 02-28
    run_until(world, clock, date(2026, 3, 10))
    # When its balance is carried forward onto the invoice of 03-31, which is not paid either
    old = an_invoice()
    with world.deps.uow_factory() as uow:
        uow.invoices.add_with_lines(invoice=an_invoice(
            id="inv_2", number="PC-2026-000002", payment_reference="RF2",
            issued_on=date(2026, 3, 31),
            due_on=date(2026, 3, 31), previous_amount_due=old.amount_due,
            period=replace(old.period, start=date(2026, 3, 31), end=date(2026, 4, 30))))
        uow.invoices.update_settlement(invoice=replace(
            old, amount_paid=None, amount_carried=old.amount_due,
            status=InvoiceStatus.CARRIED_FORWARD, carried_to="inv_2"))
        uow.commit()
    run_until(world, clock, date(2026, 4, 5))
    # Then the new invoice continues with the third notice, not a new first notice
    assert [(kind, key) for kind, _day, key in notices(world)] == [
        ("first_notice", "first_notice:inv_1"), ("second_notice", "second_notice:inv_1"),
        ("third_notice", "third_notice:inv_2")]
    assert standing(world) is Standing.SUSPENDED


def test_a_restricted_account_cannot_add_units_but_can_remove_them(
        world: Doubles, clock: ManualClock) -> None:
    # Given the account is restricted by the first notice
    run_until(world, clock, date(2026, 3, 3))
    # When the customer adds a user
    with pytest.raises(UnitsRefused, match="restricted"):
        add_units(world.deps, subscription_id="sub_1", kind=UnitKind.USERS, quantity=1,
                  on=date(2026, 3, 3))
    # Then nothing was added, and the refusal is in the audit log
    with world.deps.uow_factory() as uow:
        assert uow.seat_changes.list_for(subscription_id="sub_1") == []
        assert [e.action for e in uow.audit.list(target="sub_1")] == ["units.refused"]


def test_an_active_account_adds_units(world: Doubles, clock: ManualClock) -> None:
    # Given an account in good standing
    # When it adds two numbers
    add_units(world.deps, subscription_id="sub_1", kind=UnitKind.NUMBERS, quantity=2,
              on=date(2026, 2, 28))
    # Then the change is recorded
    with world.deps.uow_factory() as uow:
        [change] = uow.seat_changes.list_for(subscription_id="sub_1")
    assert (change.kind, change.delta) == (UnitKind.NUMBERS, 2)


def test_accounts_paying_by_another_method_are_untouched(world: Doubles,
                                                          clock: ManualClock) -> None:
    # Given the account switched to a wire after its card invoice was paid
    with world.deps.uow_factory() as uow:
        uow.invoices.update_settlement(invoice=replace(
            an_invoice(), amount_paid=eur(11179), amount_carried=None,
            status=InvoiceStatus.PAID))
        uow.accounts.update_payment_method(account_id="acc_1",
                                           method=PaymentMethod(MethodType.WIRE))
        uow.commit()
    # When dunning runs
    run_until(world, clock, date(2026, 3, 31))
    # Then nothing happens
    assert notices(world) == []
    assert standing(world) is Standing.ACTIVE
