"""Collection in batches, on SQLite and PostgreSQL (and the in-memory fakes where stated),
against scripted gateways.

The rules under test (workers/handlers/collect_batch.py, collection.route_invoices): a batch
is routed with one message per method; its attempts are claimed once, each charged once with
its own idempotency key, and every outcome recorded; a redelivered or partly done batch skips
what is claimed or settled already; a single attempt is a batch of one; two batches sharing
attempts claim each attempt once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock
from domain.errors import UnknownAttempt, UnknownInvoice
from domain.invoices import InvoiceStatus
from domain.outcomes import Charged, Declined, DeclineKind, Outcome, Unknown
from domain.payments import AttemptStatus
from domain.ports import UnitOfWorkFactory
from tests.builders import eur
from tests.fakes import FakeUnitOfWorkFactory
from tests.handlers.doubles import Call, Doubles, ScriptedCardGateway, charged, make_doubles
from tests.handlers.world import (
    assert_ledger_balances,
    attempt,
    card_account,
    debit_account,
    invoice,
    renew,
    subscribe,
    wire_account,
)
from workers.handlers.collect_batch import BatchSettings, collect_attempts
from workers.handlers.collection import route_invoice, route_invoices
from workers.handlers.operators import requeue_failed

CARDS = [f"acc_card_{n}" for n in range(6)]


def _doubles(uow_factory: UnitOfWorkFactory, clock: ManualClock,
             answer: Callable[[Call], Outcome] = charged) -> Doubles:
    # The same answer for every call, whatever order the batch's threads call in.
    card = ScriptedCardGateway(*[answer] * 100)
    return make_doubles(uow_factory=uow_factory, clock=clock, card=card)


def _card_invoices(doubles: Doubles, accounts: list[str] = CARDS) -> list[str]:
    """One invoice per card account, issued today (sorted by account)."""
    uow_factory, clock = doubles.deps.uow_factory, doubles.deps.clock
    for account_id in accounts:
        subscribe(uow_factory, account=card_account(account_id), started_on=clock.today())
    issued = renew(uow_factory, clock)
    return sorted(issued, key=lambda invoice_id: invoice(uow_factory, invoice_id).account_id)


def _route(doubles: Doubles, invoice_ids: list[str]) -> list[str]:
    """Route the invoices as one batch: the attempt ids, in the invoices' order."""
    routed = route_invoices(doubles.deps, invoice_ids=invoice_ids)
    return [routed[invoice_id] for invoice_id in invoice_ids]


def _statuses(uow_factory: UnitOfWorkFactory, attempt_ids: list[str]) -> list[AttemptStatus]:
    return [attempt(uow_factory, attempt_id).status for attempt_id in attempt_ids]


def _charged_attempts(doubles: Doubles) -> list[str]:
    return sorted(str(call.attempt_id) for call in doubles.card.charges)


def test_a_batch_is_routed_with_one_collect_message_per_method(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given invoices for two card accounts, a debit account and a wire account
    doubles = _doubles(uow_factory, clock)
    for account in (card_account("acc_card_a"), card_account("acc_card_b"),
                    debit_account(), wire_account()):
        subscribe(uow_factory, account=account, started_on=clock.today())
    invoice_ids = renew(uow_factory, clock)

    # When they are routed as one batch, with an unknown invoice among them
    routed = route_invoices(doubles.deps, invoice_ids=[*invoice_ids, "inv_unknown"])

    # Then each invoice has one SCHEDULED attempt, and one message per method carries them
    assert sorted(routed) == sorted(invoice_ids)
    assert _statuses(uow_factory, list(routed.values())) == [AttemptStatus.SCHEDULED] * 4
    by_method = {method: set(ids) for kind, method, ids in doubles.dispatch.batches
                 if kind == "collect"}
    methods = {attempt(uow_factory, a).method.value: a for a in routed.values()}
    assert by_method == {"card": {a for a in routed.values()
                                  if attempt(uow_factory, a).method.value == "card"},
                         "direct_debit": {methods["direct_debit"]}, "wire": {methods["wire"]}}
    assert len(by_method["card"]) == 2


def test_routing_a_batch_again_inserts_nothing_and_resends_the_scheduled_attempts(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a routed batch
    doubles = _doubles(uow_factory, clock)
    invoice_ids = _card_invoices(doubles, CARDS[:3])
    first = _route(doubles, invoice_ids)

    # When the same route message is delivered again
    again = _route(doubles, invoice_ids)

    # Then the same attempts are sent again, no new one was written
    assert again == first
    assert [len(ids) for kind, _, ids in doubles.dispatch.batches if kind == "collect"] == [3, 3]
    with uow_factory() as uow:
        assert sum(len(uow.attempts.list_for_invoice(invoice_id=i)) for i in invoice_ids) == 3


def test_routing_only_unknown_invoices_fails_the_message(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    doubles = _doubles(uow_factory, clock)
    with pytest.raises(UnknownInvoice):
        route_invoices(doubles.deps, invoice_ids=["inv_unknown"])


def _a_batch_with_a_mix_of_outcomes(uow_factory: UnitOfWorkFactory,
                                    clock: ManualClock) -> None:
    # Given six routed card invoices whose provider answers differently per account
    answers: dict[str, Outcome] = {
        CARDS[1]: Declined(DeclineKind.SOFT, "insufficient_funds"),
        CARDS[2]: Declined(DeclineKind.HARD, "stolen_card"),
        CARDS[3]: Unknown("connection dropped"),
        CARDS[4]: Charged(provider_ref="pi_short", amount=eur(100)),  # less than due
    }

    def by_account(call: Call) -> Outcome:
        account_id = invoice(uow_factory, str(call.invoice_id)).account_id
        return answers[account_id] if account_id in answers else charged(call)

    doubles = _doubles(uow_factory, clock, by_account)
    invoice_ids = _card_invoices(doubles)
    attempt_ids = _route(doubles, invoice_ids)
    doubles.dispatch.take()

    # When the batch is collected
    statuses = collect_attempts(doubles.deps, attempt_ids=attempt_ids,
                                settings=BatchSettings(concurrency=4))

    # Then every attempt was charged once, with its own id as idempotency key, and each
    # outcome recorded as its answer says
    assert _charged_attempts(doubles) == sorted(attempt_ids)
    expected = [AttemptStatus.SUCCEEDED, AttemptStatus.FAILED, AttemptStatus.FAILED,
                AttemptStatus.UNKNOWN, AttemptStatus.SUCCEEDED, AttemptStatus.SUCCEEDED]
    assert [statuses[a] for a in attempt_ids] == expected
    assert _statuses(uow_factory, attempt_ids) == expected
    paid = [invoice(uow_factory, i).status for i in invoice_ids]
    assert paid == [InvoiceStatus.PAID, InvoiceStatus.OPEN, InvoiceStatus.OPEN,
                    InvoiceStatus.OPEN, InvoiceStatus.OPEN, InvoiceStatus.PAID]
    # the soft decline has its retry scheduled, the unknown is looked up (never re-charged)
    with uow_factory() as uow:
        soft = uow.attempts.list_for_invoice(invoice_id=invoice_ids[1])
    assert [a.status for a in soft] == [AttemptStatus.FAILED, AttemptStatus.SCHEDULED]
    assert [m.target for m in doubles.dispatch.of("reconcile")] == [attempt_ids[3]]
    # and the ledger still equals what each account owes
    for account_id in CARDS:
        assert_ledger_balances(uow_factory, account_id)


def test_a_batch_with_a_mix_of_outcomes_records_each_one(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    _a_batch_with_a_mix_of_outcomes(uow_factory, clock)

    # and the log has a line of its own for each outcome an operator may act on (two
    # declines, one unknown), one line counting the batch's, none per routine settlement
    info = [r for r in caplog.records if r.levelno >= logging.INFO
            and r.name in ("paycollect.payments", "paycollect.collection")]
    events = [r.__dict__["status"] for r in info if r.msg.startswith("payment event")]
    assert sorted(events) == [AttemptStatus.FAILED, AttemptStatus.FAILED,
                              AttemptStatus.UNKNOWN]
    assert [r.getMessage() for r in info if r.msg.startswith("recorded")] == [
        "recorded 6 outcomes: failed 2, succeeded 3, unknown 1"]


def test_a_batch_with_a_mix_of_outcomes_records_each_one_on_the_fakes(
        clock: ManualClock) -> None:
    _a_batch_with_a_mix_of_outcomes(FakeUnitOfWorkFactory(), clock)


def _a_redelivered_batch(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a batch collected once
    doubles = _doubles(uow_factory, clock)
    attempt_ids = _route(doubles, _card_invoices(doubles))
    first = collect_attempts(doubles.deps, attempt_ids=attempt_ids)

    # When its message is delivered again
    again = collect_attempts(doubles.deps, attempt_ids=attempt_ids)

    # Then nothing was done twice: six charges, six settlements
    assert set(first.values()) == {AttemptStatus.SUCCEEDED}
    assert again == {}
    assert _charged_attempts(doubles) == sorted(attempt_ids)
    for account_id in CARDS:
        assert assert_ledger_balances(uow_factory, account_id) == eur(0)


def test_a_redelivered_batch_does_nothing_twice(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    _a_redelivered_batch(uow_factory, clock)


def test_a_redelivered_batch_does_nothing_twice_on_the_fakes(clock: ManualClock) -> None:
    _a_redelivered_batch(FakeUnitOfWorkFactory(), clock)


def _a_partly_done_batch(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a batch of which one attempt is settled already (collected alone) and one is
    # claimed by another worker, still talking to the provider
    doubles = _doubles(uow_factory, clock)
    attempt_ids = _route(doubles, _card_invoices(doubles))
    settled, claimed = attempt_ids[0], attempt_ids[1]
    assert collect_attempts(doubles.deps, attempt_ids=[settled]) == {
        settled: AttemptStatus.SUCCEEDED}
    with uow_factory() as uow:
        assert uow.attempts.claim_many(amounts={claimed: attempt(uow_factory, claimed).amount},
                                       now=clock.now()) == {claimed}
        uow.commit()

    # When the whole batch is collected (a redelivery after a crash half way)
    statuses = collect_attempts(doubles.deps, attempt_ids=attempt_ids)

    # Then only the four others were charged by it
    assert sorted(statuses) == sorted(attempt_ids[2:])
    assert _charged_attempts(doubles) == sorted([settled, *attempt_ids[2:]])
    assert attempt(uow_factory, claimed).status is AttemptStatus.PROCESSING


def test_a_partly_done_batch_skips_what_is_claimed_or_settled(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    _a_partly_done_batch(uow_factory, clock)


def test_a_partly_done_batch_skips_what_is_claimed_or_settled_on_the_fakes(
        clock: ManualClock) -> None:
    _a_partly_done_batch(FakeUnitOfWorkFactory(), clock)


def test_an_invoice_paid_since_routing_is_cancelled_and_the_rest_of_its_batch_charged(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a routed batch, one of whose invoices was voided before the batch ran
    doubles = _doubles(uow_factory, clock)
    invoice_ids = _card_invoices(doubles, CARDS[:3])
    attempt_ids = _route(doubles, invoice_ids)
    with uow_factory() as uow:
        uow.invoices.update_status(invoice_id=invoice_ids[0], status=InvoiceStatus.VOID)
        uow.commit()

    # When the batch is collected
    statuses = collect_attempts(doubles.deps, attempt_ids=attempt_ids)

    # Then the voided invoice's attempt is cancelled uncharged, the others are paid
    assert _statuses(uow_factory, attempt_ids) == [
        AttemptStatus.CANCELED, AttemptStatus.SUCCEEDED, AttemptStatus.SUCCEEDED]
    assert sorted(statuses) == sorted(attempt_ids[1:])
    assert _charged_attempts(doubles) == sorted(attempt_ids[1:])


def test_a_provider_call_that_raises_is_recorded_unknown_and_the_others_settle(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a batch whose provider raises on one account's charge
    doubles = _doubles(uow_factory, clock)
    invoice_ids = _card_invoices(doubles, CARDS[:3])
    attempt_ids = _route(doubles, invoice_ids)

    def explode(call: Call) -> None:
        if call.invoice_id == invoice_ids[1]:
            raise ConnectionResetError("reset by peer")

    doubles.card.during = explode

    # When the batch is collected
    collect_attempts(doubles.deps, attempt_ids=attempt_ids)

    # Then that one is unknown (looked up, never charged again), the others are paid
    assert _statuses(uow_factory, attempt_ids) == [
        AttemptStatus.SUCCEEDED, AttemptStatus.UNKNOWN, AttemptStatus.SUCCEEDED]
    assert [m.target for m in doubles.dispatch.of("reconcile")] == [attempt_ids[1]]


def test_an_attempt_whose_call_would_start_past_the_batch_deadline_is_not_called(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a batch with no time left to start a call (the sweeper may already take it as
    # stuck and look it up)
    doubles = _doubles(uow_factory, clock)
    attempt_ids = _route(doubles, _card_invoices(doubles, CARDS[:2]))

    # When it is collected
    collect_attempts(doubles.deps, attempt_ids=attempt_ids,
                     settings=BatchSettings(start_within=timedelta(seconds=-1)))

    # Then nothing was charged, and both are looked up at the provider
    assert doubles.card.charges == []
    assert _statuses(uow_factory, attempt_ids) == [AttemptStatus.UNKNOWN] * 2


def test_an_operator_requeue_is_collected_as_a_batch_of_one(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a card invoice whose first attempt was declined
    doubles = make_doubles(uow_factory=uow_factory, clock=clock, card=ScriptedCardGateway(
        Declined(DeclineKind.SOFT, "insufficient_funds")))
    [invoice_id] = _card_invoices(doubles, CARDS[:1])
    attempt_id = route_invoice(doubles.deps, invoice_id=invoice_id)
    assert attempt_id is not None
    collect_attempts(doubles.deps, attempt_ids=[attempt_id])
    doubles.dispatch.take()

    # When an operator requeues it, and its single collect message is handled
    requeued = requeue_failed(doubles.deps, attempt_id=attempt_id, actor="ops@test",
                              reason="customer topped up", force=True)
    [message] = doubles.dispatch.of("collect")
    statuses = collect_attempts(doubles.deps, attempt_ids=[message.target])

    # Then the new attempt is charged once and the invoice paid
    assert message.args == (requeued.new_attempt_id, "card")
    assert statuses == {requeued.new_attempt_id: AttemptStatus.SUCCEEDED}
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID


def test_a_batch_of_unknown_attempts_only_fails_the_message(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    doubles = _doubles(uow_factory, clock)
    with pytest.raises(UnknownAttempt):
        collect_attempts(doubles.deps, attempt_ids=["att_unknown"])


def test_two_concurrent_batches_sharing_attempts_claim_each_attempt_once(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given twelve routed card invoices, and two batches sharing six of their attempts,
    # handled at the same moment by two workers
    accounts = [f"acc_card_{n:02}" for n in range(12)]
    doubles = _doubles(uow_factory, clock)
    attempt_ids = _route(doubles, _card_invoices(doubles, accounts))
    first, second = attempt_ids[:9], attempt_ids[3:]
    start = threading.Barrier(2)
    results: list[dict[str, AttemptStatus | None]] = []

    def worker(batch: list[str]) -> None:
        start.wait()
        results.append(collect_attempts(doubles.deps, attempt_ids=batch))

    threads = [threading.Thread(target=worker, args=(batch,)) for batch in (first, second[::-1])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every attempt was claimed and charged by exactly one of them
    assert len(results) == 2
    assert sorted([*results[0], *results[1]]) == sorted(attempt_ids)
    assert _charged_attempts(doubles) == sorted(attempt_ids)
    assert set(_statuses(uow_factory, attempt_ids)) == {AttemptStatus.SUCCEEDED}
