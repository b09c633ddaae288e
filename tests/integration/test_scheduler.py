"""The scheduler against real databases: batches, catch-up after downtime, and two schedulers
racing over the same due set on PostgreSQL without issuing anything twice."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from adapters.db.engine import create_engine, session_factory
from adapters.db.repositories import idempotency
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock, at_utc
from domain.records import Notification
from tests.handlers.doubles import make_doubles
from tests.handlers.world import card_account, subscribe
from tests.integration.conftest import clear_tables
from tests.integration.processes import race
from tests.integration.webhook_world import running_world
from workers.api_key_purge import expired_key_purge
from workers.scheduler import SchedulerSettings, relay_outbox, renew_due, tick


def test_a_subscription_missed_for_three_days_gets_its_invoice_dated_on_its_anchor_day(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a subscription anchored on 2026-03-01, billed once, and a scheduler down 03-31→04-03
    doubles = make_doubles(uow_factory=uow_factory, clock=clock)
    subscribe(uow_factory, account=card_account(), started_on=date(2026, 3, 1))
    renew_due(doubles.deps, as_of=date(2026, 3, 1))
    clock.set(at_utc(2026, 4, 3, 9))
    # When the scheduler ticks again on 04-03
    report = tick(doubles.deps, settings=SchedulerSettings())
    # Then the April invoice is issued, dated on its anchor day, and routed for collection
    with uow_factory() as uow:
        invoices = uow.invoices.list(account_id="acc_card")
    assert [(inv.issued_on, inv.period.start) for inv in invoices] == [
        (date(2026, 3, 1), date(2026, 3, 1)), (date(2026, 4, 1), date(2026, 4, 1))]
    assert report.issued == 1
    assert [m.target for m in doubles.dispatch.of("route_invoice")][-1] == invoices[-1].id


def test_a_tick_renews_in_batches_and_leaves_nothing_due(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given 7 subscriptions due today and a batch of 3
    doubles = make_doubles(uow_factory=uow_factory, clock=clock)
    for n in range(7):
        subscribe(uow_factory, account=card_account(f"acc_{n}"), started_on=clock.today())
    # When the scheduler renews
    issued = renew_due(doubles.deps, as_of=clock.today(), batch_size=3)
    # Then every one got its invoice and none is due any more
    assert issued == 7
    with uow_factory() as uow:
        assert uow.subscriptions.due(as_of=clock.today(), limit=10) == []


def test_a_tick_forgets_the_apis_expired_idempotency_keys_and_keeps_the_others(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given two keys used a day and a half ago (kept 24 hours) and one used an hour ago
    doubles = make_doubles(uow_factory=uow_factory, clock=clock)
    deps = replace(doubles.deps, forget_expired_api_keys=expired_key_purge(uow_factory))
    with uow_factory() as uow:
        for key, hours_ago in (("old-1", 36), ("old-2", 36), ("recent", 1)):
            idempotency.claim(uow.session, owner="api-key-hash", key=key, fingerprint="f",
                              now=clock.now() - timedelta(hours=hours_ago),
                              ttl=timedelta(hours=24), lease=timedelta(minutes=2))
        uow.commit()
    # When the scheduler ticks
    report = tick(deps, settings=SchedulerSettings())
    # Then the two expired keys are gone and the recent one stays
    assert report.forgotten_keys == 2
    assert tick(deps, settings=SchedulerSettings()).forgotten_keys == 0
    with uow_factory() as uow:
        kept = uow.session.execute(text("SELECT key FROM idempotency_keys")).scalars().all()
    assert kept == ["recent"]


def test_the_embedded_runtime_ticks_with_the_key_purge_wired(database_url: str) -> None:
    # Given the embedded system (its scheduler ticks on the runtime's deps) and an expired key
    running = running_world(database_url)
    world = next(running)
    try:
        with world.deps.uow_factory() as uow:
            idempotency.claim(uow.session, owner="api-key-hash", key="old", fingerprint="f",
                              now=world.clock.now() - timedelta(days=2),
                              ttl=timedelta(hours=24), lease=timedelta(minutes=2))
            uow.commit()
        # When it ticks
        report = tick(world.deps, settings=SchedulerSettings())
        # Then the key is forgotten
        assert report.forgotten_keys == 1
    finally:
        running.close()


def test_ticking_twice_the_same_day_issues_nothing_new(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a tick already ran today
    doubles = make_doubles(uow_factory=uow_factory, clock=clock)
    subscribe(uow_factory, account=card_account(), started_on=clock.today())
    tick(doubles.deps, settings=SchedulerSettings())
    # When another tick runs
    report = tick(doubles.deps, settings=SchedulerSettings())
    # Then it issued nothing
    assert report.issued == 0


# --- two schedulers, two processes, one PostgreSQL -------------------------------------------

SUBSCRIPTIONS = 60
AS_OF = date(2026, 6, 3)  # three monthly anchors each (04-01 … 06-01): a catch-up race too


def _scheduler_process(database_url: str, start: multiprocessing.synchronize.Event,
                       results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One scheduler in its own process: its own engine, clock and dispatcher."""
    engine = create_engine(database_url, pool_size=2)
    clock = ManualClock(at_utc(2026, 6, 3, 6))
    doubles = make_doubles(uow_factory=SqlUnitOfWorkFactory(session_factory(engine),
                                                            clock=clock), clock=clock)
    start.wait(timeout=30)
    renew_due(doubles.deps, as_of=AS_OF, batch_size=7)
    results.put([m.target for m in doubles.dispatch.of("route_invoice")])
    engine.dispose()


def test_the_relay_asks_again_for_messages_left_unsent_past_the_delay(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given three queued messages: one old, one recent, one old but sent
    doubles = make_doubles(uow_factory=uow_factory, clock=clock)
    with uow_factory() as uow:
        uow.accounts.add(account=card_account())
        for name, minutes_ago, sent in (("old", 10, False), ("new", 1, False),
                                        ("done", 10, True)):
            created = clock.now() - timedelta(minutes=minutes_ago)
            uow.outbox.add(notification=Notification(
                id=f"ntf_{name}", account_id="acc_card", kind="payment_receipt",
                dedupe_key=f"payment_receipt:{name}", to_address="billing@acme.example",
                subject="Receipt", body_text="Thank you", created_at=created,
                sent_at=created if sent else None))
        uow.commit()
    # When the relay runs with a five-minute delay
    relayed = relay_outbox(doubles.deps, older_than=timedelta(minutes=5))
    # Then only the old unsent one is asked for again (its drain was lost)
    assert relayed == 1
    assert [m.target for m in doubles.dispatch.of("send_notification")] == ["ntf_old"]


@pytest.mark.postgres
def test_two_schedulers_on_postgresql_issue_each_invoice_exactly_once(
        postgres_url: str, migrated_databases: Any) -> None:
    # Given 60 subscriptions due since 04-01 on a fresh PostgreSQL schema
    url = migrated_databases.postgresql(postgres_url)
    engine = create_engine(url, pool_size=2)
    clear_tables(engine)
    clock = ManualClock(at_utc(2026, 4, 1, 6))
    uow_factory = SqlUnitOfWorkFactory(session_factory(engine), clock=clock)
    for n in range(SUBSCRIPTIONS):
        subscribe(uow_factory, account=card_account(f"acc_{n:03}"), started_on=date(2026, 4, 1))
    # When two scheduler processes renew the same due set at the same moment
    routed = race(_scheduler_process, url)
    # Then every subscription has exactly its three invoices, each issued and routed once
    with uow_factory() as uow:
        invoices = uow.invoices.list()
    keys = Counter((inv.subscription_id, inv.period.start) for inv in invoices)
    assert len(invoices) == SUBSCRIPTIONS * 3
    assert set(keys.values()) == {1}
    all_routed = [*routed[0], *routed[1]]
    assert sorted(all_routed) == sorted(inv.id for inv in invoices)
    # And both processes finished cleanly (`race` checks: no duplicate-key crash either side)
    # And invoice numbers have no gap and no duplicate
    numbers = sorted(int(inv.number.rsplit("-", 1)[1]) for inv in invoices)
    assert numbers == list(range(1, len(invoices) + 1))
    engine.dispose()
