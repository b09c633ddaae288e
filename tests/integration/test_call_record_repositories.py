"""Call records and rate cards on SQLite and PostgreSQL: dedupe, SQL sums, billed once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.invoices import Period
from domain.money import Money
from domain.rate_cards import DestinationRate, RateCard, Rounding
from domain.usage import CallRecord, ClassUsage, Direction, cutoff
from tests.builders import a_subscription, an_account, an_invoice

OUT, TOLL_FREE = Direction.OUTBOUND, Direction.INBOUND_TOLL_FREE
NOW = datetime(2026, 4, 2, 12, tzinfo=UTC)
APRIL = cutoff(date(2026, 4, 1))


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def call(id: str, *, subscription: str = "sub_1", seconds: int = 60, day: int = 10,
         direction: Direction = OUT, destination: str = "+33612345678") -> CallRecord:
    return CallRecord(id, subscription, "+33198765432", direction, destination,
                      datetime(2026, 3, day, 9, tzinfo=UTC), seconds)


@pytest.fixture
def subscribed(uow_factory: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    with uow_factory() as uow:
        uow.accounts.add(account=an_account(id="acc_1"))
        for subscription_id in ("sub_1", "sub_2", "sub_3"):
            uow.subscriptions.add(subscription=a_subscription(id=subscription_id))
        uow.commit()
    return uow_factory


def store(factory: SqlUnitOfWorkFactory, records: list[CallRecord],
          prefixes: list[str] | None = None) -> int:
    with factory() as uow:
        new = uow.call_records.add_many(records=records,
                                        rate_prefixes=prefixes or [""] * len(records),
                                        received_at=NOW)
        uow.commit()
    return new


def issue_invoice(factory: SqlUnitOfWorkFactory, invoice_id: str, subscription_id: str,
                  number: str, month: int = 4) -> None:
    with factory() as uow:
        uow.invoices.add_with_lines(invoice=an_invoice(
            id=invoice_id, subscription_id=subscription_id, number=number,
            period=Period(date(2026, month, 1), date(2026, month + 1, 1)),
            issued_on=date(2026, month, 1), payment_reference=None))
        uow.commit()


def test_a_record_stored_twice_across_two_batches_is_new_once(
        subscribed: SqlUnitOfWorkFactory) -> None:
    # Given a first batch, when a second repeats one id (and one twice within itself)
    first = store(subscribed, [call("a"), call("b")])
    second = store(subscribed, [call("b", seconds=999), call("c"), call("c")])
    # Then b and the second c are duplicates, and b keeps what was first stored
    assert (first, second) == (2, 1)
    with subscribed() as uow:
        sums = uow.call_records.minutes_for(subscription_ids=["sub_1"], before=APRIL)
    assert sums == {"sub_1": [ClassUsage(OUT, "", 180, 3)]}


def test_calls_are_summed_in_sql_per_subscription_and_class_for_many_at_once(
        subscribed: SqlUnitOfWorkFactory) -> None:
    # Given calls of three subscriptions, in several classes, one of them in April
    store(subscribed, [call("a", seconds=61), call("b", seconds=59),
                       call("c", seconds=300, direction=TOLL_FREE),
                       call("d", subscription="sub_2", seconds=1),
                       call("e", subscription="sub_2", seconds=30, day=31),
                       call("late_march", subscription="sub_3", seconds=60, day=31)],
          ["+336", "+336", "", "", "+33", ""])
    with subscribed() as uow:
        sums = uow.call_records.minutes_for(subscription_ids=["sub_1", "sub_2", "sub_3"],
                                            before=datetime(2026, 3, 31, tzinfo=UTC))
    # Then: sub_1 +336: 61 + 59 = 120 s, 2 + 1 = 3 started minutes; toll-free 300 s, 5 min;
    # sub_2 default 1 s, 1 min; the calls of 03-31 09:00 are after `before`: sub_3 none
    assert {k: sorted(v) for k, v in sums.items()} == {
        "sub_1": sorted([ClassUsage(OUT, "+336", 120, 3), ClassUsage(TOLL_FREE, "", 300, 5)]),
        "sub_2": [ClassUsage(OUT, "", 1, 1)]}


def test_a_late_record_is_billed_by_the_next_invoice_exactly_once(
        subscribed: SqlUnitOfWorkFactory) -> None:
    # Given March's calls marked billed by the April invoice
    store(subscribed, [call("a"), call("b", subscription="sub_2")])
    issue_invoice(subscribed, "inv_apr", "sub_1", "PC-2026-000001")
    issue_invoice(subscribed, "inv_apr_2", "sub_2", "PC-2026-000002")
    with subscribed() as uow:
        marked = uow.call_records.mark_billed(
            invoices={"sub_1": "inv_apr", "sub_2": "inv_apr_2"}, before=APRIL)
        uow.commit()
    # When a March call arrives late, and May's invoice bills what is unbilled before May
    store(subscribed, [call("late", day=15, seconds=120)])
    issue_invoice(subscribed, "inv_may", "sub_1", "PC-2026-000003", month=5)
    may = cutoff(date(2026, 5, 1))
    with subscribed() as uow:
        due = uow.call_records.minutes_for(subscription_ids=["sub_1"], before=may)
        uow.call_records.mark_billed(invoices={"sub_1": "inv_may"}, before=may)
        uow.commit()
    with subscribed() as uow:
        after = uow.call_records.minutes_for(subscription_ids=["sub_1"], before=may)
        billed = uow.call_records.invoice_of(record_ids=["a", "b", "late"])
    # Then May bills only the late call, and nothing is left to bill twice
    assert marked == 2
    assert due == {"sub_1": [ClassUsage(OUT, "", 120, 2)]}
    assert after == {}
    assert billed == {"a": "inv_apr", "b": "inv_apr_2", "late": "inv_may"}


def test_a_stored_card_round_trips_and_re_rates_unbilled_calls(
        subscribed: SqlUnitOfWorkFactory) -> None:
    # Given calls stored before the card, one of them already billed
    store(subscribed, [call("mob", destination="+33612345678"),
                       call("fr", destination="+33145678901"),
                       call("tf", destination="+33800123456", direction=TOLL_FREE),
                       call("old", destination="+33612345678", day=1)])
    issue_invoice(subscribed, "inv_1", "sub_1", "PC-2026-000001")
    with subscribed() as uow:
        uow.call_records.mark_billed(invoices={"sub_1": "inv_1"},
                                     before=datetime(2026, 3, 2, tzinfo=UTC))
        uow.commit()
    card = RateCard(currency="EUR", default_outbound=eur(50), toll_free=None,
                    rounding=Rounding.PER_SECOND,
                    destinations=(DestinationRate("+33", "France", eur(10)),
                                  DestinationRate("+336", "France mobile", eur(20))))
    # When the card is stored
    with subscribed() as uow:
        uow.rate_cards.put(subscription_id="sub_1", card=card)
        uow.commit()
    with subscribed() as uow:
        read = uow.rate_cards.get(subscription_id="sub_1")
        none = uow.rate_cards.get(subscription_id="sub_2")
        sums = uow.call_records.minutes_for(subscription_ids=["sub_1"], before=APRIL)
    # Then it reads back the same, and the unbilled outbound calls are rated by it
    assert (read, none) == (card, None)
    assert sorted(sums["sub_1"]) == sorted([ClassUsage(OUT, "+33", 60, 1),
                                            ClassUsage(OUT, "+336", 60, 1),
                                            ClassUsage(TOLL_FREE, "", 60, 1)])


def test_only_existing_subscriptions_are_locked_for_ingestion(
        subscribed: SqlUnitOfWorkFactory) -> None:
    with subscribed() as uow:
        assert uow.call_records.lock_subscriptions(
            subscription_ids=["sub_2", "sub_nobody", "sub_1"]) == {"sub_1", "sub_2"}
