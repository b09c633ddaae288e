"""The events outbox on SQLite and PostgreSQL: emitted in the caller's transaction, numbered
per account without gaps, fanned out to subscribed endpoints, claimed in order per
(endpoint, account)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock
from domain.outgoing_events import DeliveryStatus, EndpointStatus, EventType, WebhookEndpoint
from tests.builders import an_account
from workers.handlers.events import emit, emit_many


@contextmanager
def listening(engine: Engine, listener: Callable[..., None]) -> Iterator[None]:
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def an_endpoint(endpoint_id: str, clock: ManualClock, *events: str) -> WebhookEndpoint:
    return WebhookEndpoint(id=endpoint_id, url=f"http://127.0.0.1:9/{endpoint_id}",
                           events=events or ("invoice.paid", "payment.failed"),
                           secret=f"whsec_{endpoint_id}", created_at=clock.now())


@pytest.fixture
def world(uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> SqlUnitOfWorkFactory:
    with uow_factory() as uow:
        uow.accounts.add(account=an_account(id="acme"))
        uow.accounts.add(account=an_account(id="globex"))
        uow.webhook_endpoints.add(endpoint=an_endpoint("we_a", clock))
        uow.webhook_endpoints.add(endpoint=an_endpoint("we_b", clock, "payment.failed"))
        uow.commit()
    return uow_factory


def emit_one(uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, account: str,
             type: str = "payment.failed", *, commit: bool = True) -> str:
    with uow_factory() as uow:
        event_id = emit(uow, account_id=account, type=type, data={"n": 1}, occurred_at=clock.now())
        if commit:
            uow.commit()
    return event_id


def test_events_are_numbered_per_account_and_go_to_the_endpoints_subscribed_to_their_type(
        world: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given two accounts' events, one rolled back with the change it reported
    paid = emit_one(world, clock, "acme", "invoice.paid")
    emit_one(world, clock, "acme", commit=False)
    failed = emit_one(world, clock, "acme")
    other = emit_one(world, clock, "globex")
    with world() as uow:
        # Then each account counts from 1, the rollback leaving no gap
        numbers = {e.id: (e.account_id, e.sequence) for e in uow.events.listed()}
        assert numbers == {paid: ("acme", 1), failed: ("acme", 2), other: ("globex", 1)}
        # And each event went to the endpoints subscribed to its type only
        assert [d.endpoint_id for d in uow.events.deliveries(event_id=paid)] == ["we_a"]
        assert sorted(d.endpoint_id for d in uow.events.deliveries(event_id=failed)) == [
            "we_a", "we_b"]


def test_a_batch_of_events_continues_each_accounts_numbers_in_order(
        world: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given acme's first event emitted alone
    first = emit_one(world, clock, "acme")
    # When a batch emits two for acme and one for globex, interleaved (as renewals do)
    with world() as uow:
        batch = emit_many(uow, occurred_at=clock.now(), events=[
            ("acme", EventType.INVOICE_ISSUED, {"n": 2}),
            ("globex", EventType.PAYMENT_FAILED, {"n": 1}),
            ("acme", EventType.PAYMENT_FAILED, {"n": 3})])
        uow.commit()
    # Then acme goes on 2, 3 after its 1, globex starts at 1, and the one emitted alone
    # afterwards takes the next number: no gap, no repeat
    after = emit_one(world, clock, "acme")
    with world() as uow:
        numbers = {e.id: (e.account_id, e.sequence) for e in uow.events.listed()}
        assert numbers == {first: ("acme", 1), batch[0]: ("acme", 2),
                           batch[1]: ("globex", 1), batch[2]: ("acme", 3),
                           after: ("acme", 4)}
        # And the batch's events went to the endpoints subscribed to their types
        assert [d.endpoint_id for d in uow.events.deliveries(event_id=batch[0])] == []
        assert sorted(d.endpoint_id for d in uow.events.deliveries(event_id=batch[2])) == [
            "we_a", "we_b"]


def test_an_endpoint_added_later_or_disabled_receives_no_earlier_event(
        world: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    before = emit_one(world, clock, "acme")
    with world() as uow:
        uow.webhook_endpoints.add(endpoint=an_endpoint("we_late", clock, "payment.failed"))
        assert uow.webhook_endpoints.disable(endpoint_id="we_b")
        uow.commit()
    after = emit_one(world, clock, "acme")
    with world() as uow:
        assert sorted(d.endpoint_id for d in uow.events.deliveries(event_id=before)) == [
            "we_a", "we_b"]
        assert sorted(d.endpoint_id for d in uow.events.deliveries(event_id=after)) == [
            "we_a", "we_late"]
        assert uow.webhook_endpoints.get(endpoint_id="we_b").status is EndpointStatus.DISABLED
        # A disabled endpoint's pending deliveries are not offered
        claimed = uow.events.claim_due(now=clock.now(), until=clock.now() + timedelta(minutes=5),
                                       limit=100)
        assert "we_b" not in {d.endpoint_id for d in claimed}


def test_a_claim_offers_each_endpoint_an_accounts_earliest_pending_event_only(
        world: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given three failed payments of acme and one of globex
    acme = [emit_one(world, clock, "acme") for _ in range(3)]
    globex = emit_one(world, clock, "globex")
    lease = clock.now() + timedelta(minutes=5)
    with world() as uow:
        # When a drain claims
        first = uow.events.claim_due(now=clock.now(), until=lease, limit=100)
        uow.commit()
    # Then each endpoint gets acme's first event and globex's, signed data included
    assert sorted((d.endpoint_id, d.event_id) for d in first) == sorted(
        [("we_a", acme[0]), ("we_b", acme[0]), ("we_a", globex), ("we_b", globex)])
    assert all(d.body["id"] == d.event_id and d.secret.startswith("whsec_") for d in first)
    with world() as uow:
        # And a second drain meanwhile gets nothing: the heads are leased, the rest wait
        assert uow.events.claim_due(now=clock.now(), until=lease, limit=100) == []
        # When we_a's acme event fails (backed off an hour) and the rest is delivered
        failing = next(d for d in first if d.endpoint_id == "we_a" and d.event_id == acme[0])
        uow.events.record_failure(delivery_id=failing.id, error="HTTP 500",
                                  next_attempt_at=clock.now() + timedelta(hours=1))
        uow.events.mark_delivered(delivery_ids=[d.id for d in first if d is not failing],
                                  at=clock.now())
        uow.commit()
    with world() as uow:
        second = uow.events.claim_due(now=clock.now(), until=lease, limit=100)
        uow.commit()
    # Then we_b moves on to acme's second event; we_a's acme events wait behind the failure
    assert [(d.endpoint_id, d.event_id) for d in second] == [("we_b", acme[1])]
    clock.advance(hours=1)
    with world() as uow:
        third = uow.events.claim_due(now=clock.now(), until=clock.now() + timedelta(minutes=5),
                                     limit=100)
    assert ("we_a", acme[0]) in {(d.endpoint_id, d.event_id) for d in third}


def test_a_delivery_given_up_is_listed_as_failed_and_resend_starts_it_over(
        world: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    event_id = emit_one(world, clock, "acme", "invoice.paid")
    with world() as uow:
        [delivery] = uow.events.claim_due(now=clock.now(), until=clock.now(), limit=10)
        uow.events.record_failure(delivery_id=delivery.id, error="timed out",
                                  next_attempt_at=None)
        uow.commit()
    with world() as uow:
        assert [e.id for e in uow.events.listed(failed_only=True)] == [event_id]
        assert [e.id for e in uow.events.listed(account_id="globex")] == []
        assert not uow.events.has_due(now=clock.now() + timedelta(days=30))
        assert uow.events.resend(event_id=event_id, now=clock.now()) == 1
        uow.commit()
    with world() as uow:
        [again] = uow.events.deliveries(event_id=event_id)
        assert (again.status, again.attempts) == (DeliveryStatus.PENDING, 0)
        assert uow.events.has_due(now=clock.now())
        assert uow.events.listed(failed_only=True) == []


def test_a_commit_that_queued_deliveries_rings_once_and_a_rollback_never(
        engine: object, clock: ManualClock, world: SqlUnitOfWorkFactory) -> None:
    rings: list[str] = []
    world.on_events_committed = lambda: rings.append("ring")
    emit_one(world, clock, "acme", commit=False)
    assert rings == []
    emit_one(world, clock, "acme")
    with world() as uow:  # a commit without events
        uow.accounts.update_standing(account_id="acme", standing=an_account().standing)
        uow.commit()
    assert rings == ["ring"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_emitters_of_one_account_get_gapless_distinct_numbers(
        world: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given 8 threads each emitting 15 events for one account, every third rolled back
    start = threading.Barrier(8)

    def emitter(worker: int) -> None:
        start.wait()
        for index in range(15):
            emit_one(world, clock, "acme", commit=(worker + index) % 3 != 0)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(emitter, range(8)))
    # Then the committed events are numbered 1..N with no gap and no repeat
    with world() as uow:
        numbers = sorted(e.sequence for e in uow.events.listed(account_id="acme", limit=500))
    committed = sum(1 for w in range(8) for i in range(15) if (w + i) % 3 != 0)
    assert numbers == list(range(1, committed + 1))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_drains_never_claim_the_same_delivery(
        world: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    for index in range(60):
        with world() as uow:
            uow.accounts.add(account=an_account(id=f"acc_{index}"))
            uow.commit()
        emit_one(world, clock, f"acc_{index}")
    start = threading.Barrier(4)

    def drain(_: int) -> list[str]:
        start.wait()
        with world() as uow:
            claimed = uow.events.claim_due(now=clock.now(),
                                           until=clock.now() + timedelta(minutes=5), limit=40)
            uow.commit()
        return [d.id for d in claimed]

    with ThreadPoolExecutor(4) as pool:
        claims = [ids for ids in pool.map(drain, range(4))]
    every = [delivery for ids in claims for delivery in ids]
    assert len(every) == len(set(every))  # nobody took a delivery another drain holds
    # And what they left (a claim that waited for another's locks skips its rows) is
    # claimed by the next drains: 60 events times 2 endpoints, each once in all
    while rest := _claim(world, clock):
        every += rest
    assert len(every) == len(set(every)) == 120


def _claim(world: SqlUnitOfWorkFactory, clock: ManualClock) -> list[str]:
    with world() as uow:
        claimed = uow.events.claim_due(now=clock.now(), until=clock.now() + timedelta(minutes=5),
                                       limit=40)
        uow.commit()
    return [d.id for d in claimed]


def test_a_transactions_events_are_stored_together_at_commit_and_read_back_before(
        world: SqlUnitOfWorkFactory, clock: ManualClock, engine: Engine) -> None:
    # Given a transaction emitting 50 events over both accounts (a batch of outcomes)
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    with world() as uow, listening(engine, count):
        emit_many(uow, occurred_at=clock.now(), events=[
            (("acme", "globex")[n % 2], EventType.PAYMENT_FAILED, {"n": n})
            for n in range(50)])
        uow.commit()
    # Then they were stored in a fixed number of statements (the numbers, the events, the
    # deliveries), not two or three per event
    writes = [s.split()[0].upper() for s in statements
              if s.split()[0].upper() in ("INSERT", "UPDATE")]
    assert writes == ["INSERT", "INSERT", "INSERT"]
    with world() as uow:
        numbers = sorted((e.account_id, e.sequence) for e in uow.events.listed(limit=100))
        assert numbers == sorted([("acme", n) for n in range(1, 26)]
                                 + [("globex", n) for n in range(1, 26)])
    # And an event written is seen by a read in its own transaction, and gone with it when
    # the transaction rolls back
    with world() as uow:
        written = emit(uow, account_id="acme", type="invoice.paid", data={},
                       occurred_at=clock.now())
        assert uow.events.get(event_id=written) is not None
        uow.rollback()
        uow.commit()
    with world() as uow:
        assert uow.events.get(event_id=written) is None
        following = emit(uow, account_id="acme", type="invoice.paid", data={},
                         occurred_at=clock.now())
        uow.events.flush()
        assert uow.events.get(event_id=following).sequence == 26  # type: ignore[union-attr]
