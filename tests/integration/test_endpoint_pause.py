"""An endpoint that fails is paused as a whole (a circuit breaker), on SQLite and PostgreSQL,
with real HTTP on 127.0.0.1: while paused, drains do not read its deliveries and its new events
ring no drain; the pause doubles with its failures in a row and a delivered event clears it;
what the pause carried past the retry window is given up."""

from __future__ import annotations

from datetime import timedelta
from random import Random

from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from adapters.event_sender import HttpEventSender
from domain.clock import ManualClock
from domain.delivery_backoff import GIVE_UP_AFTER
from domain.outgoing_events import DeliveryStatus, WebhookEndpoint
from tests.builders import an_account
from tests.e2e.event_receiver import FlakyReceiver, closed_port_url
from workers.handlers.event_delivery import DeliverySettings, deliver_due
from workers.handlers.events import emit

SETTINGS = DeliverySettings(timeout_seconds=0.3)


def _endpoint(id: str, url: str, clock: ManualClock, *events: str) -> WebhookEndpoint:
    return WebhookEndpoint(id=id, url=url, events=events or ("invoice.paid",),
                           secret=f"whsec_{id}", created_at=clock.now())


def _drain(uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    deliver_due(uow_factory=uow_factory, clock=clock, sender=HttpEventSender(),
                settings=SETTINGS, rand=Random(3))


def test_a_dead_endpoint_is_paused_its_events_ring_nothing_and_claims_skip_it(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    now = lambda: clock.now().timestamp()  # noqa: E731
    with FlakyReceiver(secret="whsec_we_live", now=now, faults=[]) as live:
        # Given a live endpoint and a dead one, and an account
        with uow_factory() as uow:
            uow.accounts.add(account=an_account(id="acme"))
            uow.accounts.add(account=an_account(id="bolt"))
            uow.webhook_endpoints.add(endpoint=_endpoint("we_live", live.url, clock))
            uow.webhook_endpoints.add(endpoint=_endpoint(
                "we_dead", closed_port_url(), clock, "invoice.paid", "invoice.issued"))
            emit(uow, account_id="acme", type="invoice.paid", data={}, occurred_at=clock.now())
            uow.commit()
        # When a drain finds the dead one refusing connections
        _drain(uow_factory, clock)
        # Then it is paused until its first retry (30 s, with jitter), one failure in a row
        with uow_factory() as uow:
            dead = uow.webhook_endpoints.get(endpoint_id="we_dead")
        assert dead is not None
        assert dead.failures == 1
        assert dead.paused_until is not None
        assert clock.now() + timedelta(seconds=15) <= dead.paused_until \
            <= clock.now() + timedelta(seconds=30)
        # And events only it wants ring no drain, while those the live one wants do
        with uow_factory() as uow:
            for n in range(20):
                emit(uow, account_id=("acme", "bolt")[n % 2], type="invoice.issued",
                     data={"n": n}, occurred_at=clock.now())
            uow.events.flush()  # stores them now (else at commit)
            assert uow.events.queued is False
            emit(uow, account_id="bolt", type="invoice.paid", data={}, occurred_at=clock.now())
            uow.events.flush()
            assert uow.events.queued is True
            uow.commit()
        # And while paused, a claim offers the live endpoint's deliveries only, though the
        # dead one's are due (bolt has nothing earlier pending there)
        with uow_factory() as uow:
            claimed = uow.events.claim_due(now=clock.now(), until=clock.now()
                                           + timedelta(minutes=1), limit=100)
            uow.rollback()
        assert {d.endpoint_id for d in claimed} == {"we_live"}
        _drain(uow_factory, clock)
        with uow_factory() as uow:
            assert not uow.events.has_due(now=clock.now())
            # When the pause has ended, its earliest events are due again
            assert uow.events.has_due(now=clock.now() + timedelta(seconds=31))
        # When it fails again: the pause doubles (its second failure in a row, though the
        # delivery tried now is bolt's first)
        clock.advance(seconds=31)
        _drain(uow_factory, clock)
        with uow_factory() as uow:
            dead = uow.webhook_endpoints.get(endpoint_id="we_dead")
            pending = [d for e in uow.events.listed(limit=100)
                       for d in uow.events.deliveries(event_id=e.id)
                       if d.endpoint_id == "we_dead" and d.status is DeliveryStatus.PENDING]
        assert dead is not None
        assert dead.failures == 2
        assert dead.paused_until is not None
        assert clock.now() + timedelta(seconds=30) <= dead.paused_until \
            <= clock.now() + timedelta(seconds=60)
        # And nothing is lost: every event to it is still pending, none given up
        assert len(pending) == 22
    assert len(live.events) == 2


def test_an_endpoint_that_answers_again_is_resumed_and_gets_its_backlog_in_order(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    now = lambda: clock.now().timestamp()  # noqa: E731
    with FlakyReceiver(secret="whsec_we_flaky", now=now, faults=["500", "500"]) as flaky:
        with uow_factory() as uow:
            uow.accounts.add(account=an_account(id="acme"))
            uow.webhook_endpoints.add(endpoint=_endpoint("we_flaky", flaky.url, clock))
            for n in range(5):
                emit(uow, account_id="acme", type="invoice.paid", data={"n": n},
                     occurred_at=clock.now())
            uow.commit()
        # When it answers 500 twice (two pauses), then 200
        for _ in range(3):
            _drain(uow_factory, clock)
            clock.advance(minutes=2)
        # Then it got all five, in sequence, and is no longer paused nor counted failing
        assert [e["sequence"] for e in flaky.events] == [1, 2, 3, 4, 5]
        with uow_factory() as uow:
            flaky_endpoint = uow.webhook_endpoints.get(endpoint_id="we_flaky")
        assert flaky_endpoint is not None
        assert (flaky_endpoint.failures, flaky_endpoint.paused_until) == (0, None)


def test_the_pause_gives_up_what_it_carried_past_the_retry_window(
        uow_factory: SqlUnitOfWorkFactory, clock: ManualClock) -> None:
    # Given a dead endpoint with events written four days ago and one written now
    with uow_factory() as uow:
        uow.accounts.add(account=an_account(id="acme"))
        uow.accounts.add(account=an_account(id="bolt"))
        uow.webhook_endpoints.add(endpoint=_endpoint("we_dead", closed_port_url(), clock))
        old = [emit(uow, account_id=account, type="invoice.paid", data={},
                    occurred_at=clock.now()) for account in ("acme", "bolt", "acme")]
        uow.commit()
    clock.advance(days=4)
    with uow_factory() as uow:
        recent = emit(uow, account_id="bolt", type="invoice.paid", data={},
                      occurred_at=clock.now())
        uow.commit()
    # When a drain fails on it
    _drain(uow_factory, clock)
    # Then the old ones are given up (listed for operators), the recent one is still retried
    with uow_factory() as uow:
        failed = {e.id for e in uow.events.listed(failed_only=True)}
        [still] = uow.events.deliveries(event_id=recent)
    assert failed == set(old)
    assert still.status is DeliveryStatus.PENDING
    assert still.created_at > clock.now() - GIVE_UP_AFTER
