"""The outbox, audit log, unmatched wires and webhook events on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
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
