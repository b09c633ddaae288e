"""A new payment method retries every open balance at once, oldest invoice first (SQLite and
PostgreSQL). Invoices come from tests/builders.py (each charges 111.79)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.accounts import MethodType, PaymentMethod, Standing
from domain.clock import at_utc
from domain.errors import UnknownAccount
from domain.invoices import Invoice, InvoiceStatus, Period
from domain.ledger import EntryKind, entry, issued_entry
from domain.outcomes import DeclineKind
from domain.payments import AttemptStatus, PaymentAttempt
from tests.builders import a_subscription, an_attempt, an_invoice, eur
from tests.handlers.doubles import Doubles, Message, Worker
from tests.handlers.world import (
    account,
    assert_ledger_balances,
    attempt,
    attempts_of,
    card_account,
    invoice,
)
from workers.handlers.accounts import change_payment_method, retry_open_balances

NEW_CARD = PaymentMethod(MethodType.CARD, provider_customer="cus_acc_1",
                         provider_method="pm_card_mastercard")


def _month(month: int, *, year: int = 2025, **overrides: object) -> Invoice:
    """The invoice issued on the 1st of `month` (1-11), for that month."""
    start = date(year, month, 1)
    return an_invoice(id=f"inv_{month:02d}", number=f"PC-{year}-{month:06d}",
                      period=Period(start, date(year, month + 1, 1)), issued_on=start,
                      due_on=start, **overrides)


def _store(uow_factory: SqlUnitOfWorkFactory, invoices: list[Invoice],
           attempts: list[PaymentAttempt]) -> None:
    """A suspended account whose card was flagged unusable, with `invoices` (debited in the
    ledger) and `attempts`."""
    dead_card = replace(card_account("acc_1").payment_method, usable=False)
    with uow_factory() as uow:
        uow.accounts.add(account=card_account("acc_1", payment_method=dead_card,
                                              standing=Standing.SUSPENDED))
        uow.subscriptions.add(subscription=a_subscription())
        for inv in invoices:  # stored newest first: order must come from the dates
            uow.invoices.add_with_lines(invoice=inv)
            uow.ledger.add(entry=issued_entry(inv), dedupe_key=f"issue:{inv.id}")
            if inv.paid.is_positive():
                uow.ledger.add(entry=entry(EntryKind.PAYMENT_SETTLED, account_id=inv.account_id,
                                           amount=inv.paid, on=inv.issued_on,
                                           invoice_id=inv.id))
        for a in attempts:
            uow.attempts.add(attempt=a)
        uow.commit()


def test_a_new_payment_method_retries_every_open_balance_oldest_first(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given a suspended account with three open invoices (Jan, Feb, Mar), stored newest
    # first: January's card was declined as lost, February has a soft retry waiting for
    # next week, March was never attempted; and a paid invoice from 2024
    _store(uow_factory, [
        _month(3), _month(2), _month(1),
        _month(11, year=2024, status=InvoiceStatus.PAID, amount_paid=eur(11179)),
    ], [
        an_attempt(id="att_jan", invoice_id="inv_01", status=AttemptStatus.FAILED,
                   failure_class=DeclineKind.HARD, failure_code="lost_card"),
        an_attempt(id="att_feb_1", invoice_id="inv_02", status=AttemptStatus.FAILED,
                   failure_class=DeclineKind.SOFT, failure_code="insufficient_funds"),
        an_attempt(id="att_feb_2", invoice_id="inv_02", number=2,
                   status=AttemptStatus.SCHEDULED, scheduled_for=at_utc(2026, 3, 8, 9)),
    ])

    # When the customer saves a new card and the message that follows is delivered
    change_payment_method(doubles.deps, account_id="acc_1", method=NEW_CARD)
    assert doubles.dispatch.work() == [Message("retry_open_balances", ("acc_1",))]
    Worker(doubles).run_until_idle()

    # Then the new card is charged for each open invoice, one after the other, oldest first
    assert doubles.card.order == ["inv_01", "inv_02", "inv_03"]
    assert [c.amount for c in doubles.card.charges] == [eur(11179)] * 3
    # and all three are paid, February's waiting retry cancelled, the account reinstated
    for invoice_id in ("inv_01", "inv_02", "inv_03"):
        assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert attempt(uow_factory, "att_feb_2").status is AttemptStatus.CANCELED
    assert account(uow_factory, "acc_1").standing is Standing.ACTIVE
    assert account(uow_factory, "acc_1").payment_method == NEW_CARD
    assert assert_ledger_balances(uow_factory, "acc_1") == eur(0)
    with uow_factory() as uow:
        assert [e.action for e in uow.audit.list(target="acc_1")][:1] == [
            "payment_method.updated"]


def test_retrying_open_balances_skips_an_invoice_whose_payment_is_still_in_flight(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given January failed on the old card, and February's direct debit is still pending
    _store(uow_factory, [_month(2), _month(1)], [
        an_attempt(id="att_jan", invoice_id="inv_01", status=AttemptStatus.FAILED,
                   failure_class=DeclineKind.HARD, failure_code="lost_card"),
        an_attempt(id="att_feb", invoice_id="inv_02", method=MethodType.DIRECT_DEBIT,
                   status=AttemptStatus.PENDING, provider_ref="PM_feb"),
    ])
    change_payment_method(doubles.deps, account_id="acc_1", method=NEW_CARD)

    # When the open balances are retried
    created = retry_open_balances(doubles.deps, account_id="acc_1",
                                  reason="payment method updated")

    # Then only January is charged; February's money may already be moving
    assert doubles.card.order == ["inv_01"]
    assert [attempt(uow_factory, a).invoice_id for a in created] == ["inv_01"]
    assert [a.status for a in attempts_of(uow_factory, "inv_02")] == [AttemptStatus.PENDING]
    assert invoice(uow_factory, "inv_02").status is InvoiceStatus.OPEN
    assert assert_ledger_balances(uow_factory, "acc_1") == eur(11179)


def test_retrying_open_balances_twice_charges_each_invoice_once(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given two open invoices after a new card was saved
    _store(uow_factory, [_month(2), _month(1)], [])
    change_payment_method(doubles.deps, account_id="acc_1", method=NEW_CARD)

    # When the retry message is delivered twice (a redelivery)
    worker = Worker(doubles)
    messages = doubles.dispatch.take()
    worker.deliver(messages)
    worker.deliver(messages)

    # Then each invoice was charged once
    assert doubles.card.order == ["inv_01", "inv_02"]
    assert assert_ledger_balances(uow_factory, "acc_1") == eur(0)


def test_changing_the_method_of_an_unknown_account_is_refused(doubles: Doubles) -> None:
    # Given no account
    # When a method is saved for an unknown account
    # Then it is refused and nothing is sent
    with pytest.raises(UnknownAccount):
        change_payment_method(doubles.deps, account_id="acc_nope", method=NEW_CARD)
    assert doubles.dispatch.messages == []
