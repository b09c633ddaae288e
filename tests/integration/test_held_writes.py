"""Writes held back (`adapters/db/repositories/_sql.run_later`) on SQLite and PostgreSQL:
sent together as one executemany per statement before the transaction's next statement or
its commit, seen by every read after them, dropped with a rollback, checked row by row."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import IntegrityError

from adapters.db.repositories import invoices as invoices_sql
from adapters.db.repositories._sql import HeldWriteFailed, HeldWriteMissed, run_later
from adapters.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from domain.clock import at_utc
from domain.errors import AttemptAlreadyActive
from domain.invoices import InvoiceStatus, Period
from domain.ledger import EntryKind, entry
from domain.money import Money
from domain.payments import AttemptStatus
from domain.records import Notification
from tests.builders import a_subscription, an_account, an_attempt, an_invoice, eur


@pytest.fixture
def invoiced(uow_factory: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    """An account, five open invoices (inv_0…inv_4), each with a PROCESSING attempt."""
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.subscriptions.add(subscription=a_subscription())
        for n in range(5):
            uow.invoices.add_with_lines(invoice=an_invoice(
                id=f"inv_{n}", number=f"PC-2026-00000{n}",
                period=Period(date(2026, 2 + n, 1), date(2026, 3 + n, 1))))
            uow.attempts.add(attempt=an_attempt(id=f"att_{n}", invoice_id=f"inv_{n}"))
        uow.commit()
    return uow_factory


@contextmanager
def statements_of(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if not statement.upper().startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE
            seen.append(" ".join(statement.split()[:3]).upper())

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def record_payment(uow: SqlUnitOfWork, n: int, told: Callable[[bool], None]) -> None:
    """What recording one card payment writes (apply_event), all four held back."""
    attempt = an_attempt(id=f"att_{n}", invoice_id=f"inv_{n}")
    assert uow.attempts.update(attempt=replace(attempt, status=AttemptStatus.SUCCEEDED),
                               expected_status=AttemptStatus.PROCESSING, locked=True)
    uow.ledger.append(entry=entry(EntryKind.PAYMENT_SETTLED, account_id="acc_1",
                                  amount=eur(11179), on=date(2026, 3, 1),
                                  invoice_id=f"inv_{n}", attempt_id=attempt.id),
                      dedupe_key=f"settle:{attempt.id}")
    uow.invoices.update_settlement(invoice=replace(
        an_invoice(id=f"inv_{n}"), amount_paid=eur(11179), status=InvoiceStatus.PAID))
    uow.outbox.add_later(notification=receipt(n), inserted=told)


def receipt(n: int) -> Notification:
    return Notification(id=f"ntf_{n}", account_id="acc_1", kind="payment_received",
                        dedupe_key=f"payment_received:att_{n}", to_address="a@example.com",
                        subject="Paid", body_text="Thanks", created_at=at_utc(2026, 3, 1, 9))


def test_a_batch_of_held_writes_is_one_statement_per_kind_and_seen_by_later_reads(
        invoiced: SqlUnitOfWorkFactory, engine: Engine) -> None:
    told: list[bool] = []
    with invoiced() as uow, statements_of(engine) as seen:
        # Given five payments recorded in one transaction: nothing is sent yet
        for n in range(5):
            record_payment(uow, n, told.append)
        assert seen == []
        assert told == []
        # When the transaction reads an invoice
        invoice = uow.invoices.get(invoice_id="inv_3")
        # Then the held writes went first, one statement per kind (the receipts' between
        # two reads of which are there: what it inserted), and the read sees them
        assert seen[:6] == ["UPDATE PAYMENT_ATTEMPTS SET", "INSERT INTO LEDGER_ENTRIES",
                            "UPDATE INVOICES SET", "SELECT NOTIFICATIONS.ID FROM",
                            "INSERT INTO NOTIFICATIONS", "SELECT NOTIFICATIONS.ID FROM"]
        assert invoice is not None
        assert invoice.status is InvoiceStatus.PAID
        assert told == [True] * 5
        uow.commit()
    with invoiced() as uow:
        assert uow.ledger.balance(account_id="acc_1", currency="EUR") == Money(-5 * 11179, "EUR")
        assert {uow.attempts.get(attempt_id=f"att_{n}").status  # type: ignore[union-attr]
                for n in range(5)} == {AttemptStatus.SUCCEEDED}
        # And an ORM read sees held writes too; a receipt queued already is not queued again
        for n in (0, 5):
            uow.outbox.add_later(notification=receipt(n), inserted=told.append)
        assert [n.id for n in uow.outbox.unsent(limit=10)] == [f"ntf_{n}" for n in range(6)]
        assert told[5:] == [False, True]
        uow.rollback()


def test_held_writes_are_sent_on_commit_and_dropped_on_rollback_or_without_commit(
        invoiced: SqlUnitOfWorkFactory) -> None:
    # Given a payment held and rolled back, and one held and left without commit
    with invoiced() as uow:
        record_payment(uow, 1, lambda _: None)
        uow.rollback()
        uow.commit()
    with invoiced() as uow:
        record_payment(uow, 2, lambda _: None)
    # And one held and committed with nothing read after it
    with invoiced() as uow:
        record_payment(uow, 3, lambda _: None)
        uow.commit()
    # Then only the committed one is there
    with invoiced() as uow:
        paid = {n for n in range(5)
                if uow.invoices.get(invoice_id=f"inv_{n}").status  # type: ignore[union-attr]
                is InvoiceStatus.PAID}
        assert paid == {3}
        assert uow.ledger.balance(account_id="acc_1", currency="EUR") == Money(-11179, "EUR")


def test_a_held_update_that_misses_its_row_fails_the_transaction(
        invoiced: SqlUnitOfWorkFactory) -> None:
    # Given an attempt already SUCCEEDED, updated as if it still were PROCESSING under a lock
    with invoiced() as uow:
        record_payment(uow, 4, lambda _: None)
        uow.commit()
    with invoiced() as uow:
        attempt = an_attempt(id="att_4", invoice_id="inv_4", status=AttemptStatus.FAILED)
        assert uow.attempts.update(attempt=attempt, expected_status=AttemptStatus.PROCESSING,
                                   locked=True)
        uow.invoices.update_settlement(invoice=an_invoice(id="inv_nope"))
        # When it is sent, Then it raises: nothing of the transaction commits
        with pytest.raises(HeldWriteMissed, match="1 held updates touched 0 rows"):
            uow.commit()
    with invoiced() as uow:
        found = uow.attempts.get(attempt_id="att_4")
        assert found is not None
        assert found.status is AttemptStatus.SUCCEEDED


def test_two_statements_on_one_row_keep_their_order(invoiced: SqlUnitOfWorkFactory) -> None:
    # Given a held settlement of inv_0, then a status written at once, then held again
    with invoiced() as uow:
        uow.invoices.update_settlement(invoice=replace(
            an_invoice(id="inv_0"), amount_paid=eur(100)))
        uow.invoices.update_status(invoice_id="inv_0", status=InvoiceStatus.VOID)
        uow.invoices.update_settlement(invoice=replace(
            an_invoice(id="inv_0"), amount_paid=eur(200), status=InvoiceStatus.PAID))
        uow.commit()
    # Then the last write wins, as written
    with invoiced() as uow:
        row = uow.session.execute(text(
            "SELECT status, amount_paid_minor FROM invoices WHERE id = 'inv_0'")).one()
        assert tuple(row) == ("paid", 200)


def test_held_writes_survive_a_savepoint_rolled_back_after_them(
        invoiced: SqlUnitOfWorkFactory) -> None:
    # Given inv_1's attempt FAILED with a retry active, and a payment of inv_0 held back
    with invoiced() as uow:
        failed = an_attempt(id="att_1", invoice_id="inv_1", status=AttemptStatus.FAILED)
        assert uow.attempts.update(attempt=failed, expected_status=AttemptStatus.PROCESSING)
        uow.attempts.add(attempt=an_attempt(id="att_1b", invoice_id="inv_1", number=2,
                                            status=AttemptStatus.SCHEDULED))
        uow.commit()
    with invoiced() as uow:
        record_payment(uow, 0, lambda _: None)
        # When reviving the failed attempt collides with the retry (its savepoint rolled
        # back) and the transaction goes on
        with pytest.raises(AttemptAlreadyActive):
            uow.attempts.update(attempt=replace(failed, status=AttemptStatus.SCHEDULED),
                                expected_status=AttemptStatus.FAILED)
        uow.commit()
    # Then the payment held before it was committed all the same
    with invoiced() as uow:
        paid = uow.invoices.get(invoice_id="inv_0")
        assert paid is not None
        assert paid.status is InvoiceStatus.PAID
        assert uow.ledger.balance(account_id="acc_1", currency="EUR") == Money(-11179, "EUR")


def test_a_held_write_that_fails_fails_the_transaction_not_just_its_statement(
        invoiced: SqlUnitOfWorkFactory) -> None:
    # Given a ledger line held for an account that does not exist (a foreign key)
    with invoiced() as uow:
        uow.ledger.append(entry=entry(EntryKind.PAYMENT_SETTLED, account_id="acc_nope",
                                      amount=eur(1), on=date(2026, 3, 1)))
        # When it is sent, Then the error is not an IntegrityError a caller recovering from
        # its own statement's constraint would swallow (committing without the held writes)
        with pytest.raises(HeldWriteFailed, match="1 held writes failed") as failed:
            uow.invoices.get(invoice_id="inv_0")
        assert not isinstance(failed.value, IntegrityError)
        assert isinstance(failed.value.__cause__, IntegrityError)


def test_held_parameters_of_one_statement_must_have_the_same_keys(
        invoiced: SqlUnitOfWorkFactory) -> None:
    with invoiced() as uow:
        # Given a settlement held (the statement's first parameter set)
        uow.invoices.update_settlement(invoice=an_invoice(id="inv_0"))
        # When the same statement is held with other keys, Then it is refused at once (an
        # executemany compiled from the first set would drop or miss them)
        with pytest.raises(ValueError, match="differ"):
            run_later(uow.session, invoices_sql._SETTLE, {"where_id": "inv_1"},
                      row=("invoices", "inv_1"))
