"""The outbox drain on SQLite and PostgreSQL: every queued message sent once, in batches; a
mail server that refuses stops the drain and loses nothing."""

from __future__ import annotations

from datetime import timedelta

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from adapters.notifier import RecordingNotifier
from domain.clock import ManualClock
from domain.ports_notify import NotificationError
from domain.records import Notification
from tests.builders import an_account
from tests.handlers.doubles import Doubles
from workers.handlers.notifications import CLAIM_LEASE, DrainReport, send_pending


def _queue(uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, count: int) -> list[str]:
    with uow_factory() as uow:
        uow.accounts.add(account=an_account())
        for index in range(count):
            uow.outbox.add(notification=Notification(
                id=f"ntf_{index:03d}", account_id="acc_1", kind="payment_receipt",
                dedupe_key=f"payment_receipt:att_{index}", to_address="billing@acme.example",
                subject=f"Receipt {index}", body_text="Thank you",
                created_at=clock.now() + timedelta(seconds=index)))
        uow.commit()
    return [f"payment_receipt:att_{index}" for index in range(count)]


class RefusingNotifier(RecordingNotifier):
    """Refuses the messages whose key is in `refuse` (a mail server down for them)."""

    def __init__(self, refuse: set[str]) -> None:
        super().__init__()
        self.refuse = refuse

    def send(self, *, to: str, subject: str, text: str, html: str | None = None,
             idempotency_key: str) -> None:
        if idempotency_key in self.refuse:
            raise NotificationError(f"451 try later ({idempotency_key})")
        super().send(to=to, subject=subject, text=text, html=html,
                     idempotency_key=idempotency_key)


def test_a_drain_sends_every_queued_message_once_oldest_first_in_batches(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given 25 queued messages
    keys = _queue(uow_factory, clock, 25)
    notifier = RecordingNotifier()
    # When a drain runs in batches of 10, and a second drain after it
    report = send_pending(doubles.deps, notifier=notifier, batch_size=10)
    again = send_pending(doubles.deps, notifier=notifier, batch_size=10)
    # Then each was sent once, oldest first, and marked sent
    assert (report, again) == (DrainReport(sent=25, more=False), DrainReport(sent=0, more=False))
    assert [m.idempotency_key for m in notifier.messages] == keys
    with uow_factory() as uow:
        assert uow.outbox.unsent(limit=100) == []


def test_a_long_backlog_is_drained_in_several_turns(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given more messages than one drain takes
    _queue(uow_factory, clock, 25)
    notifier = RecordingNotifier()
    # When drains of at most two batches of 10 run
    turns = [send_pending(doubles.deps, notifier=notifier, batch_size=10, max_batches=2)
             for _ in range(2)]
    # Then the first says more remain, the second finishes
    assert turns == [DrainReport(sent=20, more=True), DrainReport(sent=5, more=False)]
    assert len(notifier.messages) == 25


def test_a_refused_message_stops_the_drain_and_is_tried_again_after_its_lease(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given five queued messages, and a mail server refusing the third
    keys = _queue(uow_factory, clock, 5)
    notifier = RefusingNotifier(refuse={keys[2]})
    # When a drain runs
    report = send_pending(doubles.deps, notifier=notifier)
    # Then the two before it are sent and the drain stops there
    assert report == DrainReport(sent=2, more=False)
    assert [m.idempotency_key for m in notifier.messages] == keys[:2]
    # And nothing is sent again while the batch is still claimed
    notifier.refuse.clear()
    assert send_pending(doubles.deps, notifier=notifier).sent == 0
    # When the lease is over and the server accepts again
    clock.advance(seconds=CLAIM_LEASE.total_seconds())
    assert send_pending(doubles.deps, notifier=notifier).sent == 3
    # Then every message was sent exactly once, the refused one counted as two tries
    assert sorted(m.idempotency_key for m in notifier.messages) == sorted(keys)
    with uow_factory() as uow:
        refused = uow.outbox.get(notification_id="ntf_002")
    assert refused is not None
    assert refused.attempts == 2


class SlowNotifier(RecordingNotifier):
    """A mail server taking `seconds` per message, on the test's clock."""

    def __init__(self, clock: ManualClock, seconds: float) -> None:
        super().__init__()
        self.clock, self.seconds = clock, seconds

    def send(self, *, to: str, subject: str, text: str, html: str | None = None,
             idempotency_key: str) -> None:
        self.clock.advance(seconds=self.seconds)
        super().send(to=to, subject=subject, text=text, html=html,
                     idempotency_key=idempotency_key)


def test_a_slow_mail_server_never_lets_a_message_outlive_its_claim(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock, doubles: Doubles) -> None:
    # Given ten queued messages and a mail server taking a fifth of the lease per message
    keys = _queue(uow_factory, clock, 10)
    notifier = SlowNotifier(clock, seconds=CLAIM_LEASE.total_seconds() / 5)
    # When a drain runs
    report = send_pending(doubles.deps, notifier=notifier)
    # Then it starts no send past half its lease, and says more remain
    assert report == DrainReport(sent=3, more=True)
    # And another drain during the lease takes nothing of that batch (the tail is still
    # claimed), while a drain after it sends the rest, each message once
    assert send_pending(doubles.deps, notifier=notifier).sent == 0
    clock.advance(seconds=CLAIM_LEASE.total_seconds())
    while send_pending(doubles.deps, notifier=notifier).more:
        clock.advance(seconds=CLAIM_LEASE.total_seconds())
    assert [m.idempotency_key for m in notifier.messages] == keys
