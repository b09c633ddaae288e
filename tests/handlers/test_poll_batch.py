"""Pending direct debits polled in batches (workers/handlers/poll_batch.py), on SQLite and
PostgreSQL: the sweeper sends them as one message, each is asked once, the answers are
recorded together, what changed nothing is polled again later, what is no longer pending is
left alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.accounts import MethodType
from domain.clock import ManualClock
from domain.invoices import InvoiceStatus
from domain.outcomes import Charged, Declined, DeclineKind, Outcome, Pending
from domain.payments import AttemptStatus
from tests.handlers.doubles import Call, ScriptedDirectDebitGateway, make_doubles
from tests.handlers.world import (
    MONTHLY,
    assert_ledger_balances,
    attempt,
    debit_account,
    invoice,
    renew,
    subscribe,
)
from workers.handlers.apply import record_event
from workers.handlers.collection import collect_attempt, route_invoice
from workers.handlers.poll_batch import reconcile_attempts
from workers.handlers.sweeper import SweepSettings, sweep


def test_pending_debits_are_polled_in_one_batch_and_their_answers_recorded_together(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given four accounts' debits submitted and pending at the bank
    debits = ScriptedDirectDebitGateway()
    doubles = make_doubles(uow_factory=uow_factory, clock=clock, direct_debit=debits)
    names = ("paid", "later", "bounced", "settled")
    for name in names:
        subscribe(uow_factory, account=debit_account(f"acc_{name}"), started_on=clock.today())
    issued = renew(uow_factory, clock)
    attempts, invoices = {}, {}
    for invoice_id in issued:
        attempt_id = route_invoice(doubles.deps, invoice_id=invoice_id)
        assert attempt_id is not None
        assert collect_attempt(doubles.deps, attempt_id=attempt_id) is AttemptStatus.PENDING
        name = invoice(uow_factory, invoice_id).account_id.removeprefix("acc_")
        attempts[name], invoices[name] = attempt_id, invoice_id
    # And "settled" confirmed by its webhook meanwhile (no longer pending)
    refs = {name: attempt(uow_factory, attempt_id).provider_ref
            for name, attempt_id in attempts.items()}
    record_event(doubles.deps, attempt_id=attempts["settled"],
                 event=Charged(provider_ref=str(refs["settled"]), amount=MONTHLY))

    # When the sweeper finds them pending past the poll interval and the bank answers
    answers: dict[str | None, Outcome] = {
        refs["paid"]: Charged(provider_ref=str(refs["paid"]), amount=MONTHLY),
        refs["later"]: Pending(provider_ref=str(refs["later"]), amount=MONTHLY),
        refs["bounced"]: Declined(DeclineKind.SOFT, "insufficient_funds")}

    def by_ref(call: Call) -> Outcome:
        return answers[call.provider_ref]

    debits.script_statuses(*[by_ref] * 3)
    clock.advance(hours=2)
    doubles.dispatch.take()
    sweep(doubles.deps, settings=SweepSettings())
    [(_, _, batch)] = [b for b in doubles.dispatch.batches if b[0] == "reconcile"]
    assert sorted(batch) == sorted(attempts[n] for n in ("paid", "later", "bounced"))
    paced: list[MethodType] = []

    @contextmanager
    def pace(method: MethodType) -> Iterator[None]:
        paced.append(method)  # the provider's shared rate limiter, before each poll
        yield

    statuses = reconcile_attempts(doubles.deps, pace=lambda calls: pace,
                                  attempt_ids=[*batch, attempts["settled"], "att_nope"])

    # Then each pending one was asked once, within the rate limit, the settled one not at all
    assert paced == [MethodType.DIRECT_DEBIT] * 3
    assert sorted(c.provider_ref for c in debits.polls) == sorted(
        str(refs[n]) for n in ("paid", "later", "bounced"))
    assert statuses[attempts["paid"]] is AttemptStatus.SUCCEEDED
    assert statuses[attempts["bounced"]] is AttemptStatus.FAILED
    assert statuses[attempts["later"]] is None
    assert statuses[attempts["settled"]] is None
    # And the money moved as answered, the ledger balancing for each account
    assert invoice(uow_factory, invoices["paid"]).status is InvoiceStatus.PAID
    assert invoice(uow_factory, invoices["bounced"]).status is InvoiceStatus.OPEN
    for name in names:
        assert_ledger_balances(uow_factory, f"acc_{name}")
    # And the one still pending was marked answered: polled again one interval from now
    assert attempt(uow_factory, attempts["later"]).updated_at == clock.now()
    clock.advance(minutes=10)
    doubles.dispatch.take()
    sweep(doubles.deps, settings=SweepSettings())
    assert attempts["later"] not in [m.target for m in doubles.dispatch.of("reconcile")]
    clock.advance(hours=2)
    sweep(doubles.deps, settings=SweepSettings())
    assert attempts["later"] in [m.target for m in doubles.dispatch.of("reconcile")]


def test_a_batch_whose_provider_is_down_records_nothing_and_is_asked_again(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given two pending debits, and a bank whose status calls fail
    debits = ScriptedDirectDebitGateway()
    doubles = make_doubles(uow_factory=uow_factory, clock=clock, direct_debit=debits)
    for name in ("one", "two"):
        subscribe(uow_factory, account=debit_account(f"acc_{name}"), started_on=clock.today())
    pending = []
    for invoice_id in renew(uow_factory, clock):
        attempt_id = route_invoice(doubles.deps, invoice_id=invoice_id)
        assert attempt_id is not None
        collect_attempt(doubles.deps, attempt_id=attempt_id)
        pending.append(attempt_id)

    def down(call: Call) -> Outcome:
        raise ConnectionError("bank API unreachable")

    debits.script_statuses(down, down)
    # When the batch is polled
    statuses = reconcile_attempts(doubles.deps, attempt_ids=pending)
    # Then nothing was recorded and both are still pending, unanswered (asked again when the
    # sweeper's wait for an answer ends)
    assert statuses == {}
    for attempt_id in pending:
        found = attempt(uow_factory, attempt_id)
        assert found.status is AttemptStatus.PENDING
        assert found.method is MethodType.DIRECT_DEBIT
    assert len(debits.polls) == 2
