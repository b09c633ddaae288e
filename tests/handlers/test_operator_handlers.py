"""Operator actions on SQLite and PostgreSQL: re-queueing failed payments, recording wires.

Monthly invoices charge 95.00 (tests/handlers/world.py).
"""

from __future__ import annotations

from datetime import date

import pytest

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock, at_utc
from domain.errors import UnknownAttempt
from domain.invoices import InvoiceStatus
from domain.money import Money
from domain.outcomes import Declined, DeclineKind
from domain.payments import AttemptStatus
from tests.builders import eur
from tests.handlers.doubles import Doubles, Worker
from tests.handlers.world import (
    MONTHLY,
    account,
    assert_ledger_balances,
    attempt,
    attempts_of,
    card_account,
    invoice,
    renew,
    subscribe,
    wire_account,
)
from workers.handlers.collection import collect_attempt, route_invoice
from workers.handlers.operators import (
    AlreadyRecorded,
    RequeueRefused,
    UnknownReference,
    receive_wire,
    requeue_failed,
)

APRIL_1 = at_utc(2026, 4, 1, 9)


def _declined_card_invoice(doubles: Doubles, code: str, kind: DeclineKind) -> tuple[str, str]:
    """A card invoice whose first attempt was declined: (invoice id, failed attempt id)."""
    uow_factory, clock = doubles.deps.uow_factory, doubles.deps.clock
    doubles.card.script(Declined(kind, code))
    subscribe(uow_factory, account=card_account(), started_on=clock.today())
    [invoice_id] = renew(uow_factory, clock)
    attempt_id = route_invoice(doubles.deps, invoice_id=invoice_id)
    assert attempt_id is not None
    assert collect_attempt(doubles.deps, attempt_id=attempt_id) is AttemptStatus.FAILED
    doubles.dispatch.take()
    return invoice_id, attempt_id


def _audit(uow_factory: SqlUnitOfWorkFactory, target: str) -> list[str]:
    with uow_factory() as uow:
        return [entry.action for entry in uow.audit.list(target=target)]


# --- Re-queueing failed payments ----------------------------------------------------------------


def test_requeueing_a_hard_decline_is_refused_without_force_and_says_why(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given an invoice whose card was declined as stolen
    invoice_id, failed_id = _declined_card_invoice(doubles, "stolen_card", DeclineKind.HARD)

    # When an operator re-queues it without --force
    with pytest.raises(RequeueRefused) as refused:
        requeue_failed(doubles.deps, attempt_id=failed_id, actor="ops@example",
                       reason="customer says try again")

    # Then it is refused, naming the decline and the way out, and nothing changes
    message = str(refused.value)
    assert "hard decline" in message
    assert "stolen_card" in message
    assert "--force" in message
    assert "payment method" in message
    assert [a.id for a in attempts_of(uow_factory, invoice_id)] == [failed_id]
    assert doubles.dispatch.messages == []
    assert doubles.card.charges
    assert len(doubles.card.charges) == 1


def test_a_forced_requeue_of_a_hard_decline_tries_the_method_again_once(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given a hard-declined invoice (card flagged unusable)
    invoice_id, failed_id = _declined_card_invoice(doubles, "stolen_card", DeclineKind.HARD)
    assert not account(uow_factory, "acc_card").payment_method.usable

    # When an operator forces a requeue (the bank says the card was found) and it is delivered
    requeued = requeue_failed(doubles.deps, attempt_id=failed_id, actor="ops@example",
                              reason="bank confirmed card found", force=True)
    Worker(doubles).run_until_idle()

    # Then the card is usable again, charged once more, the invoice paid, the action audited
    assert account(uow_factory, "acc_card").payment_method.usable
    assert [c.attempt_id for c in doubles.card.charges] == [failed_id, requeued.new_attempt_id]
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert _audit(uow_factory, failed_id) == ["payment.requeue"]
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(0)


def test_requeueing_a_soft_decline_collects_now_instead_of_the_waiting_retry(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a soft-declined invoice with its retry waiting for tomorrow
    invoice_id, failed_id = _declined_card_invoice(doubles, "insufficient_funds",
                                                   DeclineKind.SOFT)
    waiting = attempts_of(uow_factory, invoice_id)[-1]
    assert waiting.status is AttemptStatus.SCHEDULED

    # When an operator re-queues the failure and its message is delivered
    requeued = requeue_failed(doubles.deps, attempt_id=failed_id, actor="ops@example",
                              reason="customer topped up")
    assert [(m.kind, m.args) for m in doubles.dispatch.work()] == [
        ("collect", (requeued.new_attempt_id, "card"))]
    Worker(doubles).run_until_idle()

    # Then the waiting retry is cancelled, the new attempt charged once, the invoice paid
    assert attempt(uow_factory, waiting.id).status is AttemptStatus.CANCELED
    assert attempt(uow_factory, requeued.new_attempt_id).status is AttemptStatus.SUCCEEDED
    assert [c.attempt_id for c in doubles.card.charges] == [failed_id, requeued.new_attempt_id]
    # and the cancelled retry's message, sent later by the sweeper, charges nothing
    clock.advance(days=1)
    assert collect_attempt(doubles.deps, attempt_id=waiting.id) is None
    assert len(doubles.card.charges) == 2
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(0)


def test_a_requeue_needs_a_reason_and_a_failed_attempt(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given a soft-declined invoice and its waiting retry
    invoice_id, failed_id = _declined_card_invoice(doubles, "insufficient_funds",
                                                   DeclineKind.SOFT)
    waiting = attempts_of(uow_factory, invoice_id)[-1]

    # When operators re-queue without a reason, a retry that has not failed, an unknown id
    # Then each is refused and nothing is charged
    with pytest.raises(RequeueRefused, match="reason"):
        requeue_failed(doubles.deps, attempt_id=failed_id, actor="ops", reason="  ")
    with pytest.raises(RequeueRefused, match="not failed"):
        requeue_failed(doubles.deps, attempt_id=waiting.id, actor="ops", reason="why not")
    with pytest.raises(UnknownAttempt):
        requeue_failed(doubles.deps, attempt_id="att_nope", actor="ops", reason="typo")
    assert len(doubles.card.charges) == 1


# --- Received wires -----------------------------------------------------------------------------


def _awaiting_wire(doubles: Doubles) -> tuple[str, str]:
    """March's invoice of a wire account, instructions published: (invoice id, reference)."""
    uow_factory, clock = doubles.deps.uow_factory, doubles.deps.clock
    subscribe(uow_factory, account=wire_account(), started_on=clock.today())
    [invoice_id] = renew(uow_factory, clock)
    attempt_id = route_invoice(doubles.deps, invoice_id=invoice_id)
    assert attempt_id is not None
    assert collect_attempt(doubles.deps, attempt_id=attempt_id) is \
        AttemptStatus.AWAITING_TRANSFER
    reference = invoice(uow_factory, invoice_id).payment_reference
    assert reference is not None
    assert reference.startswith("RF")
    return invoice_id, reference


def _spaced(reference: str) -> str:
    """How a bank statement prints it: lower case, groups of four."""
    return " ".join(reference[i:i + 4] for i in range(0, len(reference), 4)).lower()


def test_an_exact_wire_pays_the_invoice(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given a wire invoice awaiting its transfer
    invoice_id, reference = _awaiting_wire(doubles)

    # When the transfer of exactly 95.00 is recorded, its reference as the statement prints it
    paid = receive_wire(doubles.deps, reference=_spaced(reference), amount=MONTHLY,
                        received_on=date(2026, 3, 20), actor="treasury")

    # Then the invoice is paid by the attempt that awaited it, and nothing is owed
    assert paid == invoice_id
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert [a.status for a in attempts_of(uow_factory, invoice_id)] == [
        AttemptStatus.SUCCEEDED]
    assert _audit(uow_factory, invoice_id) == ["wire.received"]
    assert assert_ledger_balances(uow_factory, "acc_wire") == eur(0)


def test_a_partial_wire_leaves_the_rest_owed_and_carried_to_the_next_invoice(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a wire invoice of 95.00 awaiting its transfer
    march_id, reference = _awaiting_wire(doubles)

    # When 40.00 arrives
    receive_wire(doubles.deps, reference=reference, amount=eur(4000),
                 received_on=date(2026, 3, 20), actor="treasury")

    # Then 55.00 is still owed on March
    march = invoice(uow_factory, march_id)
    assert (march.status, march.amount_due) == (InvoiceStatus.OPEN, eur(5500))
    assert assert_ledger_balances(uow_factory, "acc_wire") == eur(5500)

    # When April is issued
    clock.set(APRIL_1)
    [april_id] = renew(uow_factory, clock)

    # Then April asks for 95.00 + 55.00 previous = 150.00, and March is carried forward
    april, march = invoice(uow_factory, april_id), invoice(uow_factory, march_id)
    assert (april.previous, april.amount_due) == (eur(5500), eur(15000))
    assert (march.status, march.carried_to) == (InvoiceStatus.CARRIED_FORWARD, april_id)
    assert assert_ledger_balances(uow_factory, "acc_wire") == eur(15000)


def test_an_overpaid_wire_is_carried_as_a_credit_onto_the_next_invoice(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a wire invoice of 95.00 awaiting its transfer
    march_id, reference = _awaiting_wire(doubles)

    # When 100.00 arrives
    receive_wire(doubles.deps, reference=reference, amount=eur(10000),
                 received_on=date(2026, 3, 20), actor="treasury")

    # Then March shows a 5.00 credit (amount due -5.00) and the ledger is 5.00 in credit
    assert invoice(uow_factory, march_id).amount_due == eur(-500)
    assert assert_ledger_balances(uow_factory, "acc_wire") == eur(-500)

    # When April is issued
    clock.set(APRIL_1)
    [april_id] = renew(uow_factory, clock)

    # Then April asks for 95.00 - 5.00 = 90.00, and March is closed onto April
    april, march = invoice(uow_factory, april_id), invoice(uow_factory, march_id)
    assert (april.previous, april.amount_due) == (eur(-500), eur(9000))
    assert (march.status, march.carried_to, march.amount_due) == (
        InvoiceStatus.CARRIED_FORWARD, april_id, eur(0))
    assert assert_ledger_balances(uow_factory, "acc_wire") == eur(9000)


def test_a_wire_with_an_unknown_reference_is_refused_and_kept_for_review(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given a wire invoice awaiting its transfer
    invoice_id, _ = _awaiting_wire(doubles)

    # When a transfer names a reference no invoice has
    with pytest.raises(UnknownReference, match="kept for review"):
        receive_wire(doubles.deps, reference="RF00 NOPE", amount=eur(12345),
                     received_on=date(2026, 3, 20), actor="treasury")

    # Then it is stored as unmatched, audited, and no invoice or ledger changed
    with uow_factory() as uow:
        unmatched = uow.unmatched_transfers.list()
    assert [(t.reference, t.amount, t.received_on) for t in unmatched] == [
        ("RF00 NOPE", eur(12345), date(2026, 3, 20))]
    assert _audit(uow_factory, "RF00 NOPE") == ["wire.unmatched"]
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.OPEN
    assert assert_ledger_balances(uow_factory, "acc_wire") == MONTHLY


def test_the_same_bank_transaction_entered_twice_credits_once(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given a wire invoice of 95.00 awaiting its transfer, and 40.00 recorded from statement
    # line TX-1
    invoice_id, reference = _awaiting_wire(doubles)
    receive_wire(doubles.deps, reference=reference, amount=eur(4000),
                 received_on=date(2026, 3, 20), actor="treasury", bank_ref="TX-1")

    # When the same statement line is entered again (an import re-run)
    with pytest.raises(AlreadyRecorded, match=r"TX-1 was recorded .* on invoice") as recorded:
        receive_wire(doubles.deps, reference=reference, amount=eur(4000),
                     received_on=date(2026, 3, 20), actor="treasury", bank_ref="TX-1")

    # Then nothing changed: 55.00 still owed, one credit, one audit entry
    assert recorded.value.earlier.invoice_id == invoice_id
    assert invoice(uow_factory, invoice_id).amount_due == eur(5500)
    assert assert_ledger_balances(uow_factory, "acc_wire") == eur(5500)
    assert _audit(uow_factory, invoice_id) == ["wire.received"]

    # And another statement line for the rest pays the invoice
    receive_wire(doubles.deps, reference=reference, amount=eur(5500),
                 received_on=date(2026, 3, 21), actor="treasury", bank_ref="TX-2")
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert assert_ledger_balances(uow_factory, "acc_wire") == eur(0)


def test_an_unmatched_bank_transaction_entered_twice_is_kept_once(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    _awaiting_wire(doubles)
    with pytest.raises(UnknownReference):
        receive_wire(doubles.deps, reference="RF00 NOPE", amount=eur(12345),
                     received_on=date(2026, 3, 20), actor="treasury", bank_ref="TX-9")
    with pytest.raises(AlreadyRecorded, match="as an unmatched transfer"):
        receive_wire(doubles.deps, reference="RF00 NOPE", amount=eur(12345),
                     received_on=date(2026, 3, 20), actor="treasury", bank_ref="TX-9")
    with uow_factory() as uow:
        assert len(uow.unmatched_transfers.list()) == 1


def test_a_wire_in_another_currency_is_refused(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given a EUR wire invoice awaiting its transfer
    invoice_id, reference = _awaiting_wire(doubles)

    # When a USD transfer carries its reference
    with pytest.raises(ValueError, match="USD"):
        receive_wire(doubles.deps, reference=reference, amount=Money(9500, "USD"),
                     received_on=date(2026, 3, 20), actor="treasury")

    # Then nothing is settled
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.OPEN
    assert assert_ledger_balances(uow_factory, "acc_wire") == MONTHLY


def test_a_wire_paying_a_card_invoice_cancels_its_waiting_retry(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a card invoice soft-declined, its retry waiting for tomorrow
    invoice_id, _ = _declined_card_invoice(doubles, "insufficient_funds", DeclineKind.SOFT)
    waiting = attempts_of(uow_factory, invoice_id)[-1]
    reference = invoice(uow_factory, invoice_id).payment_reference
    assert reference is not None

    # When the customer pays it by bank transfer instead
    receive_wire(doubles.deps, reference=reference, amount=MONTHLY,
                 received_on=date(2026, 3, 1), actor="treasury")

    # Then the invoice is paid, the retry cancelled, and the card never charged again
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert attempt(uow_factory, waiting.id).status is AttemptStatus.CANCELED
    clock.advance(days=1)
    assert collect_attempt(doubles.deps, attempt_id=waiting.id) is None
    assert len(doubles.card.charges) == 1
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(0)
