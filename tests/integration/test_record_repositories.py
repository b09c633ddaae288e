"""The outbox, audit log, unmatched wires and webhook events on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from adapters.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from domain.clock import at_utc
from domain.errors import NotFound
from domain.records import AuditEntry, Notification, UnmatchedTransfer, WebhookEvent
from tests.builders import an_account, eur

AT = at_utc(2026, 3, 1, 9)


def a_notification(**overrides: object) -> Notification:
    notification = Notification(
        id="ntf_1", account_id="acc_1", kind="payment_failed", dedupe_key="payment_failed:att_1",
        to_address="billing@acme.example", subject="Votre paiement a échoué",
        body_text="Bonjour…", body_html="<p>Bonjour…</p>", created_at=AT)
    return replace(notification, **overrides)


def _queue_receipts(uow: SqlUnitOfWork, count: int) -> None:
    """`count` notices ntf_000, ntf_001…, one millisecond apart, oldest first."""
    for index in range(count):
        uow.outbox.add(notification=a_notification(
            id=f"ntf_{index:03d}", dedupe_key=f"receipt:{index}",
            created_at=AT + timedelta(milliseconds=index)))


@pytest.fixture
def with_account(uow_factory: SqlUnitOfWorkFactory) -> SqlUnitOfWorkFactory:
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        uow.commit()
    return uow_factory


def test_a_notice_is_queued_once_and_leaves_the_outbox_when_sent(
        with_account: SqlUnitOfWorkFactory) -> None:
    with with_account() as uow:
        # Given a queued notice
        assert uow.outbox.add(notification=a_notification()) is True
        # When the same notice is queued again under another id
        again = uow.outbox.add(notification=a_notification(id="ntf_2"))
        # Then it is not queued twice
        assert again is False
        assert uow.outbox.unsent(limit=10) == [a_notification()]
        # And a failed then successful delivery is counted and clears it
        uow.outbox.record_failure(notification_id="ntf_1")
        uow.outbox.mark_sent(notification_id="ntf_1", at=AT + timedelta(minutes=1))
        assert uow.outbox.unsent(limit=10) == []
        assert [n.id for n in uow.outbox.list_all()] == ["ntf_1"]
        assert uow.outbox.get(notification_id="ntf_1") == a_notification(
            sent_at=AT + timedelta(minutes=1), attempts=2)
        with pytest.raises(NotFound):
            uow.outbox.mark_sent(notification_id="nope", at=AT)


def test_notices_that_keep_failing_stop_being_offered(with_account: SqlUnitOfWorkFactory) -> None:
    with with_account() as uow:
        uow.outbox.add(notification=a_notification(attempts=5))
        assert uow.outbox.unsent(limit=10, max_attempts=5) == []
        assert len(uow.outbox.unsent(limit=10, max_attempts=6)) == 1


def test_a_drain_claims_the_oldest_unsent_notices_and_no_other_drain_gets_them(
        with_account: SqlUnitOfWorkFactory) -> None:
    # Given three queued notices, one sent already and one tried too often
    with with_account() as uow:
        _queue_receipts(uow, 3)
        uow.outbox.add(notification=a_notification(id="ntf_sent", dedupe_key="receipt:sent",
                                                   sent_at=AT))
        uow.outbox.add(notification=a_notification(id="ntf_tired", dedupe_key="receipt:t",
                                                   attempts=10))
        uow.commit()
    lease = AT + timedelta(minutes=2)

    def claim(now: object, limit: int = 10) -> list[str]:
        with with_account() as uow:
            claimed = uow.outbox.claim_unsent(now=now, until=lease,  # type: ignore[arg-type]
                                              limit=limit, max_attempts=10)
            uow.commit()
        return [n.id for n in claimed]

    # When a drain claims two, and another drain claims while the first holds them
    assert claim(AT, limit=2) == ["ntf_000", "ntf_001"]
    assert claim(AT) == ["ntf_002"]
    # Then nothing is left to claim until the lease is over
    assert claim(AT + timedelta(minutes=1)) == []
    # And what was sent leaves the outbox for good, in one statement
    with with_account() as uow:
        uow.outbox.mark_sent_many(notification_ids=["ntf_000", "ntf_001"], at=AT)
        uow.outbox.mark_sent_many(notification_ids=[], at=AT)
        uow.commit()
    with with_account() as uow:
        assert uow.outbox.get(notification_id="ntf_000") == a_notification(
            id="ntf_000", dedupe_key="receipt:0", created_at=AT, sent_at=AT, attempts=1)
    # And what was not is claimable again once the lease is over
    assert claim(lease) == ["ntf_002"]


def test_audit_entries_round_trip_in_order(uow_factory: SqlUnitOfWorkFactory) -> None:
    entries = [AuditEntry(at=AT, actor="operator:ana", action="requeue", target="inv_1",
                          reason="customer called", details={"attempt": "att_2", "n": 2}),
               AuditEntry(at=AT, actor="system", action="terminate", target="acc_1")]
    with uow_factory() as uow:
        for audit in entries:
            uow.audit.add(entry=audit)
        uow.commit()
    with uow_factory() as uow:
        assert uow.audit.list() == entries
        assert uow.audit.list(target="inv_1") == entries[:1]


def test_unmatched_transfers_wait_for_review_until_resolved(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    transfer = UnmatchedTransfer(id="wire_1", reference="RF00UNKNOWN", amount=eur(12000),
                                 received_on=date(2026, 3, 3))
    with uow_factory() as uow:
        uow.unmatched_transfers.add(transfer=transfer)
        assert uow.unmatched_transfers.list() == [transfer]
        uow.unmatched_transfers.resolve(transfer_id="wire_1", note="refunded to sender")
        assert uow.unmatched_transfers.list() == []
        assert uow.unmatched_transfers.get(transfer_id="wire_1") == replace(
            transfer, resolved=True, note="refunded to sender")


def test_a_webhook_event_is_stored_once_by_provider_and_id(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    event = WebhookEvent(provider="stripe", event_id="evt_1", type="payment_intent.succeeded",
                         payload={"data": {"object": {"id": "pi_1", "amount": 11179}}},
                         received_at=AT)
    with uow_factory() as uow:
        assert uow.webhook_events.add(event=event) is True
        assert uow.webhook_events.add(event=event) is False
        # The same id from another provider is another event
        assert uow.webhook_events.add(event=replace(event, provider="gocardless")) is True
        uow.webhook_events.mark_processed(provider="gocardless", event_id="evt_1", at=AT)
        assert uow.webhook_events.unprocessed(received_before=AT + timedelta(seconds=1),
                                              limit=10) == [event]
        assert uow.webhook_events.get(provider="stripe", event_id="evt_1") == event


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_drains_claiming_at_the_same_instant_never_share_a_notice(
        with_account: SqlUnitOfWorkFactory) -> None:
    # Given 200 queued notices
    with with_account() as uow:
        _queue_receipts(uow, 200)
        uow.commit()
    start = threading.Barrier(4)

    def drain() -> list[str]:
        claimed: list[str] = []
        start.wait()
        while True:
            batch = _claim_now(with_account, AT + timedelta(minutes=2), limit=7)
            if not batch:
                return claimed
            claimed += [n.id for n in batch]

    # When four drains claim in small batches at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: drain(), range(4)))
    # Then every notice was claimed exactly once
    claimed = [notice for result in results for notice in result]
    assert sorted(claimed) == [f"ntf_{index:03d}" for index in range(200)]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_drain_claims_past_the_notices_another_drain_holds_without_waiting(
        with_account: SqlUnitOfWorkFactory) -> None:
    # Given 10 queued notices, 5 of them claimed by a drain whose transaction is still open
    with with_account() as uow:
        _queue_receipts(uow, 10)
        uow.commit()
    until = AT + timedelta(minutes=2)
    pool = ThreadPoolExecutor(max_workers=1)
    with with_account() as holding:
        held = holding.outbox.claim_unsent(now=AT, until=until, limit=5, max_attempts=10)
        # When a second drain claims meanwhile (waiting for the first drain's row locks is
        # how two drains picking overlapping rows in different orders deadlocked)
        claiming = pool.submit(_claim_now, with_account, until)
        try:
            other = claiming.result(timeout=10)
        finally:
            holding.commit()  # lets a claim that waited finish (the test fails, not hangs)
            pool.shutdown()
    # Then it took the other 5 at once
    assert sorted(n.id for n in held + other) == [f"ntf_{index:03d}" for index in range(10)]


def _claim_now(uow_factory: SqlUnitOfWorkFactory, until: datetime,
               limit: int = 5) -> list[Notification]:
    """One drain's claim at AT, in a transaction of its own."""
    with uow_factory() as uow:
        claimed = uow.outbox.claim_unsent(now=AT, until=until, limit=limit, max_attempts=10)
        uow.commit()
    return claimed


def test_a_released_notice_starts_over_and_a_sent_one_is_left_alone(
        with_account: SqlUnitOfWorkFactory) -> None:
    # Given a notice given up after ten tries, and one sent
    with with_account() as uow:
        uow.outbox.add(notification=a_notification(id="ntf_tired", attempts=10))
        uow.outbox.add(notification=a_notification(id="ntf_sent", dedupe_key="receipt:sent",
                                                   sent_at=AT, attempts=1))
        uow.commit()
    with with_account() as uow:
        assert [n.id for n in uow.outbox.unsent(limit=10, min_attempts=10)] == ["ntf_tired"]
        assert uow.outbox.claim_unsent(now=AT, until=AT + timedelta(hours=1), limit=10,
                                       max_attempts=10) == []
        # When both are released
        uow.outbox.release(notification_ids=["ntf_tired", "ntf_sent"])
        uow.commit()
    with with_account() as uow:
        # Then the given-up one is claimable again with no tries, the sent one unchanged
        claimed = uow.outbox.claim_unsent(now=AT, until=AT + timedelta(hours=1), limit=10,
                                          max_attempts=10)
        assert [(n.id, n.attempts) for n in claimed] == [("ntf_tired", 0)]
        assert uow.outbox.get(notification_id="ntf_sent") == a_notification(
            id="ntf_sent", dedupe_key="receipt:sent", sent_at=AT, attempts=1)
        assert uow.outbox.unsent(limit=10, min_attempts=1) == []
