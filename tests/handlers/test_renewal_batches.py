"""Renewals in batches: the same results as one renewal at a time (balance forward, catch-up,
proration, minutes, restrictions), on the fakes, SQLite and PostgreSQL; an aborted batch
gives its invoice numbers back; a broken subscription costs only itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, cast

import pytest
from sqlalchemy import Engine

from adapters.db.engine import session_factory
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock, at_utc
from domain.invoices import InvoiceStatus
from domain.payments import AttemptStatus
from domain.plans import UnitKind
from domain.ports import UnitOfWorkFactory
from domain.seats import SeatChange
from tests.fakes import FakeUnitOfWorkFactory
from tests.handlers import renewal_world
from tests.handlers.doubles import FailingLedgerUnitOfWork
from tests.handlers.world import card_account, invoices_of, subscribe
from tests.integration.conftest import clear_tables
from workers.handlers.renewal_batches import renew_all_due, renew_batch
from workers.handlers.renewals import RenewalSettings, run_due_renewals_one_by_one

MARCH_1 = date(2026, 3, 1)
Renewal = Callable[[UnitOfWorkFactory, ManualClock], list[str]]


def _one_by_one(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> list[str]:
    return run_due_renewals_one_by_one(uow_factory=uow_factory, as_of=clock.today(),
                                       clock=clock, settings=RenewalSettings())


def _in_batches_of(size: int) -> Renewal:
    def renew(uow_factory: UnitOfWorkFactory, clock: ManualClock) -> list[str]:
        issued: list[str] = []
        last = None
        while (result := renew_batch(uow_factory=uow_factory, as_of=clock.today(), clock=clock,
                                     settings=RenewalSettings(), limit=size,
                                     after=last)).claimed:
            assert not result.one_by_one, "the batch failed (its fallback would hide it)"
            issued.extend(result.issued)
            last = result.last
        return issued
    return renew


def _outcome(uow_factory: UnitOfWorkFactory, clock: ManualClock, renew: Renewal) -> Any:
    renewal_world.build(uow_factory, clock)
    issued = renew(uow_factory, clock)
    return len(issued), renewal_world.read_back(uow_factory)


@pytest.mark.parametrize("size", [1, 3, 500])
def test_batches_issue_what_one_renewal_at_a_time_issues_on_the_fakes(size: int) -> None:
    # Given the same world twice; When one is renewed one by one, the other in batches
    single = _outcome(FakeUnitOfWorkFactory(), ManualClock(at_utc(2026, 1, 1)), _one_by_one)
    batched = _outcome(FakeUnitOfWorkFactory(), ManualClock(at_utc(2026, 1, 1)),
                       _in_batches_of(size))

    # Then both hold the same invoices, numbers, attempts, ledger and renewal dates
    assert batched == single


@pytest.mark.parametrize("size", [3, 500])
def test_batches_issue_what_one_renewal_at_a_time_issues_in_the_database(
        size: int, engine: Engine) -> None:
    def on_a_fresh_database(renew: Renewal) -> Any:
        clear_tables(engine)
        clock = ManualClock(at_utc(2026, 1, 1))
        return _outcome(SqlUnitOfWorkFactory(session_factory(engine), clock=clock), clock,
                        renew)

    # Given the world renewed one by one
    single = on_a_fresh_database(_one_by_one)
    # When the same world is renewed in batches
    batched = on_a_fresh_database(_in_batches_of(size))

    # Then the databases hold the same things
    assert batched == single
    # and the world did exercise each rule (a vacuous comparison would pass too)
    count, state = batched
    invoices = {inv.subscription_id: inv for inv in state["invoices"]
                if inv.issued_on == renewal_world.COMPARED_ON}
    # 1 March and 1 April for the five anchored on the 1st (caught up), the annual plan's
    # usage invoice of 31 March (February had none), 20 February and 20 March for two more
    assert count == 5 * 2 + 1 + 2 * 2
    card_1 = invoices["sub_card_1"]
    assert {line.section.value for line in card_1.lines} == {"recurring", "prorata", "minutes"}
    statuses = {inv.subscription_id: inv.status for inv in state["invoices"]
                if inv.issued_on == date(2026, 2, 1)}
    assert statuses["sub_debit"] is InvoiceStatus.OPEN  # its debit is in flight
    assert statuses["sub_partial"] is InvoiceStatus.OPEN  # half of it is in flight
    assert statuses["sub_wire"] is InvoiceStatus.CARRIED_FORWARD
    assert [(a[2], a[3].startswith("carried forward")) for a in state["attempts"]
            if a[1] in ("att_1", "att_4")] == [(AttemptStatus.CANCELED, True)] * 2
    late = [inv for inv in state["invoices"] if inv.subscription_id == "sub_late"]
    assert [inv.issued_on for inv in late] == [date(2026, 2, 20), date(2026, 3, 20)]
    assert late[1].previous == late[0].charges


def test_an_aborted_batch_gives_its_invoice_numbers_back(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given three subscriptions due on 1 March
    for n in range(3):
        subscribe(uow_factory, account=card_account(f"acc_{n}"), started_on=MARCH_1)

    # When their batch fails on its last write, after it took three invoice numbers
    failing = cast(UnitOfWorkFactory, lambda: FailingLedgerUnitOfWork(uow_factory()))
    result = renew_batch(uow_factory=failing, as_of=MARCH_1, clock=clock,
                         settings=RenewalSettings())

    # Then nothing was kept, and each subscription (tried alone too) is reported failed
    assert result.issued == ()
    assert sorted(result.failed) == [f"sub_acc_{n}" for n in range(3)]
    assert [invoices_of(uow_factory, f"acc_{n}") for n in range(3)] == [[], [], []]
    # and once the ledger is back (and the leases taken alone have run out), the numbers
    # start at 1 again: the aborted batch's were given back
    clock.advance(minutes=10)
    issued, failed = renew_all_due(uow_factory=uow_factory, as_of=MARCH_1, clock=clock,
                                   settings=RenewalSettings())
    assert failed == {}
    with uow_factory() as uow:
        numbers = sorted(uow.invoices.get(invoice_id=i, lines=False).number  # type: ignore[union-attr]
                         for i in issued)
    assert numbers == ["PC-2026-000001", "PC-2026-000002", "PC-2026-000003"]


def test_a_broken_subscription_costs_only_itself_and_leaves_no_gap_in_the_numbers(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given four subscriptions due, one of them with a seat change dated before its start
    for n in range(4):
        subscribe(uow_factory, account=card_account(f"acc_{n}"), started_on=MARCH_1)
    with uow_factory() as uow:
        uow.seat_changes.add(subscription_id="sub_acc_2",
                             change=SeatChange(UnitKind.USERS, 1, date(2026, 2, 1)))
        uow.commit()

    # When the due renewals run in one batch
    issued, failed = renew_all_due(uow_factory=uow_factory, as_of=MARCH_1, clock=clock,
                                   settings=RenewalSettings())

    # Then the three others are issued (one by one, after the batch failed), numbered 1-3
    assert list(failed) == ["sub_acc_2"]
    assert isinstance(failed["sub_acc_2"], ValueError)
    with uow_factory() as uow:
        numbers = sorted(uow.invoices.get(invoice_id=i, lines=False).number  # type: ignore[union-attr]
                         for i in issued)
        broken = uow.subscriptions.get(subscription_id="sub_acc_2")
    assert numbers == ["PC-2026-000001", "PC-2026-000002", "PC-2026-000003"]
    # and the broken one is still due, for the next pass to try again
    assert broken is not None
    assert broken.next_renewal_on == MARCH_1
