"""The delivery drain against real HTTP receivers on 127.0.0.1, with an injected clock and
jitter: a failing endpoint backs off alone, the other receives everything in the same drain."""

from __future__ import annotations

from datetime import timedelta
from random import Random

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from adapters.event_sender import HttpEventSender
from domain.clock import ManualClock
from domain.outgoing_events import DeliveryStatus, WebhookEndpoint
from tests.builders import an_account
from tests.e2e.event_receiver import FlakyReceiver
from workers.handlers.event_delivery import DeliverySettings, deliver_due
from workers.handlers.events import emit

SETTINGS = DeliverySettings(timeout_seconds=0.3)


def test_a_timing_out_endpoint_backs_off_alone_while_the_other_gets_every_event(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    now = lambda: clock.now().timestamp()  # noqa: E731
    with FlakyReceiver(secret="whsec_slow", now=now, faults=["slow"] * 2,
                       slow_seconds=0.6) as slow, \
            FlakyReceiver(secret="whsec_fine", now=now, faults=[]) as fine:
        # Given two endpoints, one answering too late, and three events of one account
        with uow_factory() as uow:
            uow.accounts.add(account=an_account(id="acme"))
            for name, receiver in (("slow", slow), ("fine", fine)):
                uow.webhook_endpoints.add(endpoint=WebhookEndpoint(
                    id=f"we_{name}", url=receiver.url, events=("invoice.paid",),
                    secret=f"whsec_{name}", created_at=clock.now()))
            events = [emit(uow, account_id="acme", type="invoice.paid", data={"n": n},
                           occurred_at=clock.now()) for n in range(3)]
            uow.commit()
        # When a drain runs
        report = deliver_due(uow_factory=uow_factory, clock=clock, sender=HttpEventSender(),
                             settings=SETTINGS, rand=Random(7))
        # Then the fine endpoint got all three, in sequence; the slow one was tried once
        assert [e["sequence"] for e in fine.events] == [1, 2, 3]
        assert (report.delivered, report.failed) == (3, 1)
        with uow_factory() as uow:
            [head] = [d for d in uow.events.deliveries(event_id=events[0])
                      if d.endpoint_id == "we_slow"]
        assert head.status is DeliveryStatus.PENDING
        assert head.attempts == 1
        assert "timed out" in head.last_error
        assert head.next_attempt_at is not None
        assert clock.now() + timedelta(seconds=15) <= head.next_attempt_at <= \
            clock.now() + timedelta(seconds=30)
        # When its retry is due (the clock moved; nobody slept) and it fails once more,
        # then answers in time
        clock.advance(seconds=31)
        deliver_due(uow_factory=uow_factory, clock=clock, sender=HttpEventSender(),
                    settings=SETTINGS, rand=Random(7))
        clock.advance(minutes=2)
        deliver_due(uow_factory=uow_factory, clock=clock, sender=HttpEventSender(),
                    settings=SETTINGS, rand=Random(7))
    # Then it too has every event once, in sequence (the receiver dropped the repeat)
    assert [e["sequence"] for e in slow.events] == [1, 2, 3]
    assert len(slow.requests) == 5  # event 1 three times (twice too late), then 2 and 3
    with uow_factory() as uow:
        assert not uow.events.has_due(now=clock.now() + timedelta(days=4))
