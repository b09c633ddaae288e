"""The sweeper on SQLite and PostgreSQL: the database is the source of truth, messages are only
the fast path. What it re-drives is read from the RecordingDispatcher."""

from __future__ import annotations

from datetime import date, timedelta

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.accounts import MethodType
from domain.clock import ManualClock, at_utc
from domain.invoices import InvoiceStatus, Period
from domain.outcomes import Charged, Declined, DeclineKind
from domain.payments import AttemptStatus
from domain.ports import UnitOfWorkFactory
from tests.builders import a_subscription, an_attempt, an_invoice, eur
from tests.fakes import FakeUnitOfWorkFactory
from tests.handlers.doubles import Doubles, Message, Worker, make_doubles
from tests.handlers.world import (
    MONTHLY,
    assert_ledger_balances,
    attempts_of,
    card_account,
    debit_account,
    invoice,
    renew,
    subscribe,
    wire_account,
)
from workers.handlers.sweeper import SweepReport, SweepSettings, sweep

NOW = at_utc(2026, 3, 1, 9)  # the `clock` fixture's start


def _store(uow_factory: UnitOfWorkFactory, situations: dict[str, AttemptStatus | str | None],
           attempt_overrides: dict[str, dict[str, object]]) -> None:
    """One open invoice per situation (ids `inv_<name>`), with one attempt (`att_<name>`) in
    the given status, or none; "paid" stores a paid invoice without attempt."""
    with uow_factory() as uow:
        uow.accounts.add(account=card_account("acc_1"))
        uow.subscriptions.add(subscription=a_subscription())
        for month, (name, status) in enumerate(situations.items(), start=1):
            start = date(2025, month, 1)
            end = date(2025 + month // 12, month % 12 + 1, 1)
            invoice_status = InvoiceStatus.PAID if status == "paid" else InvoiceStatus.OPEN
            uow.invoices.add_with_lines(invoice=an_invoice(
                id=f"inv_{name}", number=f"PC-2025-{month:06d}", period=Period(start, end),
                issued_on=start, due_on=start, status=invoice_status,
                amount_paid=eur(11179) if status == "paid" else None))
            if isinstance(status, AttemptStatus):
                uow.attempts.add(attempt=an_attempt(
                    id=f"att_{name}", invoice_id=f"inv_{name}", status=status,
                    **attempt_overrides.get(name, {})))
        uow.commit()


def _every_situation(uow_factory: UnitOfWorkFactory) -> None:
    """Invoices and attempts in every situation, at 09:00 (stuck after 5 minutes, pending
    debits polled after 1 hour)."""
    minutes_ago = {m: NOW - timedelta(minutes=m) for m in (1, 10, 120)}
    _store(uow_factory, {
        "unrouted": None, "paid": "paid",
        "due": AttemptStatus.SCHEDULED, "later": AttemptStatus.SCHEDULED,
        "stuck": AttemptStatus.PROCESSING, "busy": AttemptStatus.PROCESSING,
        "unknown": AttemptStatus.UNKNOWN,
        "old_debit": AttemptStatus.PENDING, "new_debit": AttemptStatus.PENDING,
        "hard": AttemptStatus.FAILED,
    }, {
        "due": {"scheduled_for": NOW, "updated_at": minutes_ago[120]},
        "later": {"scheduled_for": NOW + timedelta(days=2)},
        "stuck": {"updated_at": minutes_ago[10]},
        "busy": {"updated_at": minutes_ago[1]},
        "unknown": {"updated_at": minutes_ago[10]},
        "old_debit": {"updated_at": minutes_ago[120], "method": MethodType.DIRECT_DEBIT,
                      "provider_ref": "PM_old"},
        "new_debit": {"updated_at": minutes_ago[10], "method": MethodType.DIRECT_DEBIT,
                      "provider_ref": "PM_new"},
        "hard": {"failure_class": DeclineKind.HARD, "failure_code": "stolen_card"},
    })


#: What a sweep of `_every_situation` must send: route the invoice that never got an attempt,
#: send the retry that is due, reconcile the stuck attempts and the debit pending too long.
EXPECTED = [
    Message("collect", ("att_due", "card")),
    Message("reconcile", ("att_old_debit",)),
    Message("reconcile", ("att_stuck",)),
    Message("reconcile", ("att_unknown",)),
    Message("route_invoice", ("inv_unrouted",)),
]


def test_a_sweep_re_drives_only_what_the_database_says_is_due_and_has_not_progressed(
        uow_factory: SqlUnitOfWorkFactory, doubles: Doubles) -> None:
    # Given invoices and attempts in every situation
    _every_situation(uow_factory)

    # When the sweeper runs, presuming every message older than now lost
    report = sweep(doubles.deps, settings=SweepSettings(lost_after=timedelta(0)))

    # Then it re-drives exactly what is due and has not progressed; nothing else
    assert sorted(doubles.dispatch.messages, key=lambda m: (m.kind, m.args)) == EXPECTED
    assert report == SweepReport(routed=1, due_retries=1, reconciled=2, polled=1)


def test_a_reconciliation_is_asked_once_however_long_its_message_waits(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given the situations above, swept once; messages presumed lost after 10 minutes
    _every_situation(uow_factory)
    settings = SweepSettings(lost_after=timedelta(minutes=10))

    def reconciled() -> list[str]:
        asked = sorted(m.args[0] for m in doubles.dispatch.messages if m.kind == "reconcile")
        doubles.dispatch.messages.clear()
        return asked

    sweep(doubles.deps, settings=settings)
    assert reconciled() == ["att_old_debit", "att_stuck", "att_unknown"]

    # When the sweeper runs again a minute later, the messages still queued behind a backlog
    clock.advance(minutes=1)
    sweep(doubles.deps, settings=settings)
    # Then nothing is asked twice
    assert reconciled() == []

    # When the poll of the old debit answers "still pending", and 11 minutes pass
    with uow_factory() as uow:
        uow.attempts.answered(attempt_id="att_old_debit", now=clock.now())
        uow.commit()
    clock.advance(minutes=11)
    sweep(doubles.deps, settings=settings)
    # Then the unanswered ones are asked again (their messages presumed lost), "busy" is
    # stuck by now too, and the answered debit waits for its poll interval
    assert reconciled() == ["att_busy", "att_stuck", "att_unknown"]

    # When the poll interval has passed since that answer
    clock.advance(hours=1)
    sweep(doubles.deps, settings=settings)
    # Then both debits are polled, and any change to an attempt clears the wait
    assert {"att_old_debit", "att_new_debit"} <= set(reconciled())


def test_the_in_memory_unit_of_work_sweeps_like_the_database(clock: ManualClock) -> None:
    # Given the same situations in the in-memory fakes other handler tests rely on
    fakes = FakeUnitOfWorkFactory()
    _every_situation(fakes)
    doubles = make_doubles(uow_factory=fakes, clock=clock)

    # When the sweeper runs
    report = sweep(doubles.deps, settings=SweepSettings(lost_after=timedelta(0)))

    # Then it sends the same messages as on SQLite and PostgreSQL
    assert sorted(doubles.dispatch.messages, key=lambda m: (m.kind, m.args)) == EXPECTED
    assert report == SweepReport(routed=1, due_retries=1, reconciled=2, polled=1)


def test_a_sweep_with_nothing_to_do_sends_nothing(doubles: Doubles) -> None:
    # Given an empty database
    # When the sweeper runs
    report = sweep(doubles.deps, settings=SweepSettings())

    # Then no message is sent
    assert doubles.dispatch.messages == []
    assert report == SweepReport(0, 0, 0, 0)


def test_after_every_message_is_lost_sweeping_then_delivering_completes_everything_once(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a card, a direct-debit and a wire account invoiced on 1 March
    for account in (card_account(), debit_account(), wire_account()):
        subscribe(uow_factory, account=account, started_on=clock.today())
    issued = renew(uow_factory, clock)
    assert len(issued) == 3
    card_inv, debit_inv, wire_inv = (
        next(i for i in issued if invoice(uow_factory, i).account_id == acc)
        for acc in ("acc_card", "acc_debit", "acc_wire"))
    worker = Worker(doubles)
    # and their "finalised" messages lost (Redis restarted without persistence)
    for invoice_id in issued:
        doubles.dispatch.route_invoice(invoice_id)
    doubles.dispatch.take()

    # When the sweeper runs once they are overdue (SweepSettings.lost_after, 5 minutes) and
    # its messages are delivered, then the collect messages those send are lost too, and the
    # sweeper runs again
    clock.advance(minutes=6)
    sweep(doubles.deps, settings=SweepSettings())
    assert sorted(m.target for m in doubles.dispatch.messages) == sorted(issued)
    worker.deliver(doubles.dispatch.take())
    assert [m.kind for m in doubles.dispatch.take()] == ["collect"] * 3
    # (a collect sent at creation is presumed lost only after `lost_after` too)
    clock.advance(minutes=6)
    sweep(doubles.deps, settings=SweepSettings())
    worker.run_until_idle()

    # Then each invoice was sent to its provider once: the card charged, the debit pending,
    # the wire instructions published
    assert [c.invoice_id for c in doubles.card.charges] == [card_inv]
    assert [c.invoice_id for c in doubles.direct_debit.collects] == [debit_inv]
    assert [c.invoice_id for c in doubles.wire.published] == [wire_inv]
    assert [a.status for a in attempts_of(uow_factory, debit_inv)] == [AttemptStatus.PENDING]

    # When the bank confirms the debit, nobody tells us (its webhook is lost as well), and
    # the sweeper polls it once it has been pending for more than an hour
    doubles.direct_debit.script_statuses(
        lambda call: Charged(provider_ref=str(call.provider_ref), amount=MONTHLY))
    clock.advance(minutes=30)
    sweep(doubles.deps, settings=SweepSettings())
    assert doubles.dispatch.work() == []
    clock.advance(minutes=31)
    sweep(doubles.deps, settings=SweepSettings())
    worker.run_until_idle()

    # Then everything is complete, each paid once, and sweeping again finds nothing
    assert invoice(uow_factory, card_inv).status is InvoiceStatus.PAID
    assert invoice(uow_factory, debit_inv).status is InvoiceStatus.PAID
    assert [a.status for a in attempts_of(uow_factory, wire_inv)] == [
        AttemptStatus.AWAITING_TRANSFER]
    assert len(doubles.direct_debit.polls) == 1
    for account_id, owed in (("acc_card", eur(0)), ("acc_debit", eur(0)),
                             ("acc_wire", MONTHLY)):
        assert assert_ledger_balances(uow_factory, account_id) == owed
    sweep(doubles.deps, settings=SweepSettings())
    assert doubles.dispatch.work() == []

    # When every message ever delivered is delivered again (the broker redelivers)
    worker.deliver([m for m in worker.delivered if m.kind != "send_notification"])

    # Then no provider is called again
    assert len(doubles.card.charges) == len(doubles.card.money_taken) == 1
    assert len(doubles.direct_debit.collects) == 1
    assert len(doubles.wire.published) == 1
    assert len(doubles.direct_debit.polls) == 1


def test_a_retry_whose_message_was_lost_is_sent_by_the_sweeper_when_it_is_due(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a card soft-declined on 1 March, its retry due on 2 March (schedule 1,3,5,7)
    doubles.card.script(Declined(DeclineKind.SOFT, "insufficient_funds"))
    subscribe(uow_factory, account=card_account(), started_on=clock.today())
    [invoice_id] = renew(uow_factory, clock)
    doubles.dispatch.route_invoice(invoice_id)
    worker = Worker(doubles)
    worker.run_until_idle()
    retry = attempts_of(uow_factory, invoice_id)[-1]
    assert retry.scheduled_for == clock.now() + timedelta(days=1)

    # When the sweeper runs before, then after, the retry's time
    clock.advance(hours=23)
    sweep(doubles.deps, settings=SweepSettings())
    before = doubles.dispatch.work()
    clock.advance(hours=1)
    sweep(doubles.deps, settings=SweepSettings())

    # Then it sends the retry only once due, and the retry charges the card
    assert before == []
    assert [m.args for m in doubles.dispatch.work()] == [(retry.id, "card")]
    worker.run_until_idle()
    assert [c.attempt_id for c in doubles.card.charges][-1] == retry.id
    assert invoice(uow_factory, invoice_id).status is InvoiceStatus.PAID
    assert assert_ledger_balances(uow_factory, "acc_card") == eur(0)


def test_a_just_issued_invoice_is_not_routed_again_while_its_message_may_still_be_queued(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given an invoice issued now, its route message on its way
    subscribe(uow_factory, account=card_account(), started_on=clock.today())
    [issued] = renew(uow_factory, clock)
    # When the sweeper runs within the lost-message delay
    clock.advance(minutes=4)
    early = sweep(doubles.deps, settings=SweepSettings(lost_after=timedelta(minutes=5)))
    # Then it leaves the invoice to its message...
    assert early.routed == 0
    # ...and routes it once the message must have been lost
    clock.advance(minutes=2)
    late = sweep(doubles.deps, settings=SweepSettings(lost_after=timedelta(minutes=5)))
    assert late.routed == 1
    assert doubles.dispatch.messages[-1].args == (issued,)


def test_an_invoice_the_sweeper_routed_is_not_routed_again_on_every_pass(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given an invoice whose route message was lost, past the lost-message delay
    subscribe(uow_factory, account=card_account(), started_on=clock.today())
    [issued] = renew(uow_factory, clock)
    settings = SweepSettings(lost_after=timedelta(minutes=5))
    clock.advance(minutes=6)
    # When the sweeper routes it, and passes again while that message waits behind a backlog
    first = sweep(doubles.deps, settings=settings)
    clock.advance(minutes=1)
    again = sweep(doubles.deps, settings=settings)
    # Then it was routed once
    assert (first.routed, again.routed) == (1, 0)
    # And again once that message, too, is presumed lost
    clock.advance(minutes=5)
    assert sweep(doubles.deps, settings=settings).routed == 1
    assert [m.args for m in doubles.dispatch.messages if m.kind == "route_invoice"] == [
        (issued,), (issued,)]


def test_an_attempt_sent_when_it_was_created_is_not_sent_again_by_the_next_sweep(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given an invoice routed now: its attempt was created due now and its collect sent
    subscribe(uow_factory, account=card_account(), started_on=clock.today())
    [invoice_id] = renew(uow_factory, clock)
    doubles.dispatch.route_invoice(invoice_id)
    Worker(doubles).deliver(doubles.dispatch.take())
    assert [m.kind for m in doubles.dispatch.take()] == ["collect"]
    # When the next sweep runs a minute later, while that message may still be queued
    clock.advance(minutes=1)
    sweep(doubles.deps, settings=SweepSettings())
    # Then it does not send a second collect for it (only a retry scheduled for later is
    # the sweep's to send)
    assert doubles.dispatch.take() == []


def test_a_debit_still_pending_when_polled_is_polled_again_one_interval_after_the_answer(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a direct debit submitted on 1 March and pending for more than the poll interval
    subscribe(uow_factory, account=debit_account(), started_on=clock.today())
    [debit_inv] = renew(uow_factory, clock)
    worker = Worker(doubles)
    worker.deliver([Message("route_invoice", (debit_inv,))])
    worker.run_until_idle()
    settings = SweepSettings()
    clock.advance(seconds=settings.pending_poll_after.total_seconds() + 60)

    # When the sweeper asks for a poll, the bank still says pending, and the sweeper runs on
    sweep(doubles.deps, settings=settings)
    worker.run_until_idle()
    assert len(doubles.direct_debit.polls) == 1
    for _ in range(3):  # sweeps every few minutes, well past `lost_after`
        clock.advance(minutes=10)
        sweep(doubles.deps, settings=settings)
        worker.run_until_idle()

    # Then it is not polled again before one interval has passed since that answer
    assert len(doubles.direct_debit.polls) == 1
    clock.advance(seconds=settings.pending_poll_after.total_seconds() - 30 * 60 + 60)
    sweep(doubles.deps, settings=settings)
    worker.run_until_idle()
    assert len(doubles.direct_debit.polls) == 2
    assert [a.status for a in attempts_of(uow_factory, debit_inv)] == [AttemptStatus.PENDING]


def test_a_collect_presumed_lost_is_sent_again_once_per_lost_after_not_on_every_pass(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a card invoice whose collect message was lost, and a busy queue: what the
    # sweeper sends is not processed for a long while
    subscribe(uow_factory, account=card_account(), started_on=clock.today())
    [card_inv] = renew(uow_factory, clock)
    Worker(doubles).deliver([Message("route_invoice", (card_inv,))])
    doubles.dispatch.take()  # the collect it sent is lost
    settings = SweepSettings()

    def collects_after(minutes: int) -> int:
        clock.advance(minutes=minutes)
        sweep(doubles.deps, settings=settings)
        return len([m for m in doubles.dispatch.take() if m.kind == "collect"])

    # When the sweeper runs every minute for a quarter of an hour
    sent = [collects_after(1) for _ in range(15)]
    # Then it is sent again once it is presumed lost (5 minutes), and again only when that
    # message is presumed lost in turn: 3 times, not 10
    assert sum(sent) == 3
    assert [i + 1 for i, n in enumerate(sent) if n] == [5, 10, 15]  # minutes
