"""Collecting one attempt, on SQLite and PostgreSQL, against scripted gateways (our ports).

The rules under test (workers/handlers/collection.py): the attempt row exists, claimed
PROCESSING, before the provider is called; a duplicated message never charges twice; the
invoice is re-checked just before charging; every outcome goes through the transition function;
what we do not know is looked up at the provider, never charged again.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import cast

from adapters.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from domain.accounts import MethodType, PaymentMethod
from domain.clock import ManualClock, at_utc
from domain.invoices import InvoiceStatus
from domain.ledger import EntryKind
from domain.outcomes import (
    Charged,
    Declined,
    DeclineKind,
    NotFound,
    TransientFailure,
    Unknown,
)
from domain.payments import NOT_FOUND_CODE, AttemptStatus
from domain.ports import UnitOfWorkFactory
from domain.retry_policy import RetryPolicy
from tests.builders import eur
from tests.handlers.doubles import (
    Call,
    Doubles,
    ScriptedCardGateway,
    ScriptedDirectDebitGateway,
    Worker,
    make_doubles,
)
from tests.handlers.world import (
    MONTHLY,
    account,
    assert_ledger_balances,
    attempt,
    attempts_of,
    card_account,
    debit_account,
    invoice,
    ledger_of,
    outbox_kinds,
    renew,
    subscribe,
    wire_account,
)
from workers.handlers.accounts import change_payment_method
from workers.handlers.collection import collect_attempt, reconcile_attempt, route_invoice
from workers.handlers.sweeper import SweepSettings, sweep

START = at_utc(2026, 3, 1, 9)


def _issue_and_route(doubles: Doubles, *, account_id: str = "acc_card") -> tuple[str, str]:
    """March's invoice for a card account, routed: (invoice id, first attempt id)."""
    uow_factory, clock = doubles.deps.uow_factory, doubles.deps.clock
    subscribe(uow_factory, account=card_account(account_id), started_on=clock.today())
    [invoice_id] = renew(uow_factory, clock)
    attempt_id = route_invoice(doubles.deps, invoice_id=invoice_id)
    assert attempt_id is not None
    return invoice_id, attempt_id


def _doubles(uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, *charges: object,
             policy: RetryPolicy | None = None, **options: object) -> Doubles:
    card = ScriptedCardGateway(*charges, **options)  # type: ignore[arg-type]
    return make_doubles(uow_factory=uow_factory, clock=clock, card=card, policy=policy)


def test_the_attempt_is_in_the_database_processing_before_the_provider_is_called(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a routed invoice, and a provider that reads our database while it is called
    seen: list[tuple[AttemptStatus, object, int]] = []

    def look_at_the_row(call: Call) -> None:
        assert call.attempt_id is not None
        with uow_factory() as uow:
            row = uow.attempts.get(attempt_id=call.attempt_id)
            assert row is not None, "the provider was called before the attempt was written"
            settled = [e for e in uow.ledger.list_for_account(account_id="acc_card")
                       if e.kind is EntryKind.PAYMENT_SETTLED]
        seen.append((row.status, row.amount, len(settled)))

    doubles = _doubles(uow_factory, clock, during=look_at_the_row)
    invoice_id, attempt_id = _issue_and_route(doubles)
    assert doubles.dispatch.of("collect")[0].args == (attempt_id, "card")

    # When the collect message is handled
    status = collect_attempt(doubles.deps, attempt_id=attempt_id)

    # Then during the call the row was PROCESSING for the amount due, nothing settled yet,
    # and the attempt id was the idempotency key sent
    assert seen == [(AttemptStatus.PROCESSING, MONTHLY, 0)]
    assert [c.attempt_id for c in doubles.card.charges] == [attempt_id]
    # and afterwards the invoice is paid through the ledger
    assert status is AttemptStatus.SUCCEEDED
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(0)


def test_a_redelivered_collect_message_calls_the_provider_once(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a routed invoice whose collect message is delivered again while the first
    # delivery is still talking to the provider (a redelivery after a heartbeat timeout)
    redelivered: list[AttemptStatus | None] = []
    doubles = _doubles(uow_factory, clock)
    doubles.card.during = lambda call: redelivered.append(
        collect_attempt(doubles.deps, attempt_id=str(call.attempt_id)))
    _, attempt_id = _issue_and_route(doubles)

    # When it is handled, and once more after it finished
    first = collect_attempt(doubles.deps, attempt_id=attempt_id)
    doubles.card.during = None
    last = collect_attempt(doubles.deps, attempt_id=attempt_id)

    # Then the provider was called once; the duplicates did nothing
    assert (first, redelivered, last) == (AttemptStatus.SUCCEEDED, [None], None)
    assert len(doubles.card.charges) == 1
    assert len([e for e in ledger_of(uow_factory, "acc_card")
                if e.kind is EntryKind.PAYMENT_SETTLED]) == 1
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(0)


def test_an_attempt_whose_invoice_was_carried_forward_meanwhile_is_not_charged(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given March's attempt whose collect message is stuck until after April's renewal
    doubles = _doubles(uow_factory, clock)
    march_id, attempt_id = _issue_and_route(doubles)
    clock.set(at_utc(2026, 4, 1, 9))
    [april_id] = renew(uow_factory, clock)

    # When the message is finally handled
    status = collect_attempt(doubles.deps, attempt_id=attempt_id)

    # Then nothing is charged: March's money is asked for on April's invoice
    assert status is None
    assert doubles.card.charges == []
    assert attempt(uow_factory, attempt_id).status is AttemptStatus.CANCELED
    assert invoice(uow_factory, march_id).carried_to == april_id
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(19000)


def test_an_attempt_whose_invoice_was_paid_meanwhile_is_cancelled_without_a_charge(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a routed invoice that some other path marked paid without touching the attempt
    doubles = _doubles(uow_factory, clock)
    invoice_id, attempt_id = _issue_and_route(doubles)
    with uow_factory() as uow:
        uow.invoices.update_status(invoice_id=invoice_id, status=InvoiceStatus.PAID)
        uow.commit()

    # When its collect message is handled
    status = collect_attempt(doubles.deps, attempt_id=attempt_id)

    # Then the re-check just before charging cancels it, saying why
    assert status is None
    assert doubles.card.charges == []
    cancelled = attempt(uow_factory, attempt_id)
    assert cancelled.status is AttemptStatus.CANCELED
    assert cancelled.reason == "invoice is paid"


def test_an_attempt_on_a_card_replaced_meanwhile_is_cancelled_without_a_charge(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a routed card attempt, and the customer switching to direct debit before it runs
    doubles = _doubles(uow_factory, clock)
    invoice_id, attempt_id = _issue_and_route(doubles)
    doubles.dispatch.take()
    change_payment_method(doubles.deps, account_id="acc_card", method=PaymentMethod(
        MethodType.DIRECT_DEBIT, provider_customer="CU1", provider_method="MD1",
        scheme="sepa_core"))

    # When the card attempt's message is handled
    status = collect_attempt(doubles.deps, attempt_id=attempt_id)

    # Then the old card is not charged
    assert status is None
    assert doubles.card.charges == []
    assert attempt(uow_factory, attempt_id).status is AttemptStatus.CANCELED
    assert "direct_debit" in attempt(uow_factory, attempt_id).reason
    # and the open balance is asked for once, on the new mandate
    Worker(doubles).run_until_idle()
    assert [c.invoice_id for c in doubles.direct_debit.collects] == [invoice_id]
    assert [a.status for a in attempts_of(uow_factory, invoice_id)] == [
        AttemptStatus.CANCELED, AttemptStatus.PENDING]


def test_a_soft_decline_schedules_a_retry_on_the_schedule_copied_onto_the_attempt(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given retries configured at 2, 4 and 6 days after the first failure
    doubles = _doubles(uow_factory, clock, Declined(DeclineKind.SOFT, "insufficient_funds"),
                       Declined(DeclineKind.SOFT, "insufficient_funds"),
                       policy=RetryPolicy(schedule_days=(2, 4, 6)))
    invoice_id, attempt_id = _issue_and_route(doubles)
    doubles.dispatch.take()

    # When the card is soft-declined on 1 March at 09:00
    status = collect_attempt(doubles.deps, attempt_id=attempt_id)

    # Then the attempt failed softly, and retry 2 waits for 3 March 09:00 with the schedule
    failed, retry = attempts_of(uow_factory, invoice_id)
    assert status is AttemptStatus.FAILED
    assert (failed.failure_class, failed.failure_code, failed.first_failed_at) == (
        DeclineKind.SOFT, "insufficient_funds", START)
    assert (retry.status, retry.number, retry.scheduled_for) == (
        AttemptStatus.SCHEDULED, 2, START + timedelta(days=2))
    assert (retry.retry_schedule_days, retry.first_failed_at) == ((2, 4, 6), START)
    assert retry.amount == MONTHLY
    assert "payment_failed" in outbox_kinds(uow_factory, "acc_card")
    # and nothing asks for it now: the sweeper sends it when it is due
    assert doubles.dispatch.work() == []
    assert collect_attempt(doubles.deps, attempt_id=retry.id) is None
    assert len(doubles.card.charges) == 1

    # When the configuration changes to 1,3 days and retry 2 runs on 3 March and fails
    clock.set(START + timedelta(days=2))
    reconfigured = doubles.with_policy(RetryPolicy(schedule_days=(1, 3)))
    assert collect_attempt(reconfigured.deps, attempt_id=retry.id) is AttemptStatus.FAILED

    # Then retry 3 keeps the copied schedule: first failure + 4 days = 5 March 09:00
    third = attempts_of(uow_factory, invoice_id)[-1]
    assert (third.number, third.scheduled_for, third.retry_schedule_days) == (
        3, START + timedelta(days=4), (2, 4, 6))
    assert assert_ledger_balances(uow_factory, "acc_card") == MONTHLY


def test_a_hard_decline_flags_the_method_unusable_and_asks_for_a_new_one_without_retry(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a routed invoice on a card reported stolen
    doubles = _doubles(uow_factory, clock, Declined(DeclineKind.HARD, "stolen_card"))
    invoice_id, attempt_id = _issue_and_route(doubles)

    # When it is collected
    status = collect_attempt(doubles.deps, attempt_id=attempt_id)

    # Then the attempt failed hard, nothing is retried, the card is unusable
    assert status is AttemptStatus.FAILED
    assert [(a.status, a.failure_class) for a in attempts_of(uow_factory, invoice_id)] == [
        (AttemptStatus.FAILED, DeclineKind.HARD)]
    method = account(uow_factory, "acc_card").payment_method
    assert method.usable is False
    assert account(uow_factory, "acc_card").needs_new_payment_method
    # and the customer is asked for a new method through the outbox
    assert outbox_kinds(uow_factory, "acc_card") == ["new_method_needed"]
    assert len(doubles.dispatch.of("send_notification")) == 1
    # and routing it again does nothing: the method can never work
    assert route_invoice(doubles.deps, invoice_id=invoice_id) is None
    assert len(doubles.card.charges) == 1
    assert assert_ledger_balances(uow_factory, "acc_card") == MONTHLY


def test_an_unknown_outcome_is_reconciled_by_a_lookup_never_by_charging_again(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a charge whose outcome we never learnt (the provider did take the money)
    doubles = _doubles(uow_factory, clock, Unknown("read timeout after 3 tries"))
    invoice_id, attempt_id = _issue_and_route(doubles)
    doubles.dispatch.take()
    status = collect_attempt(doubles.deps, attempt_id=attempt_id)
    assert status is AttemptStatus.UNKNOWN
    assert [m.kind for m in doubles.dispatch.work()] == ["reconcile"]
    # and while unknown, balance forward does not bring the amount forward
    assert assert_ledger_balances(uow_factory, "acc_card") == MONTHLY

    # When the reconcile message is handled and the provider finds the payment
    doubles.card.script_lookups(Charged(provider_ref="pi_found", amount=MONTHLY))
    Worker(doubles).run_until_idle()

    # Then it asked (find_payment by the attempt id), did not charge, and applied the charge
    assert [c.attempt_id for c in doubles.card.lookups] == [attempt_id]
    assert len(doubles.card.charges) == 1
    settled = attempt(uow_factory, attempt_id)
    assert (settled.status, settled.provider_ref) == (AttemptStatus.SUCCEEDED, "pi_found")
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(0)


def test_a_transient_failure_the_gateway_gave_up_on_is_treated_as_unknown(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a gateway that still reports a transient fault after its own retries
    doubles = _doubles(uow_factory, clock, TransientFailure("503", retry_after_seconds=2))
    _, attempt_id = _issue_and_route(doubles)

    # When the attempt is collected
    status = collect_attempt(doubles.deps, attempt_id=attempt_id)

    # Then it is UNKNOWN and sent for reconciliation, not retried as a new charge
    assert status is AttemptStatus.UNKNOWN
    assert [m.args for m in doubles.dispatch.of("reconcile")] == [(attempt_id,)]
    assert len(doubles.card.charges) == 1


def test_a_payment_the_provider_never_saw_fails_and_is_retried_soon(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given an unknown outcome, and a provider with no payment under the attempt's key
    doubles = _doubles(uow_factory, clock, Unknown("connection reset"), lookups=[NotFound()])
    invoice_id, attempt_id = _issue_and_route(doubles)
    collect_attempt(doubles.deps, attempt_id=attempt_id)

    # When it is reconciled
    status = reconcile_attempt(doubles.deps, attempt_id=attempt_id)

    # Then it failed as not found, and a retry waits only 15 minutes
    assert status is AttemptStatus.FAILED
    failed, retry = attempts_of(uow_factory, invoice_id)
    assert failed.failure_code == NOT_FOUND_CODE
    assert (retry.status, retry.scheduled_for) == (AttemptStatus.SCHEDULED,
                                                   START + timedelta(minutes=15))
    # and when the sweeper sends it, the card is charged under the retry's own key
    clock.advance(minutes=15)
    sweep(doubles.deps, settings=SweepSettings())
    Worker(doubles).run_until_idle()
    assert [c.attempt_id for c in doubles.card.charges] == [attempt_id, retry.id]
    assert len(doubles.card.money_taken) == 1
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(0)


class WorkerKilled(BaseException):
    """The worker process died (SIGKILL) after the provider took the money."""


def _die(call: Call) -> None:
    raise WorkerKilled


def test_an_attempt_stuck_processing_after_a_crash_is_reconciled_never_charged_again(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a worker killed after the provider charged the card, before it recorded anything
    doubles = _doubles(uow_factory, clock, during=_die)
    invoice_id, attempt_id = _issue_and_route(doubles)
    with contextlib.suppress(WorkerKilled):
        collect_attempt(doubles.deps, attempt_id=attempt_id)
    doubles.card.during = None
    doubles.dispatch.take()
    assert attempt(uow_factory, attempt_id).status is AttemptStatus.PROCESSING
    # and the broker redelivering the message: it does nothing
    assert collect_attempt(doubles.deps, attempt_id=attempt_id) is None
    # and a sweep right away leaves it alone: it may still be mid-call
    sweep(doubles.deps, settings=SweepSettings())
    assert doubles.dispatch.work() == []

    # When the sweeper runs after the stuck threshold and its messages are handled
    clock.advance(minutes=6)
    sweep(doubles.deps, settings=SweepSettings())
    assert [m.args for m in doubles.dispatch.work()] == [(attempt_id,)]
    doubles.card.script_lookups(Charged(provider_ref="pi_from_before_the_crash",
                                        amount=MONTHLY))
    Worker(doubles).run_until_idle()

    # Then the payment found at the provider is recorded; the card was charged once
    assert len(doubles.card.charges) == 1
    assert len(doubles.card.lookups) == 1
    assert attempt(uow_factory, attempt_id).status is AttemptStatus.SUCCEEDED
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(0)


def test_two_workers_collecting_the_same_attempt_at_once_call_the_provider_once(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given one attempt and four workers that received its message at the same instant;
    # whoever calls the provider holds the call until every other worker has given up
    workers = 4
    gave_up = threading.Semaphore(0)

    def wait_for_the_others(call: Call) -> None:
        for _ in range(workers - 1):
            assert gave_up.acquire(timeout=30), "another worker is blocked or charging"

    doubles = _doubles(uow_factory, clock, during=wait_for_the_others)
    invoice_id, attempt_id = _issue_and_route(doubles)
    start = threading.Barrier(workers)
    results: list[AttemptStatus | None] = []
    errors: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            status = collect_attempt(doubles.deps, attempt_id=attempt_id)
            results.append(status)
            if status is None:
                gave_up.release()
        except BaseException as error:  # surfaced below
            errors.append(error)

    # When they all handle it concurrently
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then exactly one called the provider; the others found it claimed
    assert errors == []
    assert len(results) == workers
    assert results.count(None) == workers - 1
    assert AttemptStatus.SUCCEEDED in results
    assert len(doubles.card.charges) == 1
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(0)


def test_wire_instructions_are_published_once_and_the_attempt_awaits_the_transfer(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a wire account's routed invoice
    doubles = make_doubles(uow_factory=uow_factory, clock=clock)
    subscribe(uow_factory, account=wire_account(), started_on=clock.today())
    [invoice_id] = renew(uow_factory, clock)
    attempt_id = route_invoice(doubles.deps, invoice_id=invoice_id)
    assert attempt_id is not None
    assert doubles.dispatch.of("collect")[0].args == (attempt_id, "wire")

    # When its message is delivered twice
    first = collect_attempt(doubles.deps, attempt_id=attempt_id)
    second = collect_attempt(doubles.deps, attempt_id=attempt_id)

    # Then the instructions went out once; the invoice waits 30 days for the transfer
    assert (first, second) == (AttemptStatus.AWAITING_TRANSFER, None)
    assert len(doubles.wire.published) == 1
    awaiting = attempt(uow_factory, attempt_id)
    issued = invoice(uow_factory, invoice_id)
    assert awaiting.provider_ref == issued.payment_reference
    assert issued.due_on == issued.issued_on + timedelta(days=30)
    assert assert_ledger_balances(uow_factory, "acc_wire") == MONTHLY


class _HookedAttempts:
    """A unit of work whose attempt repository has some methods replaced (the rest as is)."""

    def __init__(self, inner: SqlUnitOfWork, **replaced: Callable[..., object]) -> None:
        self._inner = inner
        self._replaced = replaced

    def __enter__(self) -> SqlUnitOfWork:
        uow = self._inner.__enter__()
        uow.attempts = _Proxy(uow.attempts, self._replaced)  # type: ignore[assignment]
        return uow

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)  # type: ignore[arg-type]


class _Proxy:
    def __init__(self, inner: object, replaced: dict[str, Callable[..., object]]) -> None:
        self._inner = inner
        self._replaced = replaced

    def __getattr__(self, name: str) -> object:
        if name in self._replaced:
            real = getattr(self._inner, name)
            return lambda **kwargs: self._replaced[name](real, **kwargs)
        return getattr(self._inner, name)


def test_a_renewal_racing_a_claimed_attempt_never_brings_its_amount_forward_as_well(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given March's attempt, collected at the very moment April's renewal runs: the collect
    # worker has read the invoice (open, 95.00 due) and is about to claim the attempt.
    # (SQLite serialises the two transactions; on PostgreSQL the renewal used to read the
    # attempt SCHEDULED, bring March forward, then fail to cancel it once claimed.)
    doubles = _doubles(uow_factory, clock)
    march_id, attempt_id = _issue_and_route(doubles)
    clock.set(at_utc(2026, 4, 1, 9))
    claiming, renewal_cancels = threading.Event(), threading.Event()

    def claim(real: Callable[..., bool], **kwargs: object) -> bool:
        claiming.set()
        # The renewal gets as far as it can while this claim is still uncommitted.
        renewal_cancels.wait(timeout=2)
        return real(**kwargs)

    def cancel_scheduled(real: Callable[..., list[str]], **kwargs: object) -> list[str]:
        renewal_cancels.set()
        return real(**kwargs)

    collecting = replace(doubles.deps, uow_factory=cast(
        UnitOfWorkFactory, lambda: _HookedAttempts(uow_factory(), update=claim)))
    outcome: list[object] = []
    collector = threading.Thread(
        target=lambda: outcome.append(collect_attempt(collecting, attempt_id=attempt_id)))

    # When the collect worker and the scheduler run at once
    collector.start()
    assert claiming.wait(timeout=30)
    issued = renew(cast(UnitOfWorkFactory, lambda: _HookedAttempts(
        uow_factory(), cancel_scheduled=cancel_scheduled)), clock)
    collector.join(timeout=60)

    # Then March is charged once and April does not ask for March's 95.00 again
    assert outcome == [AttemptStatus.SUCCEEDED]
    assert len(doubles.card.money_taken) == 1
    [april_id] = issued
    april, march = invoice(uow_factory, april_id), invoice(uow_factory, march_id)
    assert april.previous == eur(0)
    assert march.status is InvoiceStatus.PAID
    assert assert_ledger_balances(uow_factory, "acc_card") == MONTHLY


def test_an_unknown_debit_is_looked_for_under_the_accounts_mandate_first(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a debit whose create we never heard back from
    debits = ScriptedDirectDebitGateway(Unknown("connection dropped after 4 tries"),
                                        lookups=[NotFound()])
    doubles = make_doubles(uow_factory=uow_factory, clock=clock, direct_debit=debits)
    subscribe(uow_factory, account=debit_account(), started_on=clock.today())
    [invoice_id] = renew(uow_factory, clock)
    attempt_id = route_invoice(doubles.deps, invoice_id=invoice_id)
    assert attempt_id is not None
    assert collect_attempt(doubles.deps, attempt_id=attempt_id) is AttemptStatus.UNKNOWN
    # When it is reconciled
    Worker(doubles).deliver(doubles.dispatch.take())
    # Then the provider is asked about that attempt, narrowed to the account's mandate
    assert [(c.attempt_id, c.provider_ref) for c in debits.lookups] == [
        (attempt_id, "MD_acc_debit")]
