"""The in-memory fakes behave like the SQL adapters where handlers depend on it."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import AttemptAlreadyActive, DuplicateInvoice
from domain.invoices import InvoiceKind
from domain.ledger import EntryKind, entry
from domain.payments import AttemptStatus
from domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.builders import an_account, an_attempt, an_invoice, eur
from tests.fakes import FakeDatabase, FakeUnitOfWork, FakeUnitOfWorkFactory


def test_the_fakes_implement_the_ports() -> None:
    uow: UnitOfWork = FakeUnitOfWork()
    factory: UnitOfWorkFactory = FakeUnitOfWorkFactory()
    assert isinstance(uow, FakeUnitOfWork)
    assert isinstance(factory(), FakeUnitOfWork)


def test_a_second_invoice_of_the_same_kind_for_the_same_period_is_rejected() -> None:
    with FakeUnitOfWork() as uow:
        uow.invoices.add_with_lines(invoice=an_invoice())
        with pytest.raises(DuplicateInvoice):
            uow.invoices.add_with_lines(invoice=an_invoice(id="inv_2", number="PC-2026-000002"))
        uow.invoices.add_with_lines(invoice=an_invoice(id="inv_3", number="PC-2026-000003",
                                                       kind=InvoiceKind.USAGE))
        assert [i.id for i in uow.invoices.list()] == ["inv_1", "inv_3"]


def test_an_invoice_cannot_have_two_active_attempts_until_the_first_is_terminal() -> None:
    with FakeUnitOfWork() as uow:
        uow.attempts.add(attempt=an_attempt())
        with pytest.raises(AttemptAlreadyActive):
            uow.attempts.add(attempt=an_attempt(id="att_2", status=AttemptStatus.SCHEDULED))
        failed = an_attempt(status=AttemptStatus.FAILED)
        assert uow.attempts.update(attempt=failed, expected_status=AttemptStatus.PROCESSING)
        assert not uow.attempts.update(attempt=failed, expected_status=AttemptStatus.PROCESSING)
        uow.attempts.add(attempt=an_attempt(id="att_2", status=AttemptStatus.SCHEDULED))
        with pytest.raises(AttemptAlreadyActive):
            uow.attempts.update(attempt=an_attempt(), expected_status=AttemptStatus.FAILED)


def test_the_same_settlement_applied_twice_credits_once() -> None:
    settle = entry(EntryKind.PAYMENT_SETTLED, account_id="acc_1", amount=eur(1000),
                   on=date(2026, 3, 1))
    with FakeUnitOfWork() as uow:
        assert uow.ledger.add(entry=settle, dedupe_key="settle:att_1") is True
        assert uow.ledger.add(entry=settle, dedupe_key="settle:att_1") is False
        assert uow.ledger.balance(account_id="acc_1", currency="EUR") == eur(-1000)


def test_only_committed_work_reaches_the_database() -> None:
    # Given a committed account
    database = FakeDatabase()
    uow_factory = FakeUnitOfWorkFactory(database)
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.commit()
    # When later work is left uncommitted, or fails
    with uow_factory() as uow:
        uow.accounts.add(account=an_account(id="acc_2"))
    def fail_half_way() -> None:
        with uow_factory() as uow:
            uow.accounts.add(account=an_account(id="acc_3"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_half_way()
    # Then only the committed account exists
    assert list(database.state.accounts) == ["acc_1"]
    assert database.commits == 1
