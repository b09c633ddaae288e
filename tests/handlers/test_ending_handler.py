"""Ending a subscription on SQLite and PostgreSQL: one final invoice, the balance brought
forward in the same transaction, never a renewal after it; canceling now or at the end of the
term. Every monthly invoice here charges 95.00 (tests/handlers/world.py: 3 x 30.00 + 5.00)."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock, at_utc
from domain.final_invoice import CannotEndThere
from domain.invoices import InvoiceKind, InvoiceStatus, Period
from domain.ledger import EntryKind
from domain.payments import AttemptStatus
from domain.plans import UnitKind
from domain.subscriptions import SubscriptionState
from tests.builders import an_attempt, eur
from tests.handlers.doubles import Doubles
from tests.handlers.world import (
    MONTHLY,
    assert_ledger_balances,
    attempts_of,
    card_account,
    invoices_of,
    ledger_of,
    renew,
    subscribe,
)
from workers.handlers.cancellation import (
    AlreadyEnded,
    CancelAt,
    cancel_subscription,
    end_due_subscriptions,
)
from workers.handlers.ending import end_subscription
from workers.handlers.subscriptions import SubscriptionHasEnded, add_units

MARCH_1, MARCH_21, APRIL_1 = date(2026, 3, 1), date(2026, 3, 21), date(2026, 4, 1)


def state(uow_factory: SqlUnitOfWorkFactory, subscription_id: str) -> tuple[str, date | None]:
    with uow_factory() as uow:
        subscription = uow.subscriptions.get(subscription_id=subscription_id)
    assert subscription is not None
    return subscription.state.value, subscription.ends_on


def routed(doubles: Doubles) -> list[str]:
    return [m.args[0] for m in doubles.dispatch.messages if m.kind == "route_invoice"]


def test_ending_mid_period_issues_one_final_invoice_with_the_balance_brought_forward(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given March's invoice (95.00) unpaid, with a retry scheduled, and a user added on 03-11
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    [march_id] = renew(uow_factory, clock)
    with uow_factory() as uow:
        uow.attempts.add(attempt=an_attempt(id="att_retry", invoice_id=march_id,
                                            account_id="acc_card", amount=MONTHLY,
                                            status=AttemptStatus.SCHEDULED))
        uow.commit()
    clock.set(at_utc(2026, 3, 11, 9))
    add_units(doubles.deps, subscription_id=subscription_id, kind=UnitKind.USERS, quantity=1,
              on=date(2026, 3, 11))
    # When it ends on 03-21, twice
    clock.set(at_utc(2026, 3, 21, 9))
    first = end_subscription(doubles.deps, subscription_id=subscription_id, ends_on=MARCH_21,
                             reason="terminated")
    again = end_subscription(doubles.deps, subscription_id=subscription_id, ends_on=MARCH_21,
                             reason="terminated")
    # Then one FINAL invoice: the user billed 03-11 → 03-21, 10 of March's 31 days:
    # 3000 * 10 / 31 = 967.7… → 968, plus the 95.00 brought forward
    march, final = invoices_of(uow_factory, "acc_card")
    assert (final.id, final.kind, final.issued_on, final.period) == (
        first.final_invoice_id, InvoiceKind.FINAL, MARCH_21, Period(MARCH_1, MARCH_21))
    assert [(line.item, line.amount) for line in final.lines] == [("users", eur(968))]
    assert (final.previous, final.total) == (MONTHLY, MONTHLY + eur(968))
    assert (again.ended_now, again.final_invoice_id, again.issued) == (
        False, final.id, ())
    assert first.ended_subscription_id == subscription_id
    assert again.ended_subscription_id is None
    # And March is closed as carried forward onto it, its scheduled retry canceled
    assert (march.status, march.carried_to) == (InvoiceStatus.CARRIED_FORWARD, final.id)
    assert [a.status for a in attempts_of(uow_factory, march_id)] == [AttemptStatus.CANCELED]
    # And the final invoice is routed for collection once; the ledger holds it
    assert routed(doubles) == [final.id]
    assert [e.kind for e in ledger_of(uow_factory, "acc_card")] == [
        EntryKind.INVOICE_ISSUED, EntryKind.INVOICE_ISSUED]
    assert assert_ledger_balances(uow_factory, "acc_card") == MONTHLY + eur(968)
    assert state(uow_factory, subscription_id) == ("ended", MARCH_21)


def test_an_ended_subscription_is_never_renewed_and_its_units_cannot_change(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a subscription ended on 03-21
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    renew(uow_factory, clock)
    clock.set(at_utc(2026, 3, 21, 9))
    end_subscription(doubles.deps, subscription_id=subscription_id, ends_on=MARCH_21,
                     reason="canceled")
    # When the renewals run on 04-01 and long after
    assert renew(uow_factory, clock, as_of=APRIL_1) == []
    assert renew(uow_factory, clock, as_of=date(2027, 1, 1)) == []
    # Then no invoice follows the final one, and a unit change is refused
    assert [inv.kind for inv in invoices_of(uow_factory, "acc_card")] == [
        InvoiceKind.MONTHLY, InvoiceKind.FINAL]
    with pytest.raises(SubscriptionHasEnded):
        add_units(doubles.deps, subscription_id=subscription_id, kind=UnitKind.USERS,
                  quantity=1, on=date(2026, 4, 2))


def test_ending_after_missed_renewals_issues_them_first_then_the_final_invoice(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given March renewed, then the scheduler down over 04-01
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    renew(uow_factory, clock)
    # When the subscription ends on 04-10
    clock.set(at_utc(2026, 4, 10, 9))
    result = end_subscription(doubles.deps, subscription_id=subscription_id,
                              ends_on=date(2026, 4, 10), reason="canceled")
    # Then April's renewal is issued (dated 04-01) before the final invoice, both routed
    invoices = invoices_of(uow_factory, "acc_card")
    assert [(inv.kind, inv.issued_on) for inv in invoices] == [
        (InvoiceKind.MONTHLY, MARCH_1), (InvoiceKind.MONTHLY, APRIL_1),
        (InvoiceKind.FINAL, date(2026, 4, 10))]
    assert list(result.issued) == [invoices[1].id, invoices[2].id] == routed(doubles)
    # And the final one brings both months forward
    assert invoices[2].previous == MONTHLY + MONTHLY


def test_an_end_on_the_first_day_or_before_a_day_already_invoiced_is_refused(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    renew(uow_factory, clock, as_of=APRIL_1)
    for day in (MARCH_1, MARCH_21):  # the start; before 04-01, already invoiced
        with pytest.raises(CannotEndThere):
            end_subscription(doubles.deps, subscription_id=subscription_id, ends_on=day,
                             reason="canceled")
    # And nothing changed
    assert state(uow_factory, subscription_id) == ("active", None)
    assert len(invoices_of(uow_factory, "acc_card")) == 2


def test_canceling_at_the_end_of_the_term_renews_until_then_and_ends_with_a_final_invoice(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a subscription anchored on 03-01, canceled on 03-21 at the end of the term
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    renew(uow_factory, clock)
    clock.set(at_utc(2026, 3, 21, 9))
    canceled = cancel_subscription(doubles.deps, subscription_id=subscription_id,
                                   at=CancelAt.PERIOD_END)
    # Then it is canceling, ending on the next renewal date
    assert (canceled.state, canceled.ends_on) == (SubscriptionState.CANCELING, APRIL_1)
    # And canceling so again changes nothing (one audit entry)
    again = cancel_subscription(doubles.deps, subscription_id=subscription_id,
                                at=CancelAt.PERIOD_END)
    assert again == canceled
    with uow_factory() as uow:
        scheduled = [e for e in uow.audit.list(target=subscription_id)
                     if e.action == "subscription.cancel_scheduled"]
    assert len(scheduled) == 1
    # When the day comes: the endings pass, then the renewals (the scheduler's order)
    clock.set(at_utc(2026, 4, 1, 6))
    ended = end_due_subscriptions(doubles.deps, as_of=APRIL_1)
    assert renew(uow_factory, clock, as_of=APRIL_1) == []
    # Then a final invoice instead of April's renewal, and nothing after
    assert [(inv.kind, inv.issued_on, inv.period) for inv in invoices_of(uow_factory,
                                                                          "acc_card")] == [
        (InvoiceKind.MONTHLY, MARCH_1, Period(MARCH_1, APRIL_1)),
        (InvoiceKind.FINAL, APRIL_1, Period(MARCH_1, APRIL_1))]
    assert [r.subscription_id for r in ended] == [subscription_id]
    assert end_due_subscriptions(doubles.deps, as_of=date(2026, 5, 1)) == []
    assert renew(uow_factory, clock, as_of=date(2026, 5, 1)) == []
    assert state(uow_factory, subscription_id) == ("ended", APRIL_1)


def test_a_subscription_canceling_at_the_term_end_is_still_renewed_before_it(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given a subscription canceled at the end of its first term (ends 04-01), not renewed yet
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    cancel_subscription(doubles.deps, subscription_id=subscription_id, at=CancelAt.PERIOD_END)
    # When the renewal of 03-01 runs (due before the end day)
    issued = renew(uow_factory, clock)
    # Then March is billed as usual
    assert len(issued) == 1
    assert state(uow_factory, subscription_id) == ("canceling", APRIL_1)


def test_canceling_now_ends_today_and_canceling_an_ended_subscription_is_refused(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    subscription_id = subscribe(uow_factory, account=card_account(), started_on=MARCH_1)
    renew(uow_factory, clock)
    cancel_subscription(doubles.deps, subscription_id=subscription_id, at=CancelAt.PERIOD_END)
    clock.set(at_utc(2026, 3, 21, 9))
    # When it is canceled now (it was canceling at the end of the term)
    ended = cancel_subscription(doubles.deps, subscription_id=subscription_id, at=CancelAt.NOW)
    # Then it ends today with a final invoice
    assert (ended.state, ended.ends_on) == (SubscriptionState.ENDED, MARCH_21)
    assert invoices_of(uow_factory, "acc_card")[-1].kind is InvoiceKind.FINAL
    # And canceling it again, either way, is refused
    for at in CancelAt:
        with pytest.raises(AlreadyEnded):
            cancel_subscription(doubles.deps, subscription_id=subscription_id, at=at)
