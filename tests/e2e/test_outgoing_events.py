"""Outgoing events end to end: a scenario through the real system (renewals, the actors, the
simulators over HTTP, dunning) with two business endpoints: one real receiver on 127.0.0.1
that answers 500 twice and once too late, and one that is down for the whole run."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters.db.engine import create_engine, session_factory
from adapters.db.migrate import upgrade
from adapters.db.unit_of_work import SqlUnitOfWorkFactory
from domain.clock import ManualClock, SystemClock, at_utc
from domain.delivery_backoff import GIVE_UP_AFTER
from domain.outgoing_events import EVENT_TYPES, DeliveryStatus, WebhookEndpoint
from tests.e2e.event_receiver import FlakyReceiver, closed_port_url
from workers.config import Settings
from workers.simulate.runner import run_scenario
from workers.simulate.scenario import parse_scenario

PLAN = {"interval": "monthly", "user_price": 2000, "number_price": 500}
SCENARIO = {
    "start": "2026-01-15", "until": "2026-02-22",
    "accounts": [
        {"id": "acme", "name": "Acme SAS", "language": "fr", "currency": "EUR", "plan": PLAN,
         "users": 2, "numbers": 1,
         "payment_method": {"type": "card", "card": "pm_card_chargeDeclinedInsufficientFunds"}},
        {"id": "lost", "name": "Lost Card GmbH", "language": "en", "currency": "EUR",
         "plan": PLAN, "users": 1, "numbers": 1,
         "payment_method": {"type": "card", "card": "pm_card_chargeDeclinedLostCard"}}],
    # Acme's card is refused (soft) until the customer gives a new one, after termination
    "events": [{"on": "2026-02-20", "account": "acme",
                "payment_method": {"type": "card", "card": "pm_card_visa"}}],
}


def _register(url: str, endpoints: list[WebhookEndpoint]) -> SqlUnitOfWorkFactory:
    upgrade(url)
    factory = SqlUnitOfWorkFactory(session_factory(create_engine(url)), clock=SystemClock())
    with factory() as uow:
        for endpoint in endpoints:
            uow.webhook_endpoints.add(endpoint=endpoint)
        uow.commit()
    return factory


def test_events_reach_a_flaky_receiver_once_each_in_order_and_a_dead_one_blocks_nothing(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    # The scenario's clock: the sender signs with it, the receiver checks against it
    clock = ManualClock(at_utc(2026, 1, 1))
    with FlakyReceiver(secret="whsec_good", now=lambda: clock.now().timestamp(),
                       faults=["500", "500", "slow"]) as good:
        # Given two endpoints subscribed to everything: a flaky receiver and a dead one
        factory = _register(url, [
            WebhookEndpoint(id="we_good", url=good.url, events=tuple(sorted(EVENT_TYPES)),
                            secret="whsec_good", created_at=SystemClock().now()),
            WebhookEndpoint(id="we_dead", url=closed_port_url(),
                            events=tuple(sorted(EVENT_TYPES)), secret="whsec_dead",
                            created_at=SystemClock().now())])
        # When the scenario runs (the sender gives up on an answer after 0.5 s)
        run_scenario(parse_scenario(SCENARIO), database_url=url, clock=clock,
                     settings=Settings(event_delivery_timeout_seconds=0.5))
    with factory() as uow:
        written = sorted(uow.events.listed(limit=1000), key=lambda e: (e.account_id,
                                                                       e.sequence))
        dead = [d for e in written for d in uow.events.deliveries(event_id=e.id)
                if d.endpoint_id == "we_dead"]
        live = [d for e in written for d in uow.events.deliveries(event_id=e.id)
                if d.endpoint_id == "we_good"]
    # Then every event written reached the good receiver, verified, exactly once as it saw
    # them, though it answered 500 twice and timed out once (three more requests)
    assert [e["id"] for e in good.events] == list(dict.fromkeys(e["id"] for e in good.events))
    assert sorted(e["id"] for e in good.events) == sorted(e.id for e in written)
    assert len(good.requests) == len(written) + 3
    assert [status for _, status in good.requests].count(500) == 2
    assert all(d.status is DeliveryStatus.DELIVERED for d in live)
    # And each account's events arrived in sequence, numbered 1, 2, 3… without gaps
    arrived: dict[str, list[int]] = defaultdict(list)
    for event in good.events:
        arrived[event["account"]].append(event["sequence"])
    assert arrived == {account: list(range(1, len(numbers) + 1))
                       for account, numbers in arrived.items()}
    assert set(arrived) == {"acme", "lost"}
    # And the dead endpoint got nothing and held nothing up: what it was sent more than three
    # days before the end is given up (listed for operators), the rest is still retried
    assert dead
    assert not any(d.status is DeliveryStatus.DELIVERED for d in dead)
    cutoff = clock.now() - GIVE_UP_AFTER
    assert all(d.status is DeliveryStatus.FAILED for d in dead if d.created_at < cutoff
               - timedelta(days=1))
    assert all(d.status is DeliveryStatus.PENDING for d in dead if d.created_at > cutoff)
    assert any(d.attempts > 0 and "refused" in d.last_error for d in dead)
    with factory() as uow:
        given_up = {e.id for e in uow.events.listed(failed_only=True, limit=1000)}
    assert given_up == {d.event_id for d in dead if d.status is DeliveryStatus.FAILED}
    _the_story_is_told(by_type(good.events, "acme"), by_type(good.events, "lost"))


def by_type(events: list[dict[str, Any]], account: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e["type"], e["data"]["object"]) for e in events if e["account"] == account]


def _the_story_is_told(acme: list[tuple[str, dict[str, Any]]],
                       lost: list[tuple[str, dict[str, Any]]]) -> None:
    kinds = [kind for kind, _ in acme]
    # A soft decline: reported with its class, code and next retry
    first_failure = next(body for kind, body in acme if kind == "payment.failed")
    assert first_failure["failure"]["class"] == "soft"
    assert first_failure["failure"]["code"] == "insufficient_funds"
    assert first_failure["next_retry_at"] is not None
    # Dunning moves the account down, paying everything brings it back
    standings = [(body["from"], body["to"]) for kind, body in acme
                 if kind == "account.standing_changed"]
    assert standings == [("active", "restricted"), ("restricted", "suspended"),
                         ("suspended", "terminated"), ("terminated", "reinstated")]
    # The next renewal carries January forward; the new card pays it all
    assert kinds.index("invoice.carried_forward") > kinds.index("invoice.issued")
    assert kinds[-3:] == ["payment.succeeded", "invoice.paid", "account.standing_changed"]
    paid = [body for kind, body in acme if kind == "invoice.paid"][-1]
    assert (paid["amount_due"], paid["currency"]) == (0, "EUR")
    # A lost card: a hard decline, and a new method is required
    lost_kinds = [kind for kind, _ in lost]
    assert lost_kinds[:3] == ["invoice.issued", "payment.failed", "payment_method.required"]
