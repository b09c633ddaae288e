"""Repositories on real SQLite and PostgreSQL: accounts, subscriptions, history, invoices."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from adapters.db.repositories._sql import HeldWriteMissed
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.accounts import MethodType, PaymentMethod, Standing
from domain.clock import at_utc
from domain.errors import DuplicateInvoice, UnknownAccount, UnknownInvoice
from domain.invoices import InvoiceKind, InvoiceStatus, Period
from domain.plans import Interval, UnitKind
from domain.seats import SeatChange
from domain.subscriptions import SubscriptionStatus
from tests.builders import a_plan, a_subscription, an_account, an_attempt, an_invoice, eur


@pytest.fixture
def subscribed(uow_factory: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    """An account with one subscription, committed."""
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.subscriptions.add(subscription=a_subscription())
        uow.commit()
    return uow_factory


def test_an_account_round_trips_exactly(uow_factory: SqlUnitOfWorkFactory) -> None:
    # Given an account paying by SEPA direct debit, with provider details
    method = PaymentMethod(MethodType.DIRECT_DEBIT, provider_customer="CU1",
                           provider_method="MD1", scheme="sepa_core", usable=False,
                           details={"simulate": "fail_late"})
    account = an_account(payment_method=method, standing=Standing.RESTRICTED, email=None)
    # When it is stored and read back in another transaction
    with uow_factory() as uow:
        uow.accounts.add(account=account)
        uow.commit()
    with uow_factory() as uow:
        # Then it is the same account
        assert uow.accounts.get(account_id="acc_1") == account
        assert uow.accounts.get_many(account_ids=["acc_1", "nope"]) == {"acc_1": account}
        assert uow.accounts.get(account_id="nope") is None


def test_standing_and_payment_method_updates_are_read_back(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    # Given an account
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.commit()
    # When its standing and payment method change
    wire = PaymentMethod(MethodType.WIRE)
    with uow_factory() as uow:
        uow.accounts.update_standing(account_id="acc_1", standing=Standing.SUSPENDED)
        uow.accounts.update_payment_method(account_id="acc_1", method=wire)
        # Then the same transaction already reads the new values
        account = uow.accounts.get(account_id="acc_1")
        assert account is not None
        assert (account.standing, account.payment_method) == (Standing.SUSPENDED, wire)
        assert uow.accounts.list(standing=Standing.SUSPENDED) == [account]
        assert uow.accounts.list(standing=Standing.ACTIVE) == []
        # And updating an account that does not exist says so
        with pytest.raises(UnknownAccount):
            uow.accounts.update_standing(account_id="nope", standing=Standing.ACTIVE)


def test_a_subscription_round_trips_exactly(uow_factory: SqlUnitOfWorkFactory) -> None:
    # Given an annual subscription without per-minute rates, already billed once
    plan = a_plan(interval=Interval.ANNUAL, outbound_per_minute=None, minimum_users=0)
    subscription = a_subscription()
    subscription = replace(subscription, terms=replace(subscription.terms, plan=plan),
                           billed_through=date(2026, 1, 31), next_renewal_on=date(2026, 2, 28))
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.subscriptions.add(subscription=subscription)
        uow.commit()
    # When it is read back
    with uow_factory() as uow:
        # Then nothing is lost
        assert uow.subscriptions.get(subscription_id="sub_1") == subscription
        assert uow.subscriptions.list_for_account(account_id="acc_1") == [subscription]


def test_due_lists_active_subscriptions_whose_renewal_has_come_earliest_first(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    # Given subscriptions renewing on different days, one of them canceled
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        for sub_id, day in (("sub_b", 10), ("sub_a", 5), ("sub_late", 20), ("sub_gone", 1)):
            uow.subscriptions.add(subscription=a_subscription(
                id=sub_id, next_renewal_on=date(2026, 3, day)))
        uow.subscriptions.set_status(subscription_id="sub_gone",
                                     status=SubscriptionStatus.CANCELED)
        uow.commit()
    # When the scheduler asks what is due on the 10th
    with uow_factory() as uow:
        due = uow.subscriptions.due(as_of=date(2026, 3, 10), limit=10)
        limited = uow.subscriptions.due(as_of=date(2026, 3, 10), limit=1)
    # Then it gets the active ones due by then, earliest first, up to the limit
    assert [s.id for s in due] == ["sub_a", "sub_b"]
    assert [s.id for s in limited] == ["sub_a"]


def test_moving_the_next_renewal_is_a_compare_and_set(subscribed: SqlUnitOfWorkFactory) -> None:
    with subscribed() as uow:
        # Given the subscription's next renewal is its start date
        start = date(2026, 1, 31)
        # When a worker moves it on, expecting the start date
        moved = uow.subscriptions.set_next_renewal(
            subscription_id="sub_1", billed_through=start, next_renewal_on=date(2026, 2, 28),
            expected_next=start)
        # Then it moves, and a second worker expecting the same date does not
        again = uow.subscriptions.set_next_renewal(
            subscription_id="sub_1", billed_through=start, next_renewal_on=date(2026, 2, 28),
            expected_next=start)
        subscription = uow.subscriptions.get(subscription_id="sub_1")
    assert (moved, again) == (True, False)
    assert subscription is not None
    assert (subscription.billed_through, subscription.next_renewal_on) == \
        (start, date(2026, 2, 28))


def test_a_renewal_lease_is_held_until_it_expires(subscribed: SqlUnitOfWorkFactory) -> None:
    now = at_utc(2026, 3, 1, 9)
    with subscribed() as uow:
        # Given one worker took the lease for five minutes
        first = uow.subscriptions.claim_renewal(subscription_id="sub_1", now=now,
                                                until=now + timedelta(minutes=5))
        # When another tries within those five minutes, and then after them
        during = uow.subscriptions.claim_renewal(subscription_id="sub_1",
                                                 now=now + timedelta(minutes=1),
                                                 until=now + timedelta(minutes=6))
        after = uow.subscriptions.claim_renewal(subscription_id="sub_1",
                                                now=now + timedelta(minutes=5),
                                                until=now + timedelta(minutes=10))
    # Then only the first and the one after expiry get it
    assert (first, during, after) == (True, False, True)


def test_seat_changes_come_back_in_date_order_within_the_range(
        subscribed: SqlUnitOfWorkFactory) -> None:
    # Given seat changes recorded out of order
    changes = [SeatChange(UnitKind.USERS, 2, date(2026, 2, 10)),
               SeatChange(UnitKind.NUMBERS, 1, date(2026, 2, 1)),
               SeatChange(UnitKind.USERS, -1, date(2026, 2, 10)),
               SeatChange(UnitKind.USERS, 1, date(2026, 3, 2))]
    with subscribed() as uow:
        for change in changes:
            uow.seat_changes.add(subscription_id="sub_1", change=change)
        uow.commit()
    # When they are read for February
    with subscribed() as uow:
        february = uow.seat_changes.list_for(subscription_id="sub_1", start=date(2026, 2, 1),
                                             end=date(2026, 2, 28))
        everything = uow.seat_changes.list_for(subscription_id="sub_1")
    # Then they are by date, same-day changes in the order recorded, the end excluded
    assert february == [changes[1], changes[0], changes[2]]
    assert everything == [changes[1], changes[0], changes[2], changes[3]]


def test_the_database_refuses_a_negative_call_duration(subscribed: SqlUnitOfWorkFactory,
                                                       engine: Engine) -> None:
    # Given a raw insert that bypasses the domain's own check
    insert = text("INSERT INTO call_records (id, subscription_id, number, direction, "
                  "destination, started_at, duration_seconds, rate_prefix, received_at) "
                  "VALUES ('c1', 'sub_1', '+331', 'outbound', '+332', "
                  "'2026-02-01 00:00:00', -1, '', '2026-02-01 00:00:00')")
    # When it runs, then the CHECK constraint refuses it
    with engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(insert)


def test_an_invoice_with_its_lines_round_trips_exactly(subscribed: SqlUnitOfWorkFactory) -> None:
    # Given an invoice using every optional field
    invoice = an_invoice(previous_amount_due=eur(-1250), amount_paid=eur(500),
                         amount_carried=eur(0), payment_reference="RF18539007547034",
                         status=InvoiceStatus.CARRIED_FORWARD, carried_to="inv_2",
                         metadata={"po": "PO-7"})
    # When it is stored and read back every way there is
    with subscribed() as uow:
        uow.invoices.add_with_lines(invoice=invoice)
        uow.commit()
    with subscribed() as uow:
        # Then it is exactly the same invoice, lines in order
        assert uow.invoices.get(invoice_id="inv_1") == invoice
        assert uow.invoices.get_for_update(invoice_id="inv_1") == invoice
        assert uow.invoices.by_reference(reference="RF18539007547034") == invoice
        assert uow.invoices.find_for_period(subscription_id="sub_1", kind=InvoiceKind.MONTHLY,
                                            period_start=date(2026, 2, 28)) == invoice
        assert uow.invoices.list(account_id="acc_1") == [invoice]
        assert uow.invoices.get(invoice_id="nope") is None


def test_collection_reads_an_invoice_without_its_lines_and_owes_the_same(
        subscribed: SqlUnitOfWorkFactory) -> None:
    # Given a stored invoice with lines, a previous balance and a part payment
    invoice = an_invoice(previous_amount_due=eur(1250), amount_paid=eur(500))
    with subscribed() as uow:
        uow.invoices.add_with_lines(invoice=invoice)
        uow.attempts.add(attempt=an_attempt(id="att_1", invoice_id="inv_1"))
        uow.commit()
    with subscribed() as uow:
        # When it is read without lines, plainly or locked through its attempt
        plain = uow.invoices.get(invoice_id="inv_1", lines=False)
        locked = uow.invoices.lock_for_attempt(attempt_id="att_1")
        missing = uow.invoices.lock_for_attempt(attempt_id="nope")
        # (locked through its attempt, it comes with the attempt and the account as stored;
        # read with its account, with the account)
        assert locked is not None
        assert locked.attempt == uow.attempts.get(attempt_id="att_1")
        account = uow.accounts.get(account_id=locked.attempt.account_id)
        assert locked.account == account
        assert uow.invoices.get_with_account(invoice_id="inv_1") == (plain, account)
        assert uow.invoices.get_with_account(invoice_id="nope") is None
    # Then both owe exactly what the full invoice owes, but cannot be printed
    for summary in (plain, locked.invoice):
        assert summary is not None
        assert summary.lines == ()
        assert not summary.has_lines
        assert (summary.charges, summary.total, summary.amount_due) == (
            invoice.charges, invoice.total, invoice.amount_due)
        assert summary == replace(invoice, lines=(), stored_charges=invoice.charges)
    assert missing is None
    assert invoice.has_lines


def test_a_settlement_writes_amounts_status_and_carried_to_at_once(
        subscribed: SqlUnitOfWorkFactory) -> None:
    with subscribed() as uow:
        uow.invoices.add_with_lines(invoice=an_invoice())
        settled = replace(an_invoice(), amount_paid=eur(1000), amount_carried=eur(10179),
                          status=InvoiceStatus.CARRIED_FORWARD, carried_to="inv_2")
        uow.invoices.update_settlement(invoice=settled)
        assert uow.invoices.get(invoice_id="inv_1") == settled
        # An unknown invoice raises when the held write is sent (its next statement)
        uow.invoices.update_settlement(invoice=replace(settled, id="nope"))
        with pytest.raises(HeldWriteMissed, match="1 held updates touched 0 rows"):
            uow.invoices.get(invoice_id="inv_1")


def test_a_second_invoice_of_the_same_kind_for_the_same_period_is_rejected(
        subscribed: SqlUnitOfWorkFactory) -> None:
    with subscribed() as uow:
        # Given the February invoice exists
        uow.invoices.add_with_lines(invoice=an_invoice())
        # When a second renewal builds it again under a new id and number
        with pytest.raises(DuplicateInvoice):
            uow.invoices.add_with_lines(invoice=an_invoice(id="inv_2", number="PC-2026-000002"))
        # Then the transaction is still usable: another kind for that period is fine
        usage = an_invoice(id="inv_3", number="PC-2026-000003", kind=InvoiceKind.USAGE)
        uow.invoices.add_with_lines(invoice=usage)
        uow.commit()
    with subscribed() as uow:
        assert [i.id for i in uow.invoices.list()] == ["inv_1", "inv_3"]
        # And the rejected invoice left no lines behind
        assert uow.invoices.get(invoice_id="inv_2") is None


def test_a_taken_invoice_number_is_a_duplicate_too(subscribed: SqlUnitOfWorkFactory) -> None:
    with subscribed() as uow:
        uow.invoices.add_with_lines(invoice=an_invoice())
        later = an_invoice(id="inv_2", period=Period(date(2026, 3, 31), date(2026, 4, 30)))
        with pytest.raises(DuplicateInvoice):
            uow.invoices.add_with_lines(invoice=later)


def test_open_invoices_are_listed_oldest_first_without_the_closed_ones(
        subscribed: SqlUnitOfWorkFactory) -> None:
    # Given three invoices, added newest first, the middle one paid
    periods = [(date(2026, 4, 30), date(2026, 5, 31)), (date(2026, 3, 31), date(2026, 4, 30)),
               (date(2026, 2, 28), date(2026, 3, 31))]
    with subscribed() as uow:
        for n, (start, end) in enumerate(periods, start=1):
            uow.invoices.add_with_lines(invoice=an_invoice(
                id=f"inv_{n}", number=f"PC-2026-00000{n}", period=Period(start, end),
                issued_on=start, due_on=start))
        uow.invoices.update_status(invoice_id="inv_2", status=InvoiceStatus.PAID)
        uow.commit()
    # When balance forward asks for the open ones, locking them
    with subscribed() as uow:
        open_invoices = uow.invoices.list_open_for_account(account_id="acc_1", for_update=True)
    # Then they come oldest first, each with its lines
    assert [i.id for i in open_invoices] == ["inv_3", "inv_1"]
    assert all(len(i.lines) == 3 for i in open_invoices)


def test_amounts_and_status_updates_are_read_back(subscribed: SqlUnitOfWorkFactory) -> None:
    with subscribed() as uow:
        # Given an open invoice
        uow.invoices.add_with_lines(invoice=an_invoice())
        # When it is carried forward onto a new one
        uow.invoices.update_settlement(invoice=replace(
            an_invoice(), amount_paid=eur(1000), amount_carried=eur(10179),
            status=InvoiceStatus.CARRIED_FORWARD, carried_to="inv_2"))
        uow.invoices.set_dunning_policy(invoice_id="inv_1", policy={"first_notice_days": 3})
        invoice = uow.invoices.get(invoice_id="inv_1")
        # Then the invoice reads back with nothing left due
        assert invoice is not None
        assert invoice.amount_due == eur(0)
        assert (invoice.status, invoice.carried_to) == (InvoiceStatus.CARRIED_FORWARD, "inv_2")
        assert uow.invoices.dunning_policy(invoice_id="inv_1") == {"first_notice_days": 3}
        # And a missing invoice says so
        with pytest.raises(UnknownInvoice):
            uow.invoices.update_status(invoice_id="nope", status=InvoiceStatus.PAID)


def test_invoice_sequences_have_no_gaps_even_after_a_rollback(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    # Given two numbers handed out and committed
    with uow_factory() as uow:
        first = uow.invoices.next_sequence(issuer="PC", year=2026)
        second = uow.invoices.next_sequence(issuer="PC", year=2026)
        uow.commit()
    # When a transaction takes a number and rolls back
    with uow_factory() as uow:
        uow.invoices.next_sequence(issuer="PC", year=2026)
    # Then the next transaction gets that number again; other years count on their own
    with uow_factory() as uow:
        third = uow.invoices.next_sequence(issuer="PC", year=2026)
        other_year = uow.invoices.next_sequence(issuer="PC", year=2027)
    assert (first, second, third, other_year) == (1, 2, 3, 1)
