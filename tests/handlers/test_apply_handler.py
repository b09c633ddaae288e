"""Applying a payment event (workers/handlers/apply.py): what arrives late, twice or after we
gave up still lands once in the ledger, on the invoice and in the outbox.

The first tests run on SQLite and PostgreSQL; the last on the in-memory FakeUnitOfWork.
"""

from __future__ import annotations

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock, at_utc
from domain.invoices import InvoiceStatus
from domain.ledger import EntryKind
from domain.outcomes import Charged, Declined, DeclineKind, Reversal, ReversalKind
from domain.payments import AttemptStatus
from tests.builders import eur
from tests.fakes import FakeUnitOfWorkFactory
from tests.handlers.doubles import Doubles, make_doubles
from tests.handlers.world import (
    MONTHLY,
    assert_ledger_balances,
    attempt,
    attempts_of,
    card_account,
    invoice,
    ledger_of,
    outbox_kinds,
    renew,
    subscribe,
)
from workers.handlers.apply import record_event
from workers.handlers.collection import collect_attempt, route_invoice
from workers.handlers.sweeper import SweepSettings, sweep


def _collected(doubles: Doubles) -> tuple[str, str, AttemptStatus | None]:
    """March's card invoice, routed and collected: (invoice id, attempt id, status)."""
    uow_factory, clock = doubles.deps.uow_factory, doubles.deps.clock
    subscribe(uow_factory, account=card_account(), started_on=clock.today())
    [invoice_id] = renew(uow_factory, clock)
    attempt_id = route_invoice(doubles.deps, invoice_id=invoice_id)
    assert attempt_id is not None
    return invoice_id, attempt_id, collect_attempt(doubles.deps, attempt_id=attempt_id)


def test_a_chargeback_reopens_the_amount_once_and_the_next_invoice_brings_it_forward(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given March's invoice paid by card
    march_id, attempt_id, status = _collected(doubles)
    assert status is AttemptStatus.SUCCEEDED

    # When the customer disputes it, and the dispute webhook arrives twice
    dispute = Reversal(ReversalKind.CHARGEBACK, MONTHLY, "dp_1", "fraudulent")
    clock.advance(days=10)
    record_event(doubles.deps, attempt_id=attempt_id, event=dispute)
    record_event(doubles.deps, attempt_id=attempt_id, event=dispute)

    # Then 95.00 is owed again on March, debited once, and the customer told once
    march = invoice(uow_factory, march_id)
    assert (march.status, march.amount_due) == (InvoiceStatus.OPEN, MONTHLY)
    assert attempt(uow_factory, attempt_id).status is AttemptStatus.REVERSED
    assert [e.kind for e in ledger_of(uow_factory, "acc_card")].count(EntryKind.CHARGEBACK) == 1
    assert outbox_kinds(uow_factory, "acc_card").count("payment_reversed") == 1
    assert assert_ledger_balances(uow_factory, "acc_card") == MONTHLY

    # When April is issued
    clock.set(at_utc(2026, 4, 1, 9))
    [april_id] = renew(uow_factory, clock)

    # Then April asks for the disputed 95.00 as well: 190.00
    assert invoice(uow_factory, april_id).previous == MONTHLY
    assert invoice(uow_factory, march_id).status is InvoiceStatus.CARRIED_FORWARD
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(19000)


def test_money_reported_after_a_decline_settles_the_invoice_and_stops_the_retry(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a card declined softly, its retry waiting for tomorrow
    doubles.card.script(Declined(DeclineKind.SOFT, "processing_error"))
    invoice_id, attempt_id, status = _collected(doubles)
    assert status is AttemptStatus.FAILED
    retry = attempts_of(uow_factory, invoice_id)[-1]
    assert retry.status is AttemptStatus.SCHEDULED

    # When the provider reports later that the payment went through after all (twice)
    clock.advance(hours=2)
    late = Charged(provider_ref="pi_late", amount=MONTHLY)
    record_event(doubles.deps, attempt_id=attempt_id, event=late)
    record_event(doubles.deps, attempt_id=attempt_id, event=late)

    # Then the money is recorded once, the invoice paid, and the retry cancelled
    assert attempt(uow_factory, attempt_id).status is AttemptStatus.SUCCEEDED
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert attempt(uow_factory, retry.id).status is AttemptStatus.CANCELED
    assert collect_attempt(doubles.deps, attempt_id=retry.id) is None
    assert len(doubles.card.charges) == 1
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(0)


def test_a_card_needing_authentication_asks_the_customer_and_is_not_retried(
        clock: ManualClock) -> None:
    # Given (in memory) a routed invoice on a card that needs 3-D Secure
    fakes = FakeUnitOfWorkFactory()
    doubles = make_doubles(uow_factory=fakes, clock=clock)
    doubles.card.script(Declined(DeclineKind.CUSTOMER_ACTION, "authentication_required"))

    # When it is collected
    invoice_id, attempt_id, status = _collected(doubles)

    # Then the attempt waits for the customer, who is asked to act; nothing is retried blindly
    assert status is AttemptStatus.REQUIRES_ACTION
    assert [a.status for a in attempts_of(fakes, invoice_id)] == [
        AttemptStatus.REQUIRES_ACTION]
    assert outbox_kinds(fakes, "acc_card") == ["action_required"]
    assert attempt(fakes, attempt_id).failure_code == "authentication_required"
    # and a week of sweeps later, still nothing is sent to the card
    doubles.dispatch.take()
    for _ in range(7):
        clock.advance(days=1)
        sweep(doubles.deps, settings=SweepSettings())
    assert doubles.dispatch.work() == []
    assert len(doubles.card.charges) == 1
    assert assert_ledger_balances(fakes, "acc_card") == MONTHLY
